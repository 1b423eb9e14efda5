"""``ray.tune.search.optuna``: Optuna's samplers as a searcher (needs the extra ``tune-search[optuna]``)."""

from tune_search import OptunaSearch

__all__ = ["OptunaSearch"]
