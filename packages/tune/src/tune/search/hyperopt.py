"""``ray.tune.search.hyperopt``: hyperopt's TPE as a searcher (needs the extra ``tune-search[hyperopt]``)."""

from tune_search import HyperOptSearch

__all__ = ["HyperOptSearch"]
