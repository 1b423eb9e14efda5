"""``ray.tune.logger``: the per-trial file loggers (from tune-controller).

``TBXLoggerCallback`` writes TensorBoard event files; unlike Ray Tune's it is not added by default
(pass it in ``RunConfig(callbacks=[...])``): it costs the driver time on every result.
"""

from tune_controller import CSVLoggerCallback, JsonLoggerCallback, LoggerCallback, TBXLoggerCallback

__all__ = ["CSVLoggerCallback", "JsonLoggerCallback", "LoggerCallback", "TBXLoggerCallback"]
