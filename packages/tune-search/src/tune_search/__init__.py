"""tune-search: search spaces, variant generation and searchers (numpy and scipy only)."""

from importlib.metadata import version

from tune_search._basic_variant import BasicVariantGenerator
from tune_search._bohb import TuneBOHB
from tune_search._cmaes._searcher import CMAESSearch
from tune_search._domains import (
    Categorical,
    Domain,
    Float,
    Function,
    Integer,
    Normal,
    choice,
    grid_search,
    lograndint,
    loguniform,
    qlograndint,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    sample_from,
    uniform,
)
from tune_search._encoding import UnitEncoding
from tune_search._errors import SearcherBusyError, SearchFinishedError
from tune_search._gp._searcher import GPSearch
from tune_search._hyperopt import HyperOptSearch
from tune_search._optuna import OptunaSearch
from tune_search._paths import format_path
from tune_search._quasi_random import QuasiRandomSearch
from tune_search._random import RandomSearch
from tune_search._searcher import FINISHED, Searcher, Suggestion
from tune_search._space import Condition, SearchSpace, parse_space
from tune_search._tpe import TPESearch
from tune_search._wrappers import ConcurrencyLimiter, Repeater

__version__ = version("tune-search")

__all__ = [
    "FINISHED",
    "BasicVariantGenerator",
    "CMAESSearch",
    "Categorical",
    "ConcurrencyLimiter",
    "Condition",
    "Domain",
    "Float",
    "Function",
    "GPSearch",
    "HyperOptSearch",
    "Integer",
    "Normal",
    "OptunaSearch",
    "QuasiRandomSearch",
    "RandomSearch",
    "Repeater",
    "SearchFinishedError",
    "SearchSpace",
    "Searcher",
    "SearcherBusyError",
    "Suggestion",
    "TPESearch",
    "TuneBOHB",
    "UnitEncoding",
    "choice",
    "format_path",
    "grid_search",
    "lograndint",
    "loguniform",
    "parse_space",
    "qlograndint",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "sample_from",
    "uniform",
]
