"""``ray.tune.search``: searchers and the Searcher contract (from tune-search)."""

from tune_search import (
    BasicVariantGenerator,
    ConcurrencyLimiter,
    QuasiRandomSearch,
    RandomSearch,
    Repeater,
    Searcher,
)

__all__ = [
    "BasicVariantGenerator",
    "ConcurrencyLimiter",
    "QuasiRandomSearch",
    "RandomSearch",
    "Repeater",
    "Searcher",
]
