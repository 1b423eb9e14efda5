"""Tuner: the entry point that checks the experiment's setup and runs the driver loop."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cloudpickle

from tune_controller._config import RunConfig, TuneConfig
from tune_controller._controller import TuneController
from tune_controller._executor import Executor, TrainableFunction
from tune_controller._inprocess import InProcessExecutor
from tune_controller._journal import (
    FORMAT_VERSION,
    JOURNAL_FILE,
    STATE_FILE,
    ExperimentState,
    JournalReader,
    JournalWriter,
    is_experiment,
    load_experiment,
)
from tune_controller._loggers import default_loggers
from tune_controller._progress import progress_callbacks
from tune_controller._result_grid import Result, ResultGrid
from tune_controller._stoppers import as_stopper
from tune_controller._storage import (
    ExperimentStorage,
    ExperimentSyncer,
    RemoteStorage,
    download_experiment,
    remote_storage,
)
from tune_controller._trainable import Trainable, as_function_trainable
from tune_controller._validation import check_picklable, check_trainable
from tune_controller._wrappers import trial_resources
from tune_schedulers import FIFOScheduler, TrialScheduler
from tune_search import BasicVariantGenerator, Searcher
from tune_trial import TuneError

logger = logging.getLogger(__name__)

DEFAULT_STORAGE_PATH = "~/tune_results"
TUNER_FILE = "tuner.pkl"
"""The Tuner's settings (param_space, TuneConfig, RunConfig), pickled for :meth:`Tuner.restore`."""


@dataclasses.dataclass(frozen=True)
class _Restore:
    storage: ExperimentStorage
    resume_unfinished: bool
    resume_errored: bool
    restart_errored: bool


