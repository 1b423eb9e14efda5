"""``ray.tune.schedulers``: the trial schedulers (from tune-schedulers)."""

from tune_schedulers import FIFOScheduler, TrialScheduler

__all__ = ["FIFOScheduler", "TrialScheduler"]
