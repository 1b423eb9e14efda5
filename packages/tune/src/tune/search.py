"""``ray.tune.search``: searchers and the Searcher contract (from tune-search)."""

from tune_search import BasicVariantGenerator, Searcher

__all__ = ["BasicVariantGenerator", "Searcher"]
