"""``ray.tune.schedulers``: the trial schedulers (from tune-schedulers)."""

from typing import Any

from tune_schedulers import (
    ASHAScheduler,
    AsyncHyperBandScheduler,
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
    "PB2",  # noqa: F822 - provided by __getattr__, on first use
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "FIFOScheduler",
    "HyperBandForBOHB",
    "HyperBandScheduler",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "PopulationBasedTrainingReplay",
    "PromotionASHAScheduler",
    "ResourceChangingScheduler",
    "TrialScheduler",
]
