"""A plain-text progress table for terminals and logs."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from tune_controller._callback import Callback
from tune_controller._flatten import flatten
from tune_trial import Trial, TrialStatus


class ProgressReporter(Callback):
    """Prints trial counts by status, the best result so far, and a table of recent trials.

    Printing is rate-limited to one table per ``interval_s``, plus a final one at the end, so
    large experiments do not drown the terminal.
    """

    def __init__(
        self,
        metric: str | None = None,
        mode: str | None = None,
        interval_s: float = 5.0,
        max_rows: int = 20,
        stream: TextIO | None = None,
    ) -> None:
        self._metric = metric
        self._mode = mode
        self._interval_s = interval_s
        self._max_rows = max_rows
        self._stream = stream
        self._last_print = -math.inf
        self._best: tuple[float, Trial] | None = None

    def setup(self, **info: Any) -> None:
        self._metric = self._metric or info.get("metric")
        self._mode = self._mode or info.get("mode") or "min"

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        value = result.get(self._metric) if self._metric else None
        if not isinstance(value, (int, float)) or math.isnan(value):
            return
        sign = 1.0 if self._mode == "min" else -1.0
        if self._best is None or sign * value < sign * self._best[0]:
            self._best = (float(value), trial)

    def on_step_end(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        if time.monotonic() - self._last_print >= self._interval_s:
            self._print(trials)

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        self._print(trials)

    def _print(self, trials: Sequence[Trial]) -> None:
        self._last_print = time.monotonic()
        print(self.render(trials), file=self._stream or sys.stdout, flush=True)

    def render(self, trials: Sequence[Trial]) -> str:
        """The table as text (what gets printed)."""
        counts = Counter(trial.status.value for trial in trials)
        summary = ", ".join(f"{counts[status.value]} {status.value}" for status in TrialStatus if counts[status.value])
        lines = [f"== Status: {len(trials)} trials ({summary or 'none yet'}) =="]
        if self._best is not None and self._metric:
            lines.append(f"Best {self._metric} so far: {self._best[0]:.6g} (trial {self._best[1].trial_id})")
        shown = _rows_to_show(trials, self._max_rows)
        if shown:
            lines.append(self._table(shown))
        if len(shown) < len(trials):
            lines.append(f"... {len(trials) - len(shown)} more trials")
        return "\n".join(lines)

    def _table(self, trials: Sequence[Trial]) -> str:
        parameters = sorted({key for trial in trials for key in flatten(trial.config)})
        header = ["trial", "status", *parameters, "iter"] + ([self._metric] if self._metric else [])
        rows = [header]
        for trial in trials:
            config = flatten(trial.config)
            last = trial.last_result or {}
            row = [trial.trial_id, trial.status.value, *(_fmt(config.get(key, "")) for key in parameters)]
            row.append(_fmt(last.get("training_iteration", "")))
            if self._metric:
                row.append(_fmt(last.get(self._metric, "")))
            rows.append(row)
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def _rows_to_show(trials: Sequence[Trial], max_rows: int) -> list[Trial]:
    """Running trials first, then the most recent others, up to ``max_rows``."""
    running = [trial for trial in trials if trial.status is TrialStatus.RUNNING]
    others = [trial for trial in reversed(trials) if trial.status is not TrialStatus.RUNNING]
    return (running + others)[:max_rows]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)
