"""Names of the keys every reported result carries, filled in by the in-trial session.

Schedulers, stoppers and loggers read these instead of spelling the strings themselves.
"""

from typing import Final

TRAINING_ITERATION: Final = "training_iteration"
"""1-based count of ``report`` calls made by the trial so far (including before any restore)."""

TIME_THIS_ITER_S: Final = "time_this_iter_s"
"""Seconds between this report and the previous one (or the trial's start)."""

TIME_TOTAL_S: Final = "time_total_s"
"""Seconds the trial has run, summed over every run of it (restores included)."""

TIMESTAMP: Final = "timestamp"
"""Wall-clock time of the report, in seconds since the epoch."""

TRIAL_ID: Final = "trial_id"
"""Id of the trial that reported the result."""

DONE: Final = "done"
"""True on the last result of a trial that ended by itself."""

AUTO_FILLED_KEYS: Final = frozenset({TRAINING_ITERATION, TIME_THIS_ITER_S, TIME_TOTAL_S, TIMESTAMP, TRIAL_ID, DONE})
"""Keys the session owns: a trial reporting one of them gets an error rather than a silent overwrite."""
