"""tune-controller: the Tuner, the driver loop and an in-process executor (no Ray needed)."""

from importlib.metadata import version

from tune_controller._callback import Callback
from tune_controller._config import CheckpointConfig, FailureConfig, RunConfig, StopCondition, TuneConfig
from tune_controller._controller import TuneController
from tune_controller._events import TrialCheckpointed, TrialEnded, TrialEvent, TrialReported
from tune_controller._executor import Executor, TrainableFunction
from tune_controller._inprocess import InProcessExecutor
from tune_controller._loggers import CSVLoggerCallback, JsonLoggerCallback, LoggerCallback
from tune_controller._progress import NotebookProgressReporter, ProgressReporter, TrialResultPrinter
from tune_controller._result_grid import Result, ResultGrid
from tune_controller._session import TrialLaunch, TrialRunSession, TrialStopped
from tune_controller._stoppers import (
    CombinedStopper,
    ExperimentPlateauStopper,
    FunctionStopper,
    MaximumIterationStopper,
    NoopStopper,
    Stopper,
    ThresholdStopper,
    TimeoutStopper,
    TrialPlateauStopper,
)
from tune_controller._tensorboard import TBXLoggerCallback
from tune_controller._trainable import Trainable, release_kept_trainables
from tune_controller._tuner import Tuner
from tune_controller._wrappers import with_parameters, with_resources

__version__ = version("tune-controller")

__all__ = [
    "CSVLoggerCallback",
    "Callback",
    "CheckpointConfig",
    "CombinedStopper",
    "Executor",
    "ExperimentPlateauStopper",
    "FailureConfig",
    "FunctionStopper",
    "InProcessExecutor",
    "JsonLoggerCallback",
    "LoggerCallback",
    "MaximumIterationStopper",
    "NoopStopper",
    "NotebookProgressReporter",
    "ProgressReporter",
    "Result",
    "ResultGrid",
    "RunConfig",
    "StopCondition",
    "Stopper",
    "TBXLoggerCallback",
    "ThresholdStopper",
    "TimeoutStopper",
    "Trainable",
    "TrainableFunction",
    "TrialCheckpointed",
    "TrialEnded",
    "TrialEvent",
    "TrialLaunch",
    "TrialPlateauStopper",
    "TrialReported",
    "TrialResultPrinter",
    "TrialRunSession",
    "TrialStopped",
    "TuneConfig",
    "TuneController",
    "Tuner",
    "release_kept_trainables",
    "with_parameters",
    "with_resources",
]
