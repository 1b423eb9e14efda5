"""``ray.tune.schedulers.pb2``: Population Based Bandits (needs the ``tune-schedulers[pb2]`` extra's numpy, scipy)."""

from tune_schedulers import PB2

__all__ = ["PB2"]
