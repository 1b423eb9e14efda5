"""tune-search: search spaces, variant generation and searchers (numpy and scipy only)."""

from importlib.metadata import version

from tune_search._basic_variant import BasicVariantGenerator
from tune_search._domains import (
    Categorical,
    Domain,
    Float,
    Function,
    Integer,
    Normal,
    choice,
    grid_search,
    loguniform,
    randint,
    sample_from,
    uniform,
)
from tune_search._searcher import FINISHED, Searcher, Suggestion
from tune_search._space import SearchSpace, parse_space

__version__ = version("tune-search")

__all__ = [
    "FINISHED",
    "BasicVariantGenerator",
    "Categorical",
    "Domain",
    "Float",
    "Function",
    "Integer",
    "Normal",
    "SearchSpace",
    "Searcher",
    "Suggestion",
    "choice",
    "grid_search",
    "loguniform",
    "parse_space",
    "randint",
    "sample_from",
    "uniform",
]
