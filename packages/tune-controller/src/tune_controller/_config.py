"""Experiment configuration, with Ray Tune's names and defaults."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tune_controller._stoppers import Stopper
from tune_schedulers import TrialScheduler
from tune_search import Searcher
from tune_trial import Trial, as_number

if TYPE_CHECKING:
    from tune_controller._callback import Callback

StopCondition = Stopper | Mapping[str, float] | Callable[[str, Mapping[str, Any]], bool]
"""A Stopper, ``{"metric": threshold}`` (stop once ``result[metric] >= threshold``) or ``f(trial_id, result)``."""


@dataclass
class TuneConfig:
    """What to search and how: the metric, the searcher, the scheduler, the budget."""

    metric: str | None = None
    mode: str | None = None
    search_alg: Searcher | None = None
    scheduler: TrialScheduler | None = None
    num_samples: int = 1
    max_concurrent_trials: int | None = None
    time_budget_s: float | None = None
    reuse_actors: bool = True
    trial_name_creator: Callable[[Trial], str] | None = None
    """Names trials (shown in progress tables and ``get_context().get_trial_name()``)."""
    trial_dirname_creator: Callable[[Trial], str] | None = None
    """Names trials' directories under the experiment's (one path component)."""

    def __post_init__(self) -> None:
        if self.mode not in (None, "min", "max"):
            raise ValueError(f"TuneConfig.mode must be 'min' or 'max', got {self.mode!r}")
        if self.num_samples == 0 or self.num_samples < -1:
            raise ValueError(
                f"TuneConfig.num_samples must be a positive number or -1 (sample until stopped), got {self.num_samples}"
            )
        if self.max_concurrent_trials is not None and self.max_concurrent_trials < 1:
            raise ValueError(f"TuneConfig.max_concurrent_trials must be >= 1 or None, got {self.max_concurrent_trials}")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ValueError(f"TuneConfig.time_budget_s must be > 0, got {self.time_budget_s}")


@dataclass
class FailureConfig:
    """How to handle failing trials: retries from the latest checkpoint, or stop everything.

    ``fail_fast=True`` ends the experiment at the first trial that fails for good (the others are
    stopped, ``fit()`` returns the grid with the error); ``fail_fast="raise"`` (Ray Tune's debugging
    mode) raises the trainable's exception from ``fit()`` instead.
    """

    max_failures: int = 0
    fail_fast: bool | str = False

    def __post_init__(self) -> None:
        if isinstance(self.fail_fast, str):
            if self.fail_fast.lower() != "raise":
                raise ValueError(f"FailureConfig.fail_fast must be a bool or 'raise', got {self.fail_fast!r}")
            self.fail_fast = "raise"
        if self.max_failures < -1:
            raise ValueError(
                f"FailureConfig.max_failures must be >= 0, or -1 for unlimited retries, got {self.max_failures}"
            )


@dataclass
class CheckpointConfig:
    """Which checkpoints to keep, and when class Trainables save them.

    ``num_to_keep`` keeps that many per trial: the best by ``checkpoint_score_attribute`` (in
    ``checkpoint_score_order``), or the most recent without one; the latest is never deleted, since
    a resumed trial restarts from it. ``checkpoint_frequency`` and ``checkpoint_at_end`` apply to
    class Trainables (function trainables report checkpoints themselves).
    """

    num_to_keep: int | None = None
    checkpoint_score_attribute: str | None = None
    checkpoint_score_order: str = "max"
    checkpoint_frequency: int = 0
    checkpoint_at_end: bool = False

    def __post_init__(self) -> None:
        if self.num_to_keep is not None and self.num_to_keep < 1:
            raise ValueError(f"CheckpointConfig.num_to_keep must be >= 1 or None, got {self.num_to_keep}")
        if self.checkpoint_score_order not in ("min", "max"):
            raise ValueError(
                f"CheckpointConfig.checkpoint_score_order must be 'min' or 'max', got {self.checkpoint_score_order!r}"
            )
        if self.checkpoint_frequency < 0:
            raise ValueError(f"CheckpointConfig.checkpoint_frequency must be >= 0, got {self.checkpoint_frequency}")

    def score(self, metrics: Mapping[str, Any], order: int) -> float:
        """How good a checkpoint is (higher is better): the configured attribute in its order, else
        recency (``order`` counts reports)."""
        attribute = self.checkpoint_score_attribute
        if attribute is None:
            return float(order)
        value = as_number(metrics.get(attribute))
        if value is None or math.isnan(value):
            return -math.inf
        return value if self.checkpoint_score_order == "max" else -value


@dataclass
class RunConfig:
    """Where results go, when trials stop, and who is told about progress."""

    name: str | None = None
    storage_path: str | None = None
    """A local or shared directory, or a URI of remote storage (``s3://bucket/prefix``, ``gs://...``,
    ``file:///...``: anything ``pyarrow.fs.FileSystem.from_uri`` opens; needs ``tune-controller[storage]``)."""
    storage_filesystem: Any = None
    """A ``pyarrow.fs.FileSystem`` (or an fsspec filesystem) in which ``storage_path`` is a path."""
    stop: StopCondition | None = None
    callbacks: Sequence[Callback] = field(default_factory=list)
    failure_config: FailureConfig = field(default_factory=FailureConfig)
    checkpoint_config: CheckpointConfig = field(default_factory=CheckpointConfig)
    verbose: int = 1
    """0: silent; 1: the status table; 2: and one line per result; 3: and every result in full."""
    progress_reporter: Callback | None = None
    """Replaces the default status table (a :class:`ProgressReporter` with other columns, say)."""

    def __post_init__(self) -> None:
        if self.verbose not in (0, 1, 2, 3):
            raise ValueError(f"RunConfig.verbose must be 0, 1, 2 or 3, got {self.verbose!r}")
