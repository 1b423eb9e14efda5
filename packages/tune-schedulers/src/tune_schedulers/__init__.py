"""tune-schedulers: trial schedulers as pure decision makers (depends on tune-trial only)."""

from importlib.metadata import version
from typing import Any

from tune_schedulers._asha import ASHAScheduler, AsyncHyperBandScheduler, PromotionASHAScheduler
from tune_schedulers._hyperband import HyperBandForBOHB, HyperBandScheduler
from tune_schedulers._median import MedianStoppingRule
from tune_schedulers._pbt import PopulationBasedTraining
from tune_schedulers._pbt_replay import PopulationBasedTrainingReplay
from tune_schedulers._quantile import RunningQuantile
from tune_schedulers._resource_changing import DistributeResources, ResourceChangingScheduler
from tune_schedulers._scheduler import FIFOScheduler, TrialScheduler

__version__ = version("tune-schedulers")


def __getattr__(name: str) -> Any:
    # PB2 needs numpy and scipy (the "pb2" extra): load it on first use, not with the package.
    if name == "PB2":
        from tune_schedulers._pb2 import PB2

        return PB2
    raise AttributeError(f"module 'tune_schedulers' has no attribute {name!r}")


__all__ = [
    "PB2",
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "DistributeResources",
    "FIFOScheduler",
    "HyperBandForBOHB",
    "HyperBandScheduler",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "PopulationBasedTrainingReplay",
    "PromotionASHAScheduler",
    "ResourceChangingScheduler",
    "RunningQuantile",
    "TrialScheduler",
]
