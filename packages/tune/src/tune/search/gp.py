"""``tune.search.gp``: Gaussian-process Bayesian optimisation (tune's own; Ray Tune has no native GP
searcher module, its ``bayesopt`` wraps a third-party library)."""

from tune_search import GPSearch

__all__ = ["GPSearch"]
