"""``ray.tune.search``: searchers and the Searcher contract (from tune-search)."""

from tune.search._create import create_searcher
from tune_search import (
    BasicVariantGenerator,
    CMAESSearch,
    ConcurrencyLimiter,
    GPSearch,
    QuasiRandomSearch,
    RandomSearch,
    Repeater,
    Searcher,
    TPESearch,
    TuneBOHB,
    grid_search,
)

__all__ = [
    "BasicVariantGenerator",
    "CMAESSearch",
    "ConcurrencyLimiter",
    "GPSearch",
    "QuasiRandomSearch",
    "RandomSearch",
    "Repeater",
    "Searcher",
    "TPESearch",
    "TuneBOHB",
    "create_searcher",
    "grid_search",
]
