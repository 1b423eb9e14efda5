"""``ray.tune.schedulers.resource_changing_scheduler``: resizing trials while they run."""

from tune_schedulers import DistributeResources, ResourceChangingScheduler

__all__ = ["DistributeResources", "ResourceChangingScheduler"]
