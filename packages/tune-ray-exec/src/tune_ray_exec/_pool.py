"""Idle trial actors, kept across experiments in one process while nothing else needs their resources.

Starting an actor costs Ray a worker process and, at the actor's first call, the job's
serialization context in that process (Ray imports pydantic and pyarrow for it): about 1.7 s of CPU
on a 2-core machine, against 0.15 s for tune's own imports. A script or notebook that runs several
experiments in a row should not pay it again for every ``fit``. An idle actor still holds the
resources it was created with, though: once no experiment of this process is running, a watcher
thread lets the parked actors go as soon as the cluster reports any demand it cannot place (a task,
actor or placement group of anyone), when Ray is shut down or re-initialised, and in any case after
:data:`KEEP_IDLE_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

import ray
from ray.actor import ActorHandle
from ray.util.placement_group import PlacementGroup, remove_placement_group

from tune_trial import Resources

logger = logging.getLogger(__name__)

KEEP_IDLE_S = 10.0
"""The longest idle actors are kept after the last experiment of this process ended."""

_WATCH_INTERVAL_S = 0.1

CLEANUP_TIMEOUT_S = 30.0
"""How long an actor's kept class Trainables may take to clean up before the actor is killed anyway."""


def _ray_session() -> tuple[str, str, str] | None:
    """Identifies the Ray connection actor handles belong to; ``None`` when Ray is not initialised."""
    if not ray.is_initialized():
        return None
    # A new local instance may reuse the GCS port and job id of the one before: the node id is new.
    context = ray.get_runtime_context()
    return context.get_node_id(), context.get_job_id(), context.gcs_address


def _cluster_has_unmet_demand(gcs_address: str) -> bool:
    """Whether anything waits for resources in the cluster; errors count as demand (be safe)."""
    try:
        from ray.autoscaler.v2.sdk import get_cluster_status

        demand = get_cluster_status(gcs_address).resource_demands
    except Exception:  # unknown cluster state: assume someone needs the resources
        logger.debug("could not read the cluster's resource demand", exc_info=True)
        return True
    return bool(demand.ray_task_actor_demand or demand.placement_group_demand or demand.cluster_constraint_demand)


class ActorPool:
    """The process's idle actors by the resources they hold, and how many executors are using it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: defaultdict[Resources, list[ActorHandle[Any]]] = defaultdict(list)
        self._groups: dict[ActorHandle[Any], PlacementGroup] = {}
        self._session: tuple[str, str, str] | None = None
        self._users = 0
        self._parked_since = 0.0
        self._watcher: threading.Thread | None = None

    def check_in(self) -> None:
        """An experiment starts: its executor may take parked actors again."""
        session = _ray_session()
        with self._lock:
            if session != self._session:
                self._idle.clear()  # handles of an earlier Ray connection: their actors are gone
                self._groups.clear()
                self._session = session
            self._users += 1

    def check_out(self) -> None:
        """An experiment ended: park what is idle, and watch whether anyone else needs it."""
        with self._lock:
            self._users -= 1
            if self._users or not any(self._idle.values()):
                return
            self._parked_since = time.monotonic()
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="tune-actor-pool", daemon=True)
                self._watcher.start()

    def take(self, resources: Resources) -> ActorHandle[Any] | None:
        with self._lock:
            idle = self._idle.get(resources)
            return idle.pop() if idle else None

    def give_back(self, resources: Resources, actor: ActorHandle[Any]) -> None:
        with self._lock:
            self._idle[resources].append(actor)

    def add_group(self, actor: ActorHandle[Any], group: PlacementGroup) -> None:
        """Tie a placement group to the actor that runs in it: it goes when the actor goes."""
        with self._lock:
            self._groups[actor] = group

    def discard(self, actor: ActorHandle[Any]) -> None:
        """Forget an actor that died, so that no trial is ever started on it, and free its group."""
        with self._lock:
            for idle in self._idle.values():
                if actor in idle:
                    idle.remove(actor)
            group = self._groups.pop(actor, None)
        if group is not None:
            remove_placement_group(group)

    def kill(self, actor: ActorHandle[Any]) -> None:
        """End an actor and the placement group it ran in, once its kept Trainables are cleaned up."""
        with self._lock:
            group = self._groups.pop(actor, None)
        try:
            cleaned = actor.release_kept_trainables.remote()
            if not ray.wait([cleaned], timeout=CLEANUP_TIMEOUT_S)[0]:
                logger.warning("A kept Trainable's cleanup() took over %.0f s; killing its actor", CLEANUP_TIMEOUT_S)
        except Exception:  # Ray shut down meanwhile, or the actor died: nothing is left to clean up
            logger.debug("could not ask an actor to clean up", exc_info=True)
        try:
            ray.kill(actor)
            if group is not None:
                remove_placement_group(group)
        except Exception:  # Ray shut down meanwhile: the actor and its group are gone already
            logger.debug("could not kill an actor", exc_info=True)

    def kill_idle(self) -> None:
        """Let every idle actor go, and its resources with it."""
        with self._lock:
            actors = [actor for idle in self._idle.values() for actor in idle]
            self._idle.clear()
        for actor in actors:
            self.kill(actor)

    def _watch(self) -> None:
        while True:
            time.sleep(_WATCH_INTERVAL_S)
            with self._lock:
                if self._users or not any(self._idle.values()):
                    return  # an experiment took the actors over, or none is left
                parked_for = time.monotonic() - self._parked_since
            session = _ray_session()
            if session != self._session:
                with self._lock:
                    self._idle.clear()  # Ray was shut down: the actors went with it
                    self._groups.clear()
                return
            assert session is not None
            if parked_for >= KEEP_IDLE_S or _cluster_has_unmet_demand(session[2]):
                with self._lock:
                    if self._users:
                        return
                self.kill_idle()
                return


POOL = ActorPool()
"""The one pool of this process, shared by every RayExecutor."""


def release_idle_actors() -> None:
    """Let go now of the actors earlier experiments of this process left idle, and their resources.

    They go by themselves as soon as anything in the cluster waits for resources; call this to free
    them before work of your own that Ray would otherwise have to wait a moment to place.
    """
    POOL.kill_idle()
