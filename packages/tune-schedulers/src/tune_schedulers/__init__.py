"""tune-schedulers: trial schedulers as pure decision makers (depends on tune-trial only)."""

from importlib.metadata import version

from tune_schedulers._scheduler import FIFOScheduler, TrialScheduler

__version__ = version("tune-schedulers")

__all__ = ["FIFOScheduler", "TrialScheduler"]
