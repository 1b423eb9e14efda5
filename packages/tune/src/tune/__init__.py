"""tune: hyperparameter tuning on Ray with Ray Tune's API.

Port Ray Tune code by changing ``from ray import tune`` to ``import tune``.
"""

from importlib.metadata import version

from tune import logger, schedulers, search, stopper
from tune._tuner import Tuner
from tune.schedulers import create_scheduler
from tune.search import create_searcher
from tune_controller import (
    Callback,
    CheckpointConfig,
    FailureConfig,
    ProgressReporter,
    Result,
    ResultGrid,
    RunConfig,
    Stopper,
    Trainable,
    TuneConfig,
    with_parameters,
    with_resources,
)
from tune_search import (
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
from tune_trial import Checkpoint, PlacementGroupFactory, TuneError, get_checkpoint, get_context, report
from tune_trial import TrialContext as TuneContext

__version__ = version("tune-hpo")

__all__ = [
    "Callback",
    "Checkpoint",
    "CheckpointConfig",
    "FailureConfig",
    "PlacementGroupFactory",
    "ProgressReporter",
    "Result",
    "ResultGrid",
    "RunConfig",
    "Stopper",
    "Trainable",
    "TuneConfig",
    "TuneContext",
    "TuneError",
    "Tuner",
    "choice",
    "create_scheduler",
    "create_searcher",
    "get_checkpoint",
    "get_context",
    "grid_search",
    "logger",
    "lograndint",
    "loguniform",
    "qlograndint",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "report",
    "sample_from",
    "schedulers",
    "search",
    "stopper",
    "uniform",
    "with_parameters",
    "with_resources",
]
