"""``tune.search.cmaes``: CMA-ES with IPOP/BIPOP restarts and integer margins (tune's own; Ray Tune has
no CMA-ES searcher module)."""

from tune_search import CMAESSearch

__all__ = ["CMAESSearch"]
