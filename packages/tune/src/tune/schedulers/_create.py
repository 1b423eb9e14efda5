"""Schedulers by name, as Ray Tune's ``create_scheduler`` offers them (for configs and command lines)."""

from __future__ import annotations

from typing import Any

import tune_schedulers
from tune_schedulers import TrialScheduler

# Ray Tune's names, plus tune's own schedulers. Values are attribute names of tune_schedulers, looked up
# on use so that PB2 (numpy, scipy) loads only when asked for.
_SCHEDULERS = {
    "fifo": "FIFOScheduler",
    "async_hyperband": "AsyncHyperBandScheduler",
    "asynchyperband": "AsyncHyperBandScheduler",
    "asha": "ASHAScheduler",
    "promotion_asha": "PromotionASHAScheduler",
    "median_stopping_rule": "MedianStoppingRule",
    "medianstopping": "MedianStoppingRule",
    "hyperband": "HyperBandScheduler",
    "hb_bohb": "HyperBandForBOHB",
    "pbt": "PopulationBasedTraining",
    "pbt_replay": "PopulationBasedTrainingReplay",
    "pb2": "PB2",
    "resource_changing": "ResourceChangingScheduler",
}


def create_scheduler(scheduler: str, **kwargs: Any) -> TrialScheduler:
    """The scheduler registered under ``scheduler`` (case-insensitive), built with ``kwargs``.

    Unlike Ray Tune, keyword arguments the scheduler does not take are an error, not silently dropped:
    a misspelt ``grace_period`` must not quietly run with the default.
    """
    key = scheduler.lower()
    if key not in _SCHEDULERS:
        raise ValueError(f"create_scheduler: unknown scheduler {scheduler!r}; known: {', '.join(_SCHEDULERS)}")
    instance: TrialScheduler = getattr(tune_schedulers, _SCHEDULERS[key])(**kwargs)
    return instance
