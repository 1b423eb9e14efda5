"""Progress output: the live status table, per-trial result lines, and which of them ``verbose`` picks.

``RunConfig.verbose`` follows Ray Tune's levels: 0 prints nothing; 1 the status table (counts by
status, best result so far, one row per trial with its parameters and latest metrics), every few
seconds and at the end; 2 adds one line per trial result; 3 prints each result in full instead.
Result lines are throttled per trial, except a trial's last result and its error, which always show.
In a Jupyter kernel the table is an HTML table updated in place, and level 2 keeps to it (quieter).
"""

from __future__ import annotations

import html
import importlib
import math
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from tune_controller._callback import Callback
from tune_controller._flatten import flatten
from tune_trial import Trial, TrialStatus, as_number, result_keys

_HIDDEN_METRICS = result_keys.AUTO_FILLED_KEYS | {"config"}
"""Keys of a result that are bookkeeping, not metrics worth a column."""


class ProgressReporter(Callback):
    """Prints trial counts by status, the best result so far, and a table of recent trials.

    Columns: the trial (its name), its status, its parameters (``parameter_columns``, or all that
    vary), its iteration, and its latest metrics (``metric_columns``, or the experiment's metric
    followed by the other reported metrics, up to ``max_metric_columns``). Printing is rate-limited
    to one table per ``interval_s``, plus a final one at the end, so large experiments do not drown
    the terminal.
    """

    def __init__(
        self,
        metric: str | None = None,
        mode: str | None = None,
        interval_s: float = 5.0,
        max_rows: int = 20,
        stream: TextIO | None = None,
        metric_columns: Sequence[str] | None = None,
        parameter_columns: Sequence[str] | None = None,
        max_metric_columns: int = 5,
    ) -> None:
        self._metric = metric
        self._mode = mode
        self._interval_s = interval_s
        self._max_rows = max_rows
        self._stream = stream
        self._metric_columns = list(metric_columns) if metric_columns is not None else None
        self._parameter_columns = list(parameter_columns) if parameter_columns is not None else None
        self._max_metric_columns = max_metric_columns
        self._last_print = -math.inf
        self._best: tuple[float, Trial] | None = None
        self._names: dict[str, str] = {}

    def setup(self, **info: Any) -> None:
        self._metric = self._metric or info.get("metric")
        self._mode = self._mode or info.get("mode") or "min"

    def on_trial_start(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        self._names[trial.trial_id] = info.get("trial_name", trial.trial_id)

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        value = as_number(result.get(self._metric)) if self._metric else None
        if value is None or math.isnan(value):
            return
        sign = 1.0 if self._mode == "min" else -1.0
        if self._best is None or sign * value < sign * self._best[0]:
            self._best = (value, trial)

    def on_step_end(self, iteration: int, trials: Sequence[Trial], **info: Any) -> None:
        if time.monotonic() - self._last_print >= self._interval_s:
            self._print(trials)

    def on_experiment_end(self, trials: Sequence[Trial], **info: Any) -> None:
        self._print(trials)

    def _print(self, trials: Sequence[Trial]) -> None:
        self._last_print = time.monotonic()
        self.show(trials)

    def show(self, trials: Sequence[Trial]) -> None:
        """Put the current table in front of the user (a terminal prints it anew)."""
        print(self.render(trials), file=self._stream or sys.stdout, flush=True)

    def render(self, trials: Sequence[Trial]) -> str:
        """The table as text (what gets printed)."""
        lines = [self.status_line(trials)]
        best = self.best_line()
        if best:
            lines.append(best)
        shown = _rows_to_show(trials, self._max_rows)
        if shown:
            header, *rows = self.table(shown)
            table = [header, *rows]
            widths = [max(len(row[column]) for row in table) for column in range(len(header))]
            lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in table]
        if len(shown) < len(trials):
            lines.append(f"... {len(trials) - len(shown)} more trials")
        return "\n".join(lines)

    def status_line(self, trials: Sequence[Trial]) -> str:
        """Trial counts by status."""
        counts = Counter(trial.status.value for trial in trials)
        summary = ", ".join(f"{counts[status.value]} {status.value}" for status in TrialStatus if counts[status.value])
        return f"== Status: {len(trials)} trials ({summary or 'none yet'}) =="

    def best_line(self) -> str | None:
        """The best value of the metric so far, and which trial reported it with which parameters."""
        if self._best is None or not self._metric:
            return None
        value, trial = self._best
        parameters = ", ".join(f"{key}={_fmt(item)}" for key, item in flatten(trial.config).items())
        return f"Best {self._metric} so far: {value:.6g} (trial {self._name(trial)}: {parameters or 'no parameters'})"

    def table(self, trials: Sequence[Trial]) -> list[list[str]]:
        """Header and rows of the trial table, as text cells."""
        configs = [flatten(trial.config) for trial in trials]
        latest = [flatten(trial.last_result or {}) for trial in trials]
        parameters = (
            self._parameter_columns
            if self._parameter_columns is not None
            else sorted({key for config in configs for key in config})
        )
        metrics = self._metric_columns if self._metric_columns is not None else self._inferred_metrics(latest)
        header = ["trial", "status", *parameters, "iter", *metrics]
        rows = [header]
        for trial, config, last in zip(trials, configs, latest, strict=True):
            row = [self._name(trial), trial.status.value, *(_fmt(config.get(key, "")) for key in parameters)]
            row.append(_fmt(last.get(result_keys.TRAINING_ITERATION, "")))
            row += [_fmt(last.get(key, "")) for key in metrics]
            rows.append(row)
        return rows

    def _inferred_metrics(self, latest: Sequence[Mapping[str, Any]]) -> list[str]:
        reported = sorted({key for result in latest for key in result if key not in _HIDDEN_METRICS})
        first = [self._metric] if self._metric else []
        return (first + [key for key in reported if key != self._metric])[: max(self._max_metric_columns, len(first))]

    def _name(self, trial: Trial) -> str:
        return self._names.get(trial.trial_id, trial.trial_id)


