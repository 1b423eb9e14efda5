"""TensorBoard event files per trial, with tensorboardX (the optional extra ``tune-controller[tensorboard]``).

tensorboardX is imported when an experiment with this logger starts, never by ``import tune_controller``.
Each trial's directory gets event files holding every numeric metric as a scalar (tag ``tune/<key>``,
nested keys joined with ``/``, step = ``training_iteration``), and at the trial's end its parameters
and final metrics for TensorBoard's HParams dashboard. tensorboardX writes from its own thread and
flushes every ``flush_secs``; the driver loop only builds one event per result.

Unlike Ray Tune, which adds its TensorBoard logger whenever tensorboardX is installed, this one is
opt-in: building the protobuf events costs the driver about 0.2 ms per result (docs/running-experiments.md),
more than the rest of the loop's work on a result.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from tune_controller._callback import Callback
from tune_controller._flatten import flatten
from tune_trial import Trial, result_keys

logger = logging.getLogger(__name__)

EXTRA_HINT = "install the extra tune-controller[tensorboard] (or tensorboardX itself)"
_NOT_LOGGED = frozenset({result_keys.TRAINING_ITERATION, result_keys.TIMESTAMP, result_keys.TRIAL_ID, "config"})
_HPARAM_TYPES = (str, bool, int, float)


def tensorboard_available() -> bool:
    """Whether tensorboardX can be imported (found without importing it)."""
    return importlib.util.find_spec("tensorboardX") is not None


class TBXLoggerCallback(Callback):
    """Writes each trial's results as TensorBoard scalars, and its hyperparameters at its end.

    On by default when tensorboardX is installed (as in Ray Tune); view with
    ``tensorboard --logdir <storage_path>/<experiment name>``.
    """

    def __init__(self, flush_secs: float = 10.0) -> None:
        if not tensorboard_available():
            raise ImportError(f"TBXLoggerCallback needs tensorboardX: {EXTRA_HINT}")
        self._flush_secs = flush_secs
        self._writers: dict[str, Any] = {}
        self._summary: Any = None
        self._proto: Any = None

    def setup(self, **info: Any) -> None:
        # Imported here, once, before any trial starts: its cost (protobuf, numpy) is paid only by
        # experiments that log to TensorBoard.
        self._summary = importlib.import_module("tensorboardX")
        self._proto = importlib.import_module("tensorboardX.proto.summary_pb2")

    def on_trial_start(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._close(trial.trial_id)  # resumed after a pause: a new events file, TensorBoard merges them
        self._writers[trial.trial_id] = self._summary.SummaryWriter(
            logdir=str(info["trial_dir"]), flush_secs=self._flush_secs
        )

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        writer = self._writers.get(trial.trial_id)
        if writer is None:
            return
        # One event holding every scalar of the result: a third of the cost of one event per scalar.
        values = [
            self._proto.Summary.Value(tag=f"tune/{key}", simple_value=value) for key, value in _scalars(result).items()
        ]
        if values:
            step = int(result.get(result_keys.TRAINING_ITERATION, 0))
            writer.file_writer.add_summary(self._proto.Summary(value=values), global_step=step)

    def on_trial_complete(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._end(trial)

    def on_trial_error(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._end(trial)

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        for trial_id in list(self._writers):
            self._close(trial_id)

    def _end(self, trial: Trial) -> None:
        writer = self._writers.get(trial.trial_id)
        if writer is not None:
            self._log_hparams(writer, trial)
        self._close(trial.trial_id)

    def _log_hparams(self, writer: Any, trial: Trial) -> None:
        """The trial's parameters next to its final metrics (HParams dashboard). Values TensorBoard
        cannot show as hyperparameters (lists, objects) are left out."""
        parameters = {key: value for key, value in flatten(trial.config).items() if isinstance(value, _HPARAM_TYPES)}
        metrics = {f"tune/{key}": value for key, value in _scalars(trial.last_result or {}).items()}
        if not parameters:
            return
        experiment, start, end = self._summary.summary.hparams(hparam_dict=parameters, metric_dict=metrics)
        for summary in (experiment, start, end):
            writer.file_writer.add_summary(summary)

    def _close(self, trial_id: str) -> None:
        writer = self._writers.pop(trial_id, None)
        if writer is not None:
            writer.close()


def _scalars(result: Mapping[str, Any]) -> dict[str, float]:
    """The numeric, finite values of ``result`` (flattened), bookkeeping keys left out."""
    return {
        key: float(value)
        for key, value in flatten(result).items()
        if key not in _NOT_LOGGED
        and isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    }
