"""Tuner: the entry point that checks the experiment's setup and runs the driver loop."""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tune_controller._config import RunConfig, TuneConfig
from tune_controller._controller import TuneController
from tune_controller._executor import Executor, TrainableFunction
from tune_controller._inprocess import InProcessExecutor
from tune_controller._loggers import default_loggers
from tune_controller._progress import ProgressReporter
from tune_controller._result_grid import ResultGrid
from tune_controller._stoppers import as_stopper
from tune_controller._trainable import Trainable, as_function_trainable
from tune_controller._validation import check_picklable, check_trainable
from tune_controller._wrappers import trial_resources
from tune_schedulers import FIFOScheduler
from tune_search import BasicVariantGenerator
from tune_trial import TuneError

DEFAULT_STORAGE_PATH = "~/tune_results"


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
            trainable = as_function_trainable(trainable, (run_config or RunConfig()).checkpoint_config)
        self._trainable = trainable
        self._param_space = dict(param_space or {})
        self._tune_config = tune_config or TuneConfig()
        self._run_config = run_config or RunConfig()
        self._executor = executor
        self._results: ResultGrid | None = None
        self._stopper = as_stopper(self._run_config.stop)
        check_picklable(self._param_space)

    def _default_executor(self) -> Executor:
        return InProcessExecutor()

    def fit(self) -> ResultGrid:
        """Run the experiment to its end; failed trials are in the grid, not raised."""
        tune_config, run_config = self._tune_config, self._run_config
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
        name = run_config.name or f"{trainable_name}_{datetime.datetime.now():%Y-%m-%d_%H-%M-%S}"
        experiment_dir = _experiment_dir(run_config.storage_path, name)
        callbacks = list(run_config.callbacks)
        callbacks += [logger for logger in default_loggers() if not any(type(c) is type(logger) for c in callbacks)]
        if run_config.verbose and not any(isinstance(c, ProgressReporter) for c in callbacks):
            callbacks.append(ProgressReporter())
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
            experiment_dir=experiment_dir,
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
        )
        self._results = ResultGrid(controller.run(), metric=tune_config.metric, mode=tune_config.mode)
        return self._results

    def get_results(self) -> ResultGrid:
        """The results of the last :meth:`fit`."""
        if self._results is None:
            raise TuneError("Tuner.get_results(): fit() has not run yet")
        return self._results


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