class Tuner:
    """Tune ``trainable`` over ``param_space``.

    The executor decides where trials run; this package's default runs them on threads of the
    current process. The ``tune`` meta-package's Tuner runs them on Ray.
    """

    def __init__(
        self,
        trainable: TrainableFunction | type[Trainable],
        *,
        param_space: Mapping[str, Any] | None = None,
        tune_config: TuneConfig | None = None,
        run_config: RunConfig | None = None,
        executor: Executor | None = None,
    ) -> None:
        check_trainable(trainable)
        if isinstance(trainable, type) and issubclass(trainable, Trainable):
            trainable = as_function_trainable(
                trainable, (run_config or RunConfig()).checkpoint_config, (tune_config or TuneConfig()).reuse_actors
            )
        self._trainable = trainable
        self._param_space = dict(param_space or {})
        self._tune_config = tune_config or TuneConfig()
        self._run_config = run_config or RunConfig()
        self._executor = executor
        self._results: ResultGrid | None = None
        self._restore: _Restore | None = None
        self._stopper = as_stopper(self._run_config.stop)
        check_picklable(self._param_space)

    def _default_executor(self) -> Executor:
        return InProcessExecutor()

    @classmethod
    def restore(
        cls,
        path: str | os.PathLike[str],
        trainable: TrainableFunction | type[Trainable],
        *,
        resume_unfinished: bool = True,
        resume_errored: bool = False,
        restart_errored: bool = False,
        param_space: Mapping[str, Any] | None = None,
        executor: Executor | None = None,
        storage_filesystem: Any = None,
    ) -> Tuner:
        """A Tuner that continues the experiment in ``path`` when :meth:`fit` is called.

        ``path`` is the experiment's directory (``storage_path/name``): a local one, a URI of remote
        storage (``s3://bucket/prefix/name``), or a path in ``storage_filesystem``. Finished trials keep their
        results and do not run again; unfinished ones resume from their latest checkpoint (or end,
        with ``resume_unfinished=False``); failed ones stay failed unless ``resume_errored`` (resume
        from their latest checkpoint) or ``restart_errored`` (start over) is set. The searcher and
        the scheduler continue from their journaled state. Pass the same ``trainable`` (it is not
        saved), and ``param_space`` only to replace values that could not be pickled.
        """
        storage = _open_experiment(path, storage_filesystem)
        directory = storage.local_dir
        where = storage.remote.uri() if storage.remote is not None else str(directory)
        if not is_experiment(directory):
            raise TuneError(
                f"Tuner.restore: {where!r} is not an experiment directory (no {JOURNAL_FILE} in it); "
                "pass the directory fit() wrote, storage_path/name"
            )
        settings_file = directory / TUNER_FILE
        if not settings_file.is_file():
            raise TuneError(
                f"Tuner.restore: {where!r} has no {TUNER_FILE}: the experiment's settings could not be "
                "pickled when it started (a warning said why), so it cannot be continued"
            )
        with open(settings_file, "rb") as file:
            settings = cloudpickle.load(file)
        if storage.remote is None:
            name, storage_path, filesystem = directory.name, str(directory.parent), None
        else:  # as a path in the filesystem: a URI's query (endpoint, region...) is in the filesystem
            name, storage_path = posixpath.basename(storage.remote.root), posixpath.dirname(storage.remote.root)
            filesystem = storage.remote.filesystem
        run_config = dataclasses.replace(
            settings["run_config"], name=name, storage_path=storage_path, storage_filesystem=filesystem
        )
        tuner = cls(
            trainable,
            param_space=settings["param_space"] if param_space is None else param_space,
            tune_config=settings["tune_config"],
            run_config=run_config,
            executor=executor,
        )
        tuner._restore = _Restore(storage, resume_unfinished, resume_errored, restart_errored)
        return tuner

    @classmethod
    def can_restore(cls, path: str | os.PathLike[str], storage_filesystem: Any = None) -> bool:
        """Whether ``path`` (a directory, a URI, or a path in ``storage_filesystem``) holds an
        experiment that :meth:`restore` can continue."""
        remote = remote_storage(os.fspath(path), storage_filesystem, what="Tuner.can_restore path")
        if remote is not None:
            return remote.exists(JOURNAL_FILE) and remote.exists(TUNER_FILE)
        directory = Path(os.path.expanduser(os.fspath(path)))
        return is_experiment(directory) and (directory / TUNER_FILE).is_file()

    def fit(self) -> ResultGrid:
        """Run the experiment to its end; failed trials are in the grid, not raised."""
        tune_config, run_config = self._tune_config, self._run_config
        settings = self._pickle_settings() if self._restore is None else None  # before fit changes them
        searcher = tune_config.search_alg or BasicVariantGenerator()
        scheduler = tune_config.scheduler or FIFOScheduler()
        accepted = searcher.set_search_properties(
            tune_config.metric, tune_config.mode, self._param_space, num_samples=tune_config.num_samples
        )
        if not accepted:
            raise ValueError(
                f"Both the Tuner's param_space and the {type(searcher).__name__} given as search_alg "
                "define a search space: define it in one place only"
            )
        trainable_name = getattr(self._trainable, "__name__", type(self._trainable).__name__)
        restored = load_experiment(self._restore.storage) if self._restore is not None else None
        if restored is not None:
            name, trainable_name, id_prefix = (restored.header[key] for key in ("name", "trainable", "prefix"))
            storage = restored.storage
        else:
            name = run_config.name or f"{trainable_name}_{datetime.datetime.now():%Y-%m-%d_%H-%M-%S}"
            remote = remote_storage(run_config.storage_path, run_config.storage_filesystem)
            if remote is None:
                storage = ExperimentStorage(_experiment_dir(run_config.storage_path, name))
            else:
                storage = ExperimentStorage.staged(name, RemoteStorage(remote.filesystem, remote.path(name)))
            id_prefix = uuid.uuid4().hex[:5]
            _save_settings(storage.local_dir, settings)
        experiment_dir = storage.local_dir
        journal = JournalWriter(experiment_dir, fresh=restored is None)
        if restored is None:
            journal.append(
                {
                    "t": "experiment",
                    "v": FORMAT_VERSION,
                    "name": name,
                    "trainable": trainable_name,
                    "prefix": id_prefix,
                    "checkpoint_config": dataclasses.asdict(run_config.checkpoint_config),
                    "created": time.time(),
                }
            )
            journal.commit()
        syncer = None
        if storage.remote is not None:
            syncer = ExperimentSyncer(experiment_dir, storage.remote, snapshot=(STATE_FILE, JOURNAL_FILE))
            try:
                syncer.start()
            except TuneError:
                journal.close()
                raise
        try:
            return self._run(storage, name, trainable_name, id_prefix, searcher, scheduler, journal, restored, syncer)
        finally:
            if syncer is not None:
                synced = False
                try:
                    synced = syncer.close()
                finally:  # a second Ctrl-C in the last sync must not lose its files either
                    if not synced:
                        storage.keep_staging()

    def _run(
        self,
        storage: ExperimentStorage,
        name: str,
        trainable_name: str,
        id_prefix: str,
        searcher: Searcher,
        scheduler: TrialScheduler,
        journal: JournalWriter,
        restored: ExperimentState | None,
        syncer: ExperimentSyncer | None,
    ) -> ResultGrid:
        tune_config, run_config = self._tune_config, self._run_config
        experiment_dir = storage.local_dir
        callbacks = list(run_config.callbacks)
        callbacks += [logger for logger in default_loggers() if not any(type(c) is type(logger) for c in callbacks)]
        callbacks += progress_callbacks(run_config.verbose, run_config.progress_reporter, callbacks)
        max_trials = searcher.max_trials(tune_config.num_samples)
        for callback in callbacks:
            callback.setup(
                stop=self._stopper,
                num_samples=tune_config.num_samples,
                total_num_samples=max_trials,
                metric=tune_config.metric,
                mode=tune_config.mode,
                experiment_dir=str(experiment_dir),
            )
        executor = self._executor or self._default_executor()
        executor.setup(self._trainable)
        scheduler.set_search_properties(
            tune_config.metric, tune_config.mode, total_resources=executor.total_resources()
        )
        controller = TuneController(
            storage=storage,
            experiment_name=name,
            trainable_name=trainable_name,
            executor=executor,
            searcher=searcher,
            scheduler=scheduler,
            max_trials=max_trials,
            resources=trial_resources(self._trainable),
            max_concurrent_trials=tune_config.max_concurrent_trials,
            time_budget_s=tune_config.time_budget_s,
            stopper=self._stopper,
            trial_name_creator=tune_config.trial_name_creator,
            trial_dirname_creator=tune_config.trial_dirname_creator,
            failure_config=run_config.failure_config,
            checkpoint_config=run_config.checkpoint_config,
            callbacks=callbacks,
            journal=journal,
            id_prefix=id_prefix,
            syncer=syncer,
        )
        if restored is not None and self._restore is not None:
            controller.restore(
                restored,
                resume_unfinished=self._restore.resume_unfinished,
                resume_errored=self._restore.resume_errored,
                restart_errored=self._restore.restart_errored,
            )
        results = controller.run()
        reader = JournalReader(storage, run_config.checkpoint_config)
        self._results = ResultGrid(results, reader, metric=tune_config.metric, mode=tune_config.mode)
        return self._results

    def get_results(self) -> ResultGrid:
        """The results of the last :meth:`fit`, or of a restored experiment as its journal has them
        (without running anything)."""
        if self._results is not None:
            return self._results
        if self._restore is None:
            raise TuneError("Tuner.get_results(): fit() has not run yet")
        storage = self._restore.storage
        state = load_experiment(storage)
        reader = JournalReader(storage, self._run_config.checkpoint_config)
        results = [
            Result.of(entry.trial, storage.trial_path(entry.dirname), reader, storage.filesystem)
            for entry in state.trials.values()
        ]
        return ResultGrid(results, reader, metric=self._tune_config.metric, mode=self._tune_config.mode)

    def _pickle_settings(self) -> bytes | None:
        """What :meth:`restore` needs besides the trainable. An experiment whose settings do not
        pickle still runs, but cannot be restored: said now, not after a crash."""
        settings = {"param_space": self._param_space, "tune_config": self._tune_config, "run_config": self._run_config}
        try:
            return bytes(cloudpickle.dumps(settings))
        except Exception as error:
            logger.warning(
                "The Tuner's settings cannot be pickled (%s): the experiment runs, but Tuner.restore will "
                "not be able to continue it",
                error,
            )
            return None


