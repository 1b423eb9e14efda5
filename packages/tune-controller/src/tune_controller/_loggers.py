"""Loggers: each trial's results and parameters written in its directory, as Ray Tune writes them.

``result.json`` (one JSON object per line), ``progress.csv`` and ``params.json``. They are callbacks,
on by default (set ``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1`` to turn them off, as in Ray Tune). Files
stay open while their trial runs and are flushed once per loop turn, not once per result.
Nothing reads them back: the ResultGrid comes from the controller, so they are for people and tools.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tune_controller._callback import Callback
from tune_controller._flatten import flatten
from tune_trial import Trial

DISABLE_ENVIRONMENT_VARIABLE = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"


class LoggerCallback(Callback):
    """Keeps one open file per running trial; subclasses say what to write."""

    filename = ""

    def __init__(self) -> None:
        self._files: dict[str, IO[str]] = {}

    def on_trial_start(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        directory = Path(info["trial_dir"])
        directory.mkdir(parents=True, exist_ok=True)
        self._close(trial.trial_id)  # resumed after a pause: reopen, appending
        self._files[trial.trial_id] = open(directory / self.filename, "a", encoding="utf-8", newline="")  # noqa: SIM115
        self.on_file_open(trial, directory)

    def on_file_open(self, trial: Trial, directory: Path) -> None:
        """A trial's file was opened (at its start, or when it resumes)."""

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        file = self._files.get(trial.trial_id)
        if file is not None:
            self.write(trial, file, result)

    def write(self, trial: Trial, file: IO[str], result: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def on_step_end(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        for file in self._files.values():
            file.flush()

    def on_trial_complete(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._close(trial.trial_id)

    def on_trial_error(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._close(trial.trial_id)

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        for trial_id in list(self._files):
            self._close(trial_id)

    def _close(self, trial_id: str) -> None:
        file = self._files.pop(trial_id, None)
        if file is not None:
            file.close()


class JsonLoggerCallback(LoggerCallback):
    """``result.json``: every result as one JSON line; ``params.json``: the trial's config."""

    filename = "result.json"

    def on_file_open(self, trial: Trial, directory: Path) -> None:
        (directory / "params.json").write_text(json.dumps(dict(trial.config), indent=2, default=repr))

    def write(self, trial: Trial, file: IO[str], result: Mapping[str, Any]) -> None:
        file.write(json.dumps(dict(result), default=repr) + "\n")


class CSVLoggerCallback(LoggerCallback):
    """``progress.csv``: one row per result, nested keys flattened with ``/``; the columns are the
    first result's (keys that appear later are left out, as in Ray Tune)."""

    filename = "progress.csv"

    def __init__(self) -> None:
        super().__init__()
        self._writers: dict[str, csv.DictWriter[str]] = {}

    def write(self, trial: Trial, file: IO[str], result: Mapping[str, Any]) -> None:
        row = flatten(result)
        writer = self._writers.get(trial.trial_id)
        if writer is None:
            writer = csv.DictWriter(file, fieldnames=list(row), extrasaction="ignore")
            if file.tell() == 0:
                writer.writeheader()
            self._writers[trial.trial_id] = writer
        writer.writerow(row)

    def _close(self, trial_id: str) -> None:
        self._writers.pop(trial_id, None)
        super()._close(trial_id)


def default_loggers() -> list[Callback]:
    """The loggers a Tuner adds unless the user turned them off."""
    if os.environ.get(DISABLE_ENVIRONMENT_VARIABLE, "0") not in ("", "0"):
        return []
    return [JsonLoggerCallback(), CSVLoggerCallback()]
