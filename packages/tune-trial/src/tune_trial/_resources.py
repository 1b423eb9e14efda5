"""What a trial needs from the machine it runs on."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resources:
    """Resources one trial holds while it runs.

    Amounts are per trial; ``custom`` holds named resources such as a cluster's accelerator types.
    """

    cpu: float = 1.0
    gpu: float = 0.0
    memory: float = 0.0
    custom: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        amounts = {"cpu": self.cpu, "gpu": self.gpu, "memory": self.memory, **self.custom}
        for name, amount in amounts.items():
            if not isinstance(amount, (int, float)) or math.isnan(amount) or amount < 0:
                raise ValueError(f"Resources: {name!r} must be a non-negative number, got {amount!r}")
        object.__setattr__(self, "custom", dict(self.custom))

    def __hash__(self) -> int:
        # Executors pool idle workers by the resources they hold, so Resources must be hashable.
        return hash((self.cpu, self.gpu, self.memory, frozenset(self.custom.items())))

    def as_dict(self) -> dict[str, float]:
        """Every non-zero amount by name, in the vocabulary Ray and the JSON journal use."""
        amounts = {"CPU": self.cpu, "GPU": self.gpu, "memory": self.memory, **self.custom}
        return {name: float(amount) for name, amount in amounts.items() if amount}

    @classmethod
    def from_dict(cls, amounts: Mapping[str, float]) -> Resources:
        """Inverse of :meth:`as_dict`; also accepts lower-case ``cpu``/``gpu``."""
        remaining = dict(amounts)
        cpu = remaining.pop("CPU", remaining.pop("cpu", 0.0))
        gpu = remaining.pop("GPU", remaining.pop("gpu", 0.0))
        memory = remaining.pop("memory", 0.0)
        return cls(cpu=cpu, gpu=gpu, memory=memory, custom=remaining)
