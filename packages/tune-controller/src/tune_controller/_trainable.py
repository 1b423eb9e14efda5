"""The class Trainable API (Ray Tune's): ``setup``, ``step``, ``save_checkpoint``, ``load_checkpoint``,
``cleanup``, run by a function trainable so that every executor runs it as it runs functions.

With ``reuse_actors`` on, a class that overrides ``reset_config`` keeps its instance between trials
run by the same process (a Ray actor, or the driver for the in-process executor), as Ray Tune keeps
a reused actor's instance: see :func:`as_function_trainable`."""

from __future__ import annotations

import atexit
import functools
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import cloudpickle

from tune_controller._config import CheckpointConfig
from tune_controller._executor import RESOURCES_ATTRIBUTE, TrainableFunction
from tune_controller._session import TrialStopped
from tune_trial import Checkpoint, Resources, TrialContext, get_checkpoint, get_context, report, result_keys

_STATE_FILE = "trainable_state.pkl"
_ITERATION_FILE = ".iteration"


class Trainable:
    """Subclass and implement ``step`` (one iteration, returning its metrics); ``setup`` for
    initialisation; ``save_checkpoint``/``load_checkpoint`` so trials can pause, resume, be retried
    and be exploited. Return ``{"done": True, ...}`` from ``step`` to end the trial."""

    _tune_parameters: ClassVar[dict[str, Any]] = {}
    """What ``with_parameters`` gave: passed to ``setup`` after the config."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = dict(config or {})
        self._iteration = 0
        self.setup(dict(self.config), **self._tune_parameters)

    @property
    def iteration(self) -> int:
        """Steps done so far (restored ones included)."""
        return self._iteration

    @property
    def training_iteration(self) -> int:
        return self._iteration

    @property
    def trial_id(self) -> str:
        return self._context().trial_id

    @property
    def trial_name(self) -> str:
        return self._context().trial_name

    @property
    def logdir(self) -> str:
        return self._context().trial_dir

    @property
    def trial_resources(self) -> Resources:
        return self._context().get_trial_resources()

    @staticmethod
    def _context() -> TrialContext:
        return get_context()

    def get_config(self) -> dict[str, Any]:
        """The trial's config (a copy)."""
        return dict(self.config)

    @classmethod
    def default_resource_request(cls, config: dict[str, Any]) -> Resources | dict[str, float] | None:
        """What a trial of this class needs, given its config (``{"cpu": 2}`` or a Resources); None
        means one CPU. ``with_resources`` on the class takes precedence, as in Ray Tune."""
        return None

    def setup(self, config: dict[str, Any], **parameters: Any) -> None:
        """Build what the trial needs (models, data) from ``config`` (and the objects given to
        ``with_parameters``, as keyword arguments)."""

    def step(self) -> dict[str, Any]:
        """One iteration of training; returns its metrics."""
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def save_checkpoint(self, checkpoint_dir: str) -> dict[str, Any] | None:
        """Write the state into ``checkpoint_dir``, or return it as a dict (it will be pickled there)."""
        return None

    def load_checkpoint(self, checkpoint: dict[str, Any] | str) -> None:
        """Restore from what ``save_checkpoint`` returned, or from its directory if it returned None."""

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        """Make this instance ready for another trial with ``new_config`` (``self.config`` is already
        ``new_config``); return True if it could, False to have a fresh instance built instead.

        Called only with ``TuneConfig(reuse_actors=True)`` on a class that overrides it: a finished
        (not errored) trial's instance is kept by its process and handed to the next trial that
        process runs, which saves ``setup`` (loading data, building models). The iteration count
        restarts at 0; a trial resumed from a checkpoint still gets ``load_checkpoint``. A class that
        does not override it gets a fresh instance for every trial."""
        return False

    def cleanup(self) -> None:
        """Release what ``setup`` took. Called once per instance: when its trial ends, or, for an
        instance kept for reuse (see :meth:`reset_config`), when it is dropped: ``reset_config``
        returned False, another instance of the class replaced it, the executor shut down (in-process),
        its Ray actor is let go (the executor asks the actor to release it before killing it) or the
        process exits normally."""

    # -- driving an instance by hand (unit tests of a Trainable, as with Ray Tune's) ---------

    def train(self) -> dict[str, Any]:
        """One step, outside any Tuner: ``step``'s result with ``training_iteration``,
        ``time_this_iter_s`` and ``done`` filled in."""
        started = time.monotonic()
        result = dict(self.step())
        self._iteration += 1
        result.setdefault(result_keys.DONE, False)
        result[result_keys.TRAINING_ITERATION] = self._iteration
        result[result_keys.TIME_THIS_ITER_S] = time.monotonic() - started
        return result

    def save(self, checkpoint_dir: str | None = None) -> Checkpoint:
        """Save into ``checkpoint_dir`` (a new temporary directory when omitted), as a trial would."""
        directory = checkpoint_dir or tempfile.mkdtemp(prefix="checkpoint_")
        Path(directory).mkdir(parents=True, exist_ok=True)
        state = self.save_checkpoint(directory)
        if state is not None:
            (Path(directory) / _STATE_FILE).write_bytes(cloudpickle.dumps(state))
        (Path(directory) / _ITERATION_FILE).write_text(str(self._iteration))
        return Checkpoint(directory)

    def restore(self, checkpoint: Checkpoint | str) -> None:
        """Load a checkpoint that :meth:`save` (or a trial) wrote; the iteration count continues from it."""
        if not isinstance(checkpoint, Checkpoint):
            checkpoint = Checkpoint.from_directory(checkpoint)
        with checkpoint.as_directory() as directory:  # downloaded first when in remote storage
            state_file = Path(directory) / _STATE_FILE
            if state_file.exists():
                self.load_checkpoint(cloudpickle.loads(state_file.read_bytes()))
            else:
                self.load_checkpoint(directory)
            marker = Path(directory) / _ITERATION_FILE
            self._iteration = int(marker.read_text()) if marker.exists() else 0

    def stop(self) -> None:
        """End a hand-driven instance: calls :meth:`cleanup`."""
        self.cleanup()