def _save_settings(directory: Path, settings: bytes | None) -> None:
    if settings is None:
        (directory / TUNER_FILE).unlink(missing_ok=True)
        return
    temporary = directory / f"{TUNER_FILE}.tmp"
    temporary.write_bytes(settings)
    os.replace(temporary, directory / TUNER_FILE)


def _open_experiment(path: str | os.PathLike[str], storage_filesystem: Any) -> ExperimentStorage:
    """An existing experiment's storage; a remote one's driver files are downloaded to a staging directory."""
    remote = remote_storage(os.fspath(path), storage_filesystem, what="Tuner.restore path")
    if remote is None:
        return ExperimentStorage(Path(os.path.expanduser(os.fspath(path))).absolute())
    storage = ExperimentStorage.staged(posixpath.basename(remote.root), remote)
    try:
        download_experiment(remote, storage.local_dir)
    except OSError as error:
        raise TuneError(f"Tuner.restore: cannot read {remote.uri()!r}: {error}") from error
    return storage


def _experiment_dir(storage_path: str | None, name: str) -> Path:
    root = Path(os.path.expanduser(storage_path or DEFAULT_STORAGE_PATH))
    directory = root / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Write, rather than ask os.access: permission bits do not stop root, read-only mounts do.
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise TuneError(f"storage_path {str(root)!r} is not writable: {error}") from error
    return directory
