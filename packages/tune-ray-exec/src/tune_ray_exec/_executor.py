"""RayExecutor: every trial in a Ray actor, results streamed back in batches."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.exceptions import RayActorError
from ray.util.placement_group import placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from tune_controller import Executor, TrainableFunction, TrialEnded, TrialEvent, TrialLaunch
from tune_ray_exec._actor import TrialActor
from tune_ray_exec._pool import POOL
from tune_trial import Decision, PlacementGroupFactory, Resources

logger = logging.getLogger(__name__)

_LONG_POLL_S = 1.0
"""How long an actor holds a ``take_events`` call open when its trial has nothing new."""


@dataclass
class _Running:
    actor: ActorHandle[TrialActor]
    resources: Resources
    waiting_for_actor: bool = False  # a new actor not placed yet (no events back from it so far)
    slot_freed: bool = False  # told to stop or pause at a decision point: its actor may take a successor


class RayExecutor(Executor):
    """Runs trials as Ray actors on the cluster ``ray.init()`` connected to.

    Ray is started for the user when no one did (as ``ray.tune`` does); a cluster joined with
    ``ray.init(address=...)`` is used as it is. Either way Ray is left running. Actors are reused
    across trials with the same resources (a function trainable keeps no state between trials),
    which saves Ray's actor start cost for every trial but the first few, and are kept for the next
    experiment of this process while nothing else needs their resources (see ``_pool``). The
    trainable is put in the object store once and sent once to each actor.
    """

    def __init__(self, reuse_actors: bool = True) -> None:
        self._reuse_actors = reuse_actors
        self._trainable_box: list[Any] | None = None
        self._has_trainable: set[ActorHandle[TrialActor]] = set()
        self._running: dict[str, _Running] = {}
        self._trial_of_fetch: dict[Any, str] = {}
        self._used: dict[str, float] = {}
        self._cluster: dict[str, float] = {}
        self._nodes: list[dict[str, float]] = []  # each alive node's resources
        self._recovering = False  # an actor died: free finished actors until new ones are placed
        self._checked_in = False

    def setup(self, trainable: TrainableFunction) -> None:
        if not ray.is_initialized():
            ray.init()
        self._refresh_cluster()
        self._trainable_box = [ray.put(trainable)]

    def _refresh_cluster(self) -> None:
        cluster: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        self._cluster = {name: float(amount) for name, amount in cluster.items()}
        nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
        self._nodes = [node["Resources"] for node in nodes if node["Alive"]]

    def total_resources(self) -> Resources:
        return Resources.from_dict(self._cluster)

    def can_start(self, resources: Resources) -> bool:
        return all(
            self._used.get(name, 0.0) + amount <= self._cluster.get(name, 0.0)
            for name, amount in resources.as_dict().items()
        )

    def check_feasible(self, trial_id: str, resources: Resources) -> None:
        for name, amount in resources.as_dict().items():
            available = self._cluster.get(name, 0.0)
            if amount > available:
                raise ValueError(
                    f"Trial {trial_id} needs {_amount(name, amount)} but the Ray cluster has "
                    f"{_amount(name, available, unit=False)} in all"
                )
        if not isinstance(resources, PlacementGroupFactory):
            return
        # A bundle lives on one node; STRICT_PACK puts all of them on one, STRICT_SPREAD each on its own.
        if resources.strategy == "STRICT_PACK":
            self._check_fits_one_node(trial_id, "all its bundles (STRICT_PACK)", resources.as_dict())
        for index, bundle in enumerate(resources.bundles):
            self._check_fits_one_node(trial_id, f"bundle {index}", bundle)
        if resources.strategy == "STRICT_SPREAD" and len(resources.bundles) > len(self._nodes):
            raise ValueError(
                f"Trial {trial_id} needs its {len(resources.bundles)} bundles on as many nodes (STRICT_SPREAD), "
                f"but the Ray cluster has {len(self._nodes)}"
            )

    def _check_fits_one_node(self, trial_id: str, what: str, amounts: dict[str, float]) -> None:
        if any(all(node.get(name, 0.0) >= amount for name, amount in amounts.items()) for node in self._nodes):
            return
        most = {name: max((node.get(name, 0.0) for node in self._nodes), default=0.0) for name in amounts}
        missing = ", ".join(
            f"{_amount(name, amount)} (a node has {_amount(name, most[name])} at most)"
            for name, amount in amounts.items()
        )
        raise ValueError(f"Trial {trial_id} needs {what} on one node: {missing}; no node of the Ray cluster has that")

    def start(self, launch: TrialLaunch, resources: Resources) -> None:
        if self._trainable_box is None:
            raise RuntimeError("RayExecutor.start() called before setup()")
        if self._reuse_actors and not self._checked_in:
            # Taken at the first start, not in setup: from here on the controller's run is sure to
            # call shutdown, which hands the pool back (a fit failing between setup and run must
            # not keep parked actors from ever being let go).
            POOL.check_in()
            self._checked_in = True
        actor = POOL.take(resources) if self._reuse_actors else None
        created = actor is None
        if actor is None:
            # Idle actors hold their resources: let them go, or the new actor could wait forever for
            # what they hold (trials of another size, as ResourceChangingScheduler makes).
            POOL.kill_idle()
            actor = self._new_actor(resources)
        for name, amount in resources.as_dict().items():
            self._used[name] = self._used.get(name, 0.0) + amount
        box = None if actor in self._has_trainable else self._trainable_box
        self._has_trainable.add(actor)
        fetch = actor.start.remote(box, launch, _LONG_POLL_S)
        self._running[launch.trial_id] = _Running(actor, resources, waiting_for_actor=created)
        self._trial_of_fetch[fetch] = launch.trial_id

    def _new_actor(self, resources: Resources) -> ActorHandle[TrialActor]:
        group = None
        if isinstance(resources, PlacementGroupFactory):
            # The trial's actor takes the first bundle; everything the trial starts is placed in the
            # group too (capture_child_tasks), in the bundles left for it.
            head = resources.head_bundle
            has_head = bool(head.as_dict())
            group = placement_group(list(resources.bundles if has_head else resources.bundles[1:]), resources.strategy)
            strategy = PlacementGroupSchedulingStrategy(
                group, placement_group_bundle_index=0 if has_head else -1, placement_group_capture_child_tasks=True
            )
            resources = head
        options: dict[str, Any] = {
            "num_cpus": resources.cpu,
            "num_gpus": resources.gpu,
            # One thread waits for events, others bring decisions and stops, and a successor may be
            # queued while a stopped trial unwinds.
            "max_concurrency": 8,
        }
        if resources.memory:
            options["memory"] = resources.memory
        if resources.custom:
            options["resources"] = dict(resources.custom)
        if group is not None:
            options["scheduling_strategy"] = strategy
        actor_class = ray.remote(TrialActor)
        actor = cast("ActorHandle[TrialActor]", actor_class.options(**options).remote())
        if group is not None:
            POOL.add_group(actor, group)
        return actor

    def _fetch(self, trial_id: str, running: _Running) -> None:
        self._trial_of_fetch[running.actor.take_events.remote(trial_id, _LONG_POLL_S)] = trial_id

    def poll(self, timeout: float) -> list[TrialEvent]:
        fetches = list(self._trial_of_fetch)
        if not fetches:
            return []
        ready, _ = ray.wait(fetches, num_returns=1, timeout=timeout)
        if not ready:
            return []
        ready, _ = ray.wait(fetches, num_returns=len(fetches), timeout=0)
        events: list[TrialEvent] = []
        for fetch in ready:
            trial_id = self._trial_of_fetch.pop(fetch)
            running = self._running[trial_id]
            try:
                batch: list[TrialEvent] = ray.get(fetch)
            except RayActorError as error:
                POOL.discard(running.actor)
                self._has_trainable.discard(running.actor)
                if running.slot_freed:
                    # It was unwinding after a stop or pause decision: its end is what was asked for.
                    events.append(TrialEnded(trial_id, stopped=True))
                    del self._running[trial_id]
                else:
                    events.append(TrialEnded(trial_id, error=f"The actor running trial {trial_id} died: {error}"))
                    self._recovering = True
                    self._free_slot(running, actor_alive=False)
                    del self._running[trial_id]
                    self._refresh_cluster()  # a node may be gone, and its resources with it
                continue
            events.extend(batch)
            running.waiting_for_actor = False
            if batch and isinstance(batch[-1], TrialEnded):
                if not running.slot_freed:
                    self._free_slot(running, actor_alive=True)
                del self._running[trial_id]
            else:
                self._fetch(trial_id, running)
        return events

    def _free_slot(self, running: _Running, actor_alive: bool) -> None:
        for name, amount in running.resources.as_dict().items():
            self._used[name] -= amount
        # An idle actor keeps its resources. After an actor died (a node lost, say) the cluster may
        # be smaller than new actors were sized for: one waiting to be placed could starve forever
        # behind idle ones, so until every new actor is placed, finished trials free their actors.
        if self._recovering and not any(other.waiting_for_actor for other in self._running.values()):
            self._recovering = False
        if actor_alive and self._reuse_actors and not self._recovering:
            POOL.give_back(running.resources, running.actor)
        else:
            self._has_trainable.discard(running.actor)
            POOL.kill(running.actor)

    def decide(self, trial_id: str, decision: Decision) -> None:
        running = self._running[trial_id]
        running.actor.decide.remote(trial_id, decision)
        if decision is not Decision.CONTINUE and self._reuse_actors and not self._recovering and not running.slot_freed:
            # The trial was waiting in report() and unwinds at once: its actor can take the next
            # trial now, queued behind it there, instead of a round trip later (the pipelining that
            # keeps ASHA's slots busy). Its TrialEnded still comes, from the fetch outstanding.
            running.slot_freed = True
            self._free_slot(running, actor_alive=True)

    def stop(self, trial_id: str) -> None:
        running = self._running.get(trial_id)
        if running is not None and not running.slot_freed:
            running.actor.stop.remote(trial_id)

    def shutdown(self) -> None:
        for running in self._running.values():
            if not running.slot_freed:
                POOL.kill(running.actor)
        self._running.clear()
        self._trial_of_fetch.clear()
        self._used.clear()
        self._has_trainable.clear()
        if self._checked_in:
            self._checked_in = False
            POOL.check_out()


def _amount(name: str, amount: float, unit: bool = True) -> str:
    """An amount of a resource as people read it: Ray counts memory in bytes."""
    if name == "memory":
        return f"{amount / 2**30:.3g} GiB" + (" memory" if unit else "")
    return f"{amount:g} {name}" if unit else f"{amount:g}"
