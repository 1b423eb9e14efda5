"""tune-schedulers: trial schedulers as pure decision makers (depends on tune-trial only)."""

from importlib.metadata import version

from tune_schedulers._asha import ASHAScheduler, AsyncHyperBandScheduler, PromotionASHAScheduler
from tune_schedulers._hyperband import HyperBandScheduler
from tune_schedulers._median import MedianStoppingRule
from tune_schedulers._pbt import PopulationBasedTraining
from tune_schedulers._quantile import RunningQuantile
from tune_schedulers._scheduler import FIFOScheduler, TrialScheduler

__version__ = version("tune-schedulers")

__all__ = [
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "FIFOScheduler",
    "HyperBandScheduler",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "PromotionASHAScheduler",
    "RunningQuantile",
    "TrialScheduler",
]
