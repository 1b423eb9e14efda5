"""What a trial needs from the machine it runs on."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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

    def to_json(self) -> dict[str, Any]:
        """A JSON-able description from which :meth:`from_json` rebuilds this exact request.

        Unlike :meth:`as_dict` (the amounts), it keeps a placement group's bundles and strategy: a
        journal that stored only the sums would restore a multi-bundle trial as a single bundle.
        """
        return self.as_dict()

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Resources:
        """Inverse of :meth:`to_json`, for plain requests and placement groups alike."""
        if "bundles" in data:
            return PlacementGroupFactory(data["bundles"], strategy=data.get("strategy", "PACK"))
        return Resources.from_dict(data)


PLACEMENT_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


@dataclass(frozen=True, init=False)
class PlacementGroupFactory(Resources):
    """Several bundles of resources for one trial, placed together by ``strategy`` (Ray Tune's type).

    The trial itself runs in the first bundle; the others are reserved for workers the trial starts
    (on Ray, tasks and actors created inside the trial are placed in its placement group). A first
    bundle ``{}`` means the trial itself needs nothing beyond them. The inherited amounts (``cpu``,
    ``gpu``, ``memory``, ``custom``) are the sums over the bundles: what the trial takes from the
    cluster, so schedulers and executors that count resources need nothing else.
    ``strategy`` is Ray's: ``PACK`` (as few nodes as possible), ``SPREAD`` (as many as possible),
    ``STRICT_PACK`` (one node) or ``STRICT_SPREAD`` (one node per bundle).
    """

    bundles: tuple[dict[str, float], ...] = ()
    strategy: str = "PACK"

    def __init__(self, bundles: Sequence[Mapping[str, float]], strategy: str = "PACK") -> None:
        if strategy not in PLACEMENT_STRATEGIES:
            raise ValueError(f"PlacementGroupFactory: strategy must be one of {PLACEMENT_STRATEGIES}, got {strategy!r}")
        if isinstance(bundles, Mapping) or not bundles:
            raise ValueError("PlacementGroupFactory: bundles must be a non-empty list of dicts, such as [{'CPU': 1}]")
        parsed: list[dict[str, float]] = []
        for index, bundle in enumerate(bundles):
            if not isinstance(bundle, Mapping):
                raise TypeError(f"PlacementGroupFactory: bundle {index} must be a dict, got {type(bundle).__name__}")
            try:
                amounts = Resources.from_dict(bundle).as_dict()
            except ValueError as error:
                raise ValueError(f"PlacementGroupFactory: bundle {index}: {error}") from error
            if index and not amounts:
                raise ValueError(f"PlacementGroupFactory: bundle {index} is empty; only the first bundle may be")
            parsed.append(amounts)
        totals: dict[str, float] = {}
        for amounts in parsed:
            for name, amount in amounts.items():
                totals[name] = totals.get(name, 0.0) + amount
        total = Resources.from_dict(totals)
        for name in ("cpu", "gpu", "memory", "custom"):
            object.__setattr__(self, name, getattr(total, name))
        object.__setattr__(self, "bundles", tuple(parsed))
        object.__setattr__(self, "strategy", strategy)

    def __hash__(self) -> int:
        return hash((self.strategy, tuple(frozenset(bundle.items()) for bundle in self.bundles)))

    def to_json(self) -> dict[str, Any]:
        return {"bundles": [dict(bundle) for bundle in self.bundles], "strategy": self.strategy}

    @property
    def head_bundle(self) -> Resources:
        """What the trial's own process needs: its first bundle."""
        return Resources.from_dict(self.bundles[0])

    @property
    def required_resources(self) -> dict[str, float]:
        """The sums over all bundles, by Ray's resource names (as Ray Tune's factory has them)."""
        return self.as_dict()
