"""The outcome of an experiment: one Result per trial, and ways to pick the best."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from tune_controller._flatten import flatten
from tune_controller._journal import JournalReader
from tune_trial import Checkpoint, Trial, TrialStatus, TuneError, as_number


@dataclass(frozen=True)
class Result:
    """What one trial produced: its last result in memory, everything else read from the journal.

    ``metrics_history``, ``metrics_dataframe`` and ``best_checkpoints`` read the experiment's
    journal on each access (one pass over it), so the driver never holds every result.
    """

    trial_id: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    path: str
    journal: JournalReader = field(repr=False, compare=False)
    checkpoint: Checkpoint | None = None
    error: str | None = None
    status: TrialStatus = TrialStatus.TERMINATED
    filesystem: Any = None
    """The ``pyarrow.fs.FileSystem`` that ``path`` is in, for remote storage (None: a local path)."""

    @classmethod
    def of(cls, trial: Trial, path: str, journal: JournalReader, filesystem: Any = None) -> Result:
        return cls(
            trial_id=trial.trial_id,
            config=dict(trial.config),
            metrics=dict(trial.last_result or {}),
            path=path,
            journal=journal,
            checkpoint=trial.checkpoint,
            error=trial.error,
            status=trial.status,
            filesystem=filesystem,
        )

    @property
    def metrics_history(self) -> list[dict[str, Any]]:
        """Every result the trial reported, oldest first."""
        return self.journal.history(self.trial_id)

    @property
    def best_checkpoints(self) -> list[tuple[Checkpoint, dict[str, Any]]]:
        """The checkpoints kept on disk, with the metrics reported with each, best first."""
        return self.journal.checkpoints(self.trial_id)

    @property
    def metrics_dataframe(self) -> Any:
        """Every result of the trial as a pandas DataFrame (needs ``tune-controller[pandas]``)."""
        return _pandas("Result.metrics_dataframe").DataFrame(self.metrics_history)


class ResultGrid(Sequence[Result]):
    """The results of every trial of an experiment, in the order the trials were created.

    Questions about every result (``scope="all"``, ``filter_metric``) are answered in one pass over
    the journal, keeping one result per trial in memory.
    """

    def __init__(
        self, results: Sequence[Result], journal: JournalReader, metric: str | None = None, mode: str | None = None
    ) -> None:
        self._results = list(results)
        self._journal = journal
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
        best = self._best_per_trial(filter_metric, filter_mode) if filter_metric and filter_mode else {}
        rows = []
        for result in self._results:
            row = dict(best.get(result.trial_id, result.metrics))
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
        chosen = self._best_per_trial(metric, mode) if scope == "all" else {}
        best: tuple[float, Result] | None = None
        for result in self._results:
            value = chosen.get(result.trial_id, {}).get(metric) if scope == "all" else result.metrics.get(metric)
            if _number(value) and (best is None or sign * value < best[0]):
                best = (sign * value, result)
        if best is None:
            raise TuneError(f"get_best_result(): no trial reported a numeric value for {metric!r}")
        return best[1]

    def _best_per_trial(self, metric: str, mode: str) -> dict[str, dict[str, Any]]:
        """Each trial's result with the best ``metric``, the first of equals, in one pass."""
        sign = 1.0 if mode == "min" else -1.0
        best: dict[str, dict[str, Any]] = {}
        for trial_id, result in self._journal.results():
            if not result:
                best.pop(trial_id, None)  # the trial started over
                continue
            value = result.get(metric)
            if _number(value) and (trial_id not in best or sign * value < sign * best[trial_id][metric]):
                best[trial_id] = result
        return best


def _number(value: Any) -> TypeGuard[float]:
    """A real number (numpy's too), not NaN."""
    number = as_number(value)
    return number is not None and not math.isnan(number)


def _pandas(caller: str) -> Any:
    try:
        import pandas
    except ImportError as error:
        raise ImportError(f'{caller} needs pandas: pip install "tune-controller[pandas]"') from error
    return pandas