_kept_lock = threading.Lock()
_kept: dict[type[Trainable], Trainable] = {}
"""Per process, the last finished instance of each reusable class, waiting for the next trial."""


def _take_kept(cls: type[Trainable], config: dict[str, Any]) -> Trainable | None:
    """The kept instance of ``cls`` reset to ``config``, or None (nothing kept, or it refused)."""
    with _kept_lock:
        instance = _kept.pop(cls, None)
    if instance is None:
        return None
    instance.config = dict(config)
    try:
        accepted = instance.reset_config(dict(config))
    except BaseException:
        instance.cleanup()
        raise
    if not accepted:
        instance.cleanup()
        return None
    instance._iteration = 0
    return instance


def _keep(instance: Trainable) -> None:
    with _kept_lock:
        replaced = _kept.pop(type(instance), None)
        _kept[type(instance)] = instance
    if replaced is not None:
        replaced.cleanup()


def release_kept_trainables() -> None:
    """Clean up and forget every instance this process keeps for reuse (executor shutdown, exit)."""
    with _kept_lock:
        instances = list(_kept.values())
        _kept.clear()
    for instance in instances:
        instance.cleanup()


atexit.register(release_kept_trainables)


def as_function_trainable(
    cls: type[Trainable], checkpoint_config: CheckpointConfig, reuse: bool = False
) -> TrainableFunction:
    """A function trainable running ``cls``: steps until ``done``, checkpointing as configured.

    With ``reuse`` (``TuneConfig.reuse_actors``) and a class that overrides ``reset_config``, the
    instance of a trial that ended without error (done, stopped or paused) is kept by the process
    instead of cleaned up, and the next trial there takes it through ``reset_config``. One instance
    is kept per class and process, so a trial never shares an instance with another running one."""
    reusable = reuse and cls.reset_config is not Trainable.reset_config

    @functools.wraps(cls, updated=())
    def run_trainable_class(config: dict[str, Any]) -> None:
        instance = _take_kept(cls, config) if reusable else None
        if instance is None:
            instance = cls(config)
        keep = False
        try:
            checkpoint = get_checkpoint()
            if checkpoint is not None:
                instance.restore(checkpoint)
            while True:
                result = dict(instance.step())
                instance._iteration += 1
                done = bool(result.get(result_keys.DONE, False))
                frequency = checkpoint_config.checkpoint_frequency
                due = (frequency and instance._iteration % frequency == 0) or (
                    done and checkpoint_config.checkpoint_at_end
                )
                if due:
                    with tempfile.TemporaryDirectory() as directory:
                        report(result, checkpoint=instance.save(directory))
                else:
                    report(result)
                if done:
                    keep = reusable
                    return
        except TrialStopped:
            keep = reusable
            raise
        finally:
            if keep:
                _keep(instance)
            else:
                instance.cleanup()

    run_trainable_class.__name__ = cls.__name__
    resources = getattr(cls, RESOURCES_ATTRIBUTE, None)
    own_classes = cls.__mro__[: cls.__mro__.index(Trainable)]
    if resources is None and any("default_resource_request" in vars(base) for base in own_classes):
        resources = functools.partial(_requested_resources, cls)
    if resources is not None:
        setattr(run_trainable_class, RESOURCES_ATTRIBUTE, resources)
    return run_trainable_class


def _requested_resources(cls: type[Trainable], config: dict[str, Any]) -> Resources | dict[str, float]:
    return cls.default_resource_request(config) or Resources()
