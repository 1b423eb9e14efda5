"""The Searcher contract: how the controller (or a plain loop) gets configurations."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Final, Literal

FINISHED: Final = "FINISHED"
"""Returned by ``suggest`` when the searcher will never suggest again."""

Suggestion = dict[str, Any] | None | Literal["FINISHED"]


class Searcher:
    """Base class of every searcher.

    ``suggest`` answers a config, ``None`` ("ask again later", e.g. a concurrency limit is reached)
    or :data:`FINISHED`. Results flow back through ``on_trial_result`` and ``on_trial_complete``.
    State is a JSON-able dict so an experiment journal can hold it.
    """

    FINISHED: Final = FINISHED

    def __init__(self, metric: str | None = None, mode: str | None = None) -> None:
        self.metric = metric
        self.mode = mode
        if mode not in (None, "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'min' or 'max', got {mode!r}")

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        """Receive the experiment's metric, mode and space; False if this searcher had its own.

        ``spec`` carries experiment settings some searchers need (``num_samples``).
        """
        if metric is not None:
            self.metric = metric
        if mode is not None:
            self.mode = mode
        return True

    def max_trials(self, num_samples: int) -> int | None:
        """How many trials to ask for, given the user's ``num_samples`` (None: until FINISHED).

        The controller stops asking after this many; searchers that expand ``num_samples`` (grid
        search repeats every grid point ``num_samples`` times) override it.
        """
        return None if num_samples < 0 else num_samples

    def suggest(self, trial_id: str) -> Suggestion:
        raise NotImplementedError

    def on_trial_result(self, trial_id: str, result: Mapping[str, Any]) -> None:
        """An intermediate result; most searchers only learn from complete trials."""

    def on_trial_complete(
        self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False
    ) -> None:
        """The trial ended, with its last result, or with ``error=True`` when it failed."""

    def get_state(self) -> dict[str, Any]:
        return {"metric": self.metric, "mode": self.mode}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.metric = state["metric"]
        self.mode = state["mode"]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to ``path`` as JSON (atomically, so a crash leaves the old file)."""
        temporary = f"{os.fspath(path)}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(self.get_state(), file)
        os.replace(temporary, path)

    def restore(self, path: str | os.PathLike[str]) -> None:
        with open(path, encoding="utf-8") as file:
            self.set_state(json.load(file))
