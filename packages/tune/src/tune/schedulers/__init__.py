"""``ray.tune.schedulers``: the trial schedulers (from tune-schedulers)."""

from typing import Any

from tune.schedulers._create import create_scheduler
from tune_schedulers import (
    ASHAScheduler,
    AsyncHyperBandScheduler,
    DistributeResources,
    FIFOScheduler,
    HyperBandForBOHB,
    HyperBandScheduler,
    MedianStoppingRule,
    PopulationBasedTraining,
    PopulationBasedTrainingReplay,
    PromotionASHAScheduler,
    ResourceChangingScheduler,
    TrialScheduler,
)


def __getattr__(name: str) -> Any:
    # PB2 loads numpy and scipy's optimisers: only when it is used.
    if name == "PB2":
        from tune_schedulers import PB2

        return PB2
    raise AttributeError(f"module 'tune.schedulers' has no attribute {name!r}")


__all__ = [
    "PB2",  # provided by __getattr__, on first use
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
    "TrialScheduler",
    "create_scheduler",
]
