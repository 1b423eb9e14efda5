"""``ray.tune.logger``: the per-trial file loggers (from tune-controller)."""

from tune_controller import CSVLoggerCallback, JsonLoggerCallback, LoggerCallback

__all__ = ["CSVLoggerCallback", "JsonLoggerCallback", "LoggerCallback"]