class TrialResultPrinter(Callback):
    """Prints trials' results as they arrive: one line each (``detailed=False``), or every key.

    At most one print per trial every ``interval_s`` (Ray Tune's rate), but a trial's last result
    and its failure are always printed.
    """

    def __init__(
        self, detailed: bool = False, metric: str | None = None, interval_s: float = 5.0, stream: TextIO | None = None
    ) -> None:
        self._detailed = detailed
        self._metric = metric
        self._interval_s = interval_s
        self._stream = stream
        self._last_print: dict[str, float] = {}
        self._printed: dict[str, Mapping[str, Any]] = {}

    def setup(self, **info: Any) -> None:
        self._metric = self._metric or info.get("metric")

    def on_trial_result(
        self, iteration: int, trials: Sequence[Trial], trial: Trial, result: Mapping[str, Any], **info: Any
    ) -> None:
        now = time.monotonic()
        if now - self._last_print.get(trial.trial_id, -math.inf) >= self._interval_s:
            self._last_print[trial.trial_id] = now
            self._show(trial, info.get("trial_name", trial.trial_id), result)

    def on_trial_complete(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        name = info.get("trial_name", trial.trial_id)
        last = trial.last_result or {}
        if self._printed.get(trial.trial_id) is not last:
            self._show(trial, name, last)
        self._write(f"Trial {name} completed.")
        self._forget(trial.trial_id)

    def on_trial_error(self, iteration: int, trials: Sequence[Trial], trial: Trial, **info: Any) -> None:
        config = ", ".join(f"{key}={_fmt(value)}" for key, value in flatten(trial.config).items())
        error = (trial.error or "").strip().splitlines()
        self._write(
            f"Trial {info.get('trial_name', trial.trial_id)} errored with parameters {{{config}}}: "
            f"{error[-1] if error else 'no traceback'} (full traceback in result.error)"
        )
        self._forget(trial.trial_id)

    def _show(self, trial: Trial, name: str, result: Mapping[str, Any]) -> None:
        self._printed[trial.trial_id] = result
        iteration = result.get(result_keys.TRAINING_ITERATION, "?")
        if self._detailed:
            flat = flatten(result)
            body = "\n".join(f"  {key}: {_fmt(flat[key])}" for key in sorted(flat))
            self._write(f"Result for {name} at iteration {iteration}:\n{body}")
            return
        if self._metric and self._metric in result:
            self._write(f"Trial {name} reported {self._metric}={_fmt(result[self._metric])} at iteration {iteration}.")
            return
        shown = ", ".join(f"{key}={_fmt(value)}" for key, value in result.items() if key not in _HIDDEN_METRICS)
        self._write(f"Trial {name} reported {shown or 'no metrics'} at iteration {iteration}.")

    def _forget(self, trial_id: str) -> None:
        self._last_print.pop(trial_id, None)
        self._printed.pop(trial_id, None)

    def _write(self, text: str) -> None:
        print(text, file=self._stream or sys.stdout, flush=True)


class NotebookProgressReporter(ProgressReporter):
    """The status table as HTML in one output updated in place, so that a notebook cell holds the
    current table rather than a scroll of copies. Needs a Jupyter kernel (IPython is not a dependency
    of this package: it is imported only when there is a table to show, where a kernel has it)."""

    def __init__(
        self,
        metric: str | None = None,
        mode: str | None = None,
        interval_s: float = 1.0,
        max_rows: int = 20,
        metric_columns: Sequence[str] | None = None,
        parameter_columns: Sequence[str] | None = None,
        max_metric_columns: int = 5,
    ) -> None:
        super().__init__(
            metric,
            mode,
            interval_s,
            max_rows,
            metric_columns=metric_columns,
            parameter_columns=parameter_columns,
            max_metric_columns=max_metric_columns,
        )
        self._handle: Any = None

    def show(self, trials: Sequence[Trial]) -> None:
        display: Any = importlib.import_module("IPython.display")
        content = display.HTML(self.render_html(trials))
        if self._handle is None:
            self._handle = display.display(content, display_id=True)
        else:
            self._handle.update(content)

    def render_html(self, trials: Sequence[Trial]) -> str:
        """The table as HTML: status and best lines, then the trial rows."""
        parts = [f"<p><b>{html.escape(self.status_line(trials).strip('= '))}</b></p>"]
        best = self.best_line()
        if best:
            parts.append(f"<p>{html.escape(best)}</p>")
        shown = _rows_to_show(trials, self._max_rows)
        if shown:
            header, *rows = self.table(shown)
            cells = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
            parts.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")
        if len(shown) < len(trials):
            parts.append(f"<p>... {len(trials) - len(shown)} more trials</p>")
        return "".join(parts)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel. IPython is looked up, never imported: a kernel has
    imported it already, and a plain interpreter should not pay for it."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None  # a terminal IPython shell has no kernel


def progress_callbacks(verbose: int, reporter: Callback | None, callbacks: Sequence[Callback]) -> list[Callback]:
    """The progress output to add to ``callbacks`` for ``verbose`` (``RunConfig.verbose``).

    ``reporter`` (``RunConfig.progress_reporter``) replaces the default table; a ProgressReporter
    already among ``callbacks`` is kept instead of adding another.
    """
    if verbose <= 0:
        return []
    added: list[Callback] = []
    has_table = reporter is not None or any(isinstance(callback, ProgressReporter) for callback in callbacks)
    if reporter is not None:
        added.append(reporter)
    elif not has_table:
        added.append(NotebookProgressReporter() if in_notebook() else ProgressReporter())
    notebook = any(isinstance(callback, NotebookProgressReporter) for callback in [*added, *callbacks])
    printing = any(isinstance(callback, TrialResultPrinter) for callback in callbacks)
    # A notebook keeps to its table at level 2 (quieter); every level prints results in full at 3.
    if not printing and (verbose >= 3 or (verbose == 2 and not notebook)):
        added.append(TrialResultPrinter(detailed=verbose >= 3))
    return added


def _rows_to_show(trials: Sequence[Trial], max_rows: int) -> list[Trial]:
    """Running trials first, then the most recent others, up to ``max_rows``."""
    running = [trial for trial in trials if trial.status is TrialStatus.RUNNING]
    others = [trial for trial in reversed(trials) if trial.status is not TrialStatus.RUNNING]
    return (running + others)[:max_rows]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)
