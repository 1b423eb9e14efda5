"""``ray.tune.schedulers``: the trial schedulers (from tune-schedulers)."""

from tune_schedulers import (
    ASHAScheduler,
    AsyncHyperBandScheduler,
    FIFOScheduler,
    HyperBandScheduler,
    MedianStoppingRule,
    PopulationBasedTraining,
    PromotionASHAScheduler,
    TrialScheduler,
)

__all__ = [
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "FIFOScheduler",
    "HyperBandScheduler",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "PromotionASHAScheduler",
    "TrialScheduler",
]
