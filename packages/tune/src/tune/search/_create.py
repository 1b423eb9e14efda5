"""Searchers by name, as Ray Tune's ``create_searcher`` offers them (for configs and command lines)."""

from __future__ import annotations

import importlib
from typing import Any

from tune_search import Searcher

# name -> (module, class). Imported on use: adapters load their optional third-party library.
_SEARCHERS = {
    "variant_generator": ("tune_search", "BasicVariantGenerator"),
    "random": ("tune_search", "BasicVariantGenerator"),
    "quasi_random": ("tune_search", "QuasiRandomSearch"),
    "bohb": ("tune_search", "TuneBOHB"),
    "tpe": ("tune_search", "TPESearch"),
    "gp": ("tune_search", "GPSearch"),
    "cmaes": ("tune_search", "CMAESSearch"),
    "optuna": ("tune_search", "OptunaSearch"),
    "hyperopt": ("tune_search", "HyperOptSearch"),
}
# Ray Tune's names for searchers tune does not provide (docs/migration.md says why).
_NOT_PROVIDED = ("ax", "bayesopt", "hebo", "nevergrad", "zoopt")


def create_searcher(search_alg: str, **kwargs: Any) -> Searcher:
    """The searcher registered under ``search_alg`` (case-insensitive), built with ``kwargs``.

    Unlike Ray Tune, keyword arguments the searcher does not take are an error, not silently dropped.
    """
    key = search_alg.lower()
    if key not in _SEARCHERS:
        hint = " (a Ray Tune integration tune does not provide, see docs/migration.md)" if key in _NOT_PROVIDED else ""
        raise ValueError(f"create_searcher: unknown searcher {search_alg!r}{hint}; known: {', '.join(_SEARCHERS)}")
    module, name = _SEARCHERS[key]
    searcher: Searcher = getattr(importlib.import_module(module), name)(**kwargs)
    return searcher
