"""RayExecutor: every trial in a Ray actor, results streamed back in batches."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.exceptions import RayActorError

from tune_controller import Executor, TrainableFunction, TrialEnded, TrialEvent, TrialLaunch
from tune_ray_exec._actor import TrialActor
from tune_trial import Decision, Resources

logger = logging.getLogger(__name__)

_LONG_POLL_S = 1.0
"""How long an actor holds a ``take_events`` call open when its trial has nothing new."""


@dataclass
class _Running:
    actor: ActorHandle[TrialActor]
    resources: Resources
    waiting_for_actor: bool = False  # a new actor not placed yet (no events back from it so far)


class RayExecutor(Executor):
    """Runs trials as Ray actors on the cluster ``ray.init()`` connected to.

    Ray is started for the user when no one did (as ``ray.tune`` does); a cluster joined with
    ``ray.init(address=...)`` is used as it is. Actors are reused across trials with the same
    resources (a function trainable keeps no state between trials), which saves Ray's actor start
    cost for every trial but the first few. The trainable is put in the object store once.
    """

    def __init__(self, reuse_actors: bool = True) -> None:
        self._reuse_actors = reuse_actors
        self._trainable_box: list[Any] | None = None
        self._running: dict[str, _Running] = {}
        self._trial_of_fetch: dict[Any, str] = {}
        self._idle: defaultdict[Resources, list[ActorHandle[TrialActor]]] = defaultdict(list)
        self._used: defaultdict[str, float] = defaultdict(float)
        self._cluster: dict[str, float] = {}
        self._recovering = False  # an actor died: free finished actors until new ones are placed

    def setup(self, trainable: TrainableFunction) -> None:
        if not ray.is_initialized():
            ray.init()
        self._refresh_cluster()
        self._trainable_box = [ray.put(trainable)]

    def _refresh_cluster(self) -> None:
        cluster: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        self._cluster = {name: float(amount) for name, amount in cluster.items()}

    def total_resources(self) -> Resources:
        return Resources.from_dict(self._cluster)

    def can_start(self, resources: Resources) -> bool:
        return all(
            self._used[name] + amount <= self._cluster.get(name, 0.0) for name, amount in resources.as_dict().items()
        )

    def check_feasible(self, trial_id: str, resources: Resources) -> None:
        for name, amount in resources.as_dict().items():
            available = self._cluster.get(name, 0.0)
            if amount > available:
                raise ValueError(
                    f"Trial {trial_id} needs {amount:g} {name} but the Ray cluster has {available:g} in all"
                )

    def start(self, launch: TrialLaunch, resources: Resources) -> None:
        if self._trainable_box is None:
            raise RuntimeError("RayExecutor.start() called before setup()")
        reused = bool(self._idle[resources])
        if not reused:
            self._evict_idle_actors()
        actor = self._idle[resources].pop() if reused else self._new_actor(resources)
        for name, amount in resources.as_dict().items():
            self._used[name] += amount
        fetch = actor.start.remote(self._trainable_box, launch, _LONG_POLL_S)
        self._running[launch.trial_id] = _Running(actor, resources, waiting_for_actor=not reused)
        self._trial_of_fetch[fetch] = launch.trial_id

    def _evict_idle_actors(self) -> None:
        """Idle actors hold their resources: before a new actor is needed, let them go, or it could
        wait forever for what they hold (trials of another size, as ResourceChangingScheduler makes)."""
        for idle in self._idle.values():
            for actor in idle:
                ray.kill(actor)
            idle.clear()

    def _new_actor(self, resources: Resources) -> ActorHandle[TrialActor]:
        options: dict[str, Any] = {
            "num_cpus": resources.cpu,
            "num_gpus": resources.gpu,
            "max_concurrency": 4,
        }
        if resources.memory:
            options["memory"] = resources.memory
        if resources.custom:
            options["resources"] = dict(resources.custom)
        actor_class = ray.remote(TrialActor)
        return cast("ActorHandle[TrialActor]", actor_class.options(**options).remote())

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
            try:
                batch: list[TrialEvent] = ray.get(fetch)
            except RayActorError as error:
                batch = [TrialEnded(trial_id, error=f"The actor running trial {trial_id} died: {error}")]
                self._recovering = True
                self._release(trial_id, actor_alive=False)
                self._refresh_cluster()  # a node may be gone, and its resources with it
                events.extend(batch)
                continue
            events.extend(batch)
            self._running[trial_id].waiting_for_actor = False
            if any(isinstance(event, TrialEnded) for event in batch):
                self._release(trial_id, actor_alive=True)
            else:
                self._fetch(trial_id, self._running[trial_id])
        return events

    def _release(self, trial_id: str, actor_alive: bool) -> None:
        running = self._running.pop(trial_id)
        for name, amount in running.resources.as_dict().items():
            self._used[name] -= amount
        # An idle actor keeps its resources. After an actor died (a node lost, say) the cluster may
        # be smaller than new actors were sized for: one waiting to be placed could starve forever
        # behind idle ones, so until every new actor is placed, finished trials free their actors.
        if self._recovering and not any(other.waiting_for_actor for other in self._running.values()):
            self._recovering = False
        if actor_alive and self._reuse_actors and not self._recovering:
            self._idle[running.resources].append(running.actor)
        else:
            ray.kill(running.actor)

    def decide(self, trial_id: str, decision: Decision) -> None:
        self._running[trial_id].actor.decide.remote(trial_id, decision)

    def stop(self, trial_id: str) -> None:
        running = self._running.get(trial_id)
        if running is not None:
            running.actor.stop.remote(trial_id)

    def shutdown(self) -> None:
        actors = [running.actor for running in self._running.values()]
        actors += [actor for idle in self._idle.values() for actor in idle]
        for actor in actors:
            ray.kill(actor)
        self._running.clear()
        self._trial_of_fetch.clear()
        self._idle.clear()
        self._used.clear()
