"""The outcome of an experiment: one Result per trial, and ways to pick the best."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tune_controller._flatten import flatten
from tune_trial import Checkpoint, TrialStatus, TuneError


@dataclass(frozen=True)
class Result:
    """What one trial produced."""

    trial_id: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    path: str
    checkpoint: Checkpoint | None = None
    best_checkpoints: Sequence[tuple[Checkpoint, dict[str, Any]]] = field(default_factory=tuple)
    """The checkpoints kept on disk, with the metrics reported with each, best first."""
    error: str | None = None
    status: TrialStatus = TrialStatus.TERMINATED
    metrics_history: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """Every result the trial reported, oldest first."""

    @property
    def metrics_dataframe(self) -> Any:
        """Every result of the trial as a pandas DataFrame (needs ``tune-controller[pandas]``)."""
        return _pandas("Result.metrics_dataframe").DataFrame(list(self.metrics_history))


class ResultGrid(Sequence[Result]):
    """The results of every trial of an experiment, in the order the trials were created."""

    def __init__(self, results: Sequence[Result], metric: str | None = None, mode: str | None = None) -> None:
        self._results = list(results)
        self._metric = metric
        self._mode = mode

    def __len__(self) -> int:
        return len(self._results)

    def __getitem__(self, index: int) -> Result:  # type: ignore[override]
        return self._results[index]

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    @property
    def errors(self) -> list[str]:
        return [result.error for result in self._results if result.error is not None]

    @property
    def num_errors(self) -> int:
        return sum(result.status is TrialStatus.ERROR for result in self._results)

    @property
    def num_terminated(self) -> int:
        return sum(result.status is TrialStatus.TERMINATED for result in self._results)

    def get_dataframe(self, filter_metric: str | None = None, filter_mode: str | None = None) -> Any:
        """One row per trial (needs ``tune-controller[pandas]``): its last result, or with
        ``filter_metric``/``filter_mode`` its best one, plus its config as ``config/<key>`` columns."""
        if (filter_metric is None) != (filter_mode is None):
            raise ValueError("get_dataframe(): give both filter_metric and filter_mode, or neither")
        if filter_mode not in (None, "min", "max"):
            raise ValueError(f"get_dataframe(): filter_mode must be 'min' or 'max', got {filter_mode!r}")
        rows = []
        for result in self._results:
            row = dict(result.metrics)
            if filter_metric is not None:
                candidates = [entry for entry in result.metrics_history if _number(entry.get(filter_metric))]
                if candidates:
                    pick = min if filter_mode == "min" else max
                    row = dict(pick(candidates, key=lambda entry: entry[filter_metric]))
            row.update({f"config/{key}": value for key, value in flatten(result.config).items()})
            rows.append(row)
        return _pandas("ResultGrid.get_dataframe").DataFrame(rows)

    def get_best_result(self, metric: str | None = None, mode: str | None = None, scope: str = "last") -> Result:
        """The result whose ``metric`` is best, by last value (``scope="last"``) or best ever (``"all"``).

        Trials that never reported the metric, or reported NaN, are not candidates.
        """
        metric = metric or self._metric
        mode = mode or self._mode
        if metric is None or mode is None:
            raise ValueError("get_best_result() needs a metric and a mode: pass them here or to TuneConfig")
        if mode not in ("min", "max"):
            raise ValueError(f"get_best_result(): mode must be 'min' or 'max', got {mode!r}")
        if scope not in ("last", "all"):
            raise ValueError(f"get_best_result(): scope must be 'last' or 'all', got {scope!r}")
        sign = 1.0 if mode == "min" else -1.0
        best: tuple[float, Result] | None = None
        for result in self._results:
            values = (
                [result.metrics.get(metric)]
                if scope == "last"
                else [entry.get(metric) for entry in result.metrics_history]
            )
            for value in values:
                if not isinstance(value, (int, float)) or math.isnan(value):
                    continue
                if best is None or sign * value < best[0]:
                    best = (sign * value, result)
        if best is None:
            raise TuneError(f"get_best_result(): no trial reported a numeric value for {metric!r}")
        return best[1]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _pandas(caller: str) -> Any:
    try:
        import pandas
    except ImportError as error:
        raise ImportError(f'{caller} needs pandas: pip install "tune-controller[pandas]"') from error
    return pandas
