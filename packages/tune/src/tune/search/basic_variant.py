"""``ray.tune.search.basic_variant``: Ray Tune's default searcher, under its documented path."""

from tune_search import BasicVariantGenerator

__all__ = ["BasicVariantGenerator"]
