"""Callbacks: hooks into the experiment loop, with Ray Tune's names, arguments and order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tune_trial import Checkpoint, Trial


class Callback:
    """Override the hooks you need. ``iteration`` counts loop turns; ``trials`` is every trial so far;
    hooks about one trial also get ``trial_dir``, the directory of its files (a ``pathlib.Path``),
    and ``trial_name``.

    As in Ray Tune, the scheduler and the searcher hear about a result, a completion or an error
    before the callbacks do, so a callback sees their state after the event. Hooks run on the
    driver's loop: keep them quick, or hand slow work to a thread.
    """

    def setup(self, **info: Any) -> None:
        """Called once before the first trial starts. ``info`` holds ``stop`` (the Stopper),
        ``num_samples``, ``total_num_samples`` (None when unbounded), ``metric``, ``mode`` and
        ``experiment_dir``."""

    def on_step_begin(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        """Start of a loop turn."""

    def on_step_end(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        """End of a loop turn, after every event of the turn was handled."""

    def on_trial_start(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial was started or resumed."""

    def on_trial_restore(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial (re)started from a checkpoint: resumed after a pause, retried after a failure, or
        restarted from another trial's checkpoint (PBT). Called right after ``on_trial_start``."""

    def on_trial_save(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial's checkpoint was received (after ``on_checkpoint``, before ``on_trial_result``; with
        remote storage, once the checkpoint is uploaded, after that result's ``on_trial_result``)."""

    def on_checkpoint(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, checkpoint: Checkpoint, **info: Any
    ) -> None:
        """A trial reported ``checkpoint``, already copied into its directory (with remote storage:
        already uploaded, so this comes after the ``on_trial_result`` of the result it came with)."""

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        """A trial reported ``result``."""

    def on_trial_complete(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial ended without error (by itself, or stopped)."""

    def on_trial_recover(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial failed and will be retried (``FailureConfig.max_failures``); the scheduler and the
        searcher are not told."""

    def on_trial_error(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial failed for good (no retries left); ``trial.error`` holds its traceback."""

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        """The experiment is over."""
