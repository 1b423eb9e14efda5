"""The Searcher contract: how the controller, or a plain loop, gets configurations."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal

from tune_search._errors import SearcherBusyError, SearchFinishedError
from tune_search._paths import format_path
from tune_search._space import SearchSpace, parse_space
from tune_trial import as_number

FINISHED: Final = "FINISHED"
"""Returned by ``suggest`` when the searcher will never suggest again."""

Suggestion = dict[str, Any] | None | Literal["FINISHED"]


class Searcher:
    """Base class of every searcher.

    ``suggest`` answers a config, ``None`` ("ask again later", e.g. a concurrency limit is reached)
    or :data:`FINISHED`. Results flow back through ``on_trial_result`` and ``on_trial_complete``.
    State is a JSON-able dict so an experiment journal can hold it; the space itself is not part of
    it (it may hold functions), so a restored searcher is given the same space again.

    Outside any controller, :meth:`ask` and :meth:`tell` drive a searcher from a plain loop.
    """

    FINISHED: Final = FINISHED
    supports_grid_search: ClassVar[bool] = False
    supports_sample_from: ClassVar[bool] = True
    supports_categorical: ClassVar[bool] = True
    """False for searchers that move along ordered coordinates only (CMA-ES): a ``choice`` has no order."""
    needs_metric: ClassVar[bool] = False
    """Model-based searchers learn from results: they refuse, before any trial starts, to run
    without a metric and a mode."""

    def __init__(self, metric: str | None = None, mode: str | None = None) -> None:
        if mode not in (None, "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'min' or 'max', got {mode!r}")
        self.metric = metric
        self.mode = mode
        self.space: SearchSpace | None = None
        self._asked = 0

    def set_search_properties(
        self, metric: str | None, mode: str | None, space: Mapping[str, Any], **spec: Any
    ) -> bool:
        """Receive the experiment's metric, mode and space.

        The experiment's metric and mode fill in only what the searcher was not given. Returns False
        when the searcher already has a space and another one is passed: the caller must choose.
        ``spec`` carries experiment settings some searchers use (``num_samples``).
        """
        if space and self.space is not None:
            return False
        if mode not in (None, "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'min' or 'max', got {mode!r}")
        self.metric = self.metric or metric
        self.mode = self.mode or mode
        if self.needs_metric and (self.metric is None or self.mode is None):
            raise ValueError(
                f"{type(self).__name__} needs a metric and a mode ('min' or 'max') to learn from results, got "
                f"metric={self.metric!r}, mode={self.mode!r}: pass them to the searcher or to TuneConfig"
            )
        if self.space is None:  # an empty space is a space too: every config is the constants
            parsed = parse_space(space)
            self.check_space(parsed)
            self.space = parsed
        return True

    def check_space(self, space: SearchSpace) -> None:
        """Refuse, naming the parameter, what this searcher cannot represent."""
        name = type(self).__name__
        if space.grids and not self.supports_grid_search:
            raise ValueError(
                f"{format_path(space.grids[0][0])}: {name} does not support grid_search; "
                "use BasicVariantGenerator (the default searcher) for grids"
            )
        if space.functions and not self.supports_sample_from:
            raise ValueError(
                f"{format_path(space.functions[0][0])}: {name} does not support sample_from; "
                "TPESearch, TuneBOHB, RandomSearch, QuasiRandomSearch and BasicVariantGenerator do"
            )
        if not self.supports_categorical:
            for path, domain in space.domains:
                if domain.categorical:
                    raise ValueError(
                        f"{format_path(path)}: {name} does not support categorical parameters (choice); "
                        "GPSearch, TPESearch, RandomSearch, QuasiRandomSearch and BasicVariantGenerator do"
                    )

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

    def on_trial_complete(self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False) -> None:
        """The trial ended, with its last result, or with ``error=True`` when it failed."""

    # -- ask/tell, for plain loops ------------------------------------------------------------

    def ask(self) -> tuple[str, dict[str, Any]]:
        """A new trial id and the config to evaluate."""
        self._require_space("ask")
        trial_id = f"ask_{self._asked:05d}"
        suggestion = self.suggest(trial_id)
        if suggestion == FINISHED:
            raise SearchFinishedError(f"{type(self).__name__} has no configuration left to suggest")
        if suggestion is None:
            raise SearcherBusyError(
                f"{type(self).__name__} asks to wait for running trials: tell() their results first"
            )
        assert isinstance(suggestion, dict)
        self._asked += 1
        return trial_id, suggestion

    def tell(self, trial_id: str, result: Mapping[str, Any] | float, error: bool = False) -> None:
        """Report how ``trial_id`` ended: a result dict, or just the metric's value.

        A NaN or infinite metric counts as a failed trial, never as the best value.
        """
        if not isinstance(result, Mapping):
            if self.metric is None:
                raise ValueError(f"{type(self).__name__}.tell(): pass a dict, or set a metric to tell a value")
            result = {self.metric: result}
        value = as_number(result.get(self.metric)) if self.metric else None
        if value is not None and not math.isfinite(value):
            error = True
        self.on_trial_complete(trial_id, result, error=error)

    def _loss(self, result: Mapping[str, Any] | None) -> float | None:
        """The result's metric as a value to minimise (negated in mode "max"); None when the result,
        the metric or a finite number (Python's or numpy's) is missing: a failure, never the best."""
        value = as_number(result.get(self.metric)) if result is not None and self.metric is not None else None
        if value is None or not math.isfinite(value):
            return None
        return -value if self.mode == "max" else value

    def _require_space(self, caller: str) -> SearchSpace:
        if self.space is None:
            raise RuntimeError(
                f"{type(self).__name__}.{caller}() needs a search space: pass one to the constructor, "
                "or call set_search_properties() first"
            )
        return self.space

    # -- state ------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {"metric": self.metric, "mode": self.mode, "asked": self._asked}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.metric = state["metric"]
        self.mode = state["mode"]
        self._asked = int(state["asked"])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to ``path`` as JSON (atomically, so a crash leaves the old file)."""
        temporary = f"{os.fspath(path)}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(self.get_state(), file)
        os.replace(temporary, path)

    def restore(self, path: str | os.PathLike[str]) -> None:
        with open(path, encoding="utf-8") as file:
            self.set_state(json.load(file))
