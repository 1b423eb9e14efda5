"""Callbacks: hooks into the experiment loop, with Ray Tune's names and arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tune_trial import Trial


class Callback:
    """Override the hooks you need. ``iteration`` counts loop turns; ``trials`` is every trial so far;
    hooks about one trial also get ``trial_dir``, the directory of its files (a ``pathlib.Path``).

    Hooks run on the driver's loop: keep them quick, or hand slow work to a thread.
    """

    def setup(self, **info: Any) -> None:
        """Called once before the first trial starts (``info`` holds ``metric``, ``mode``…)."""

    def on_step_begin(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        """Start of a loop turn."""

    def on_step_end(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        """End of a loop turn, after every event of the turn was handled."""

    def on_trial_start(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial was started or resumed."""

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        """A trial reported ``result``."""

    def on_trial_complete(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial ended without error (by itself, or stopped)."""

    def on_trial_error(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        """A trial failed for good (no retries left)."""

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        """The experiment is over."""
