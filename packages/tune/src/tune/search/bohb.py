"""``ray.tune.search.bohb``: BOHB's searcher, to pair with ``tune.schedulers.HyperBandForBOHB``."""

from tune_search import TuneBOHB

__all__ = ["TuneBOHB"]
