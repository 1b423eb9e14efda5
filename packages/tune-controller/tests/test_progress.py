import io
import sys

from tune_controller import ProgressReporter, RunConfig
from tune_search import grid_search, uniform
from tune_trial import report


def test_the_table_shows_counts_best_value_parameters_and_metrics(run):
    stream = io.StringIO()
    reporter = ProgressReporter(interval_s=3600, stream=stream)
    run(
        lambda config: report({"loss": config["x"]}),
        {"x": uniform(0, 1)},
        num_samples=3,
        metric="loss",
        mode="min",
        run_config=RunConfig(callbacks=[reporter]),
    )
    text = stream.getvalue()
    assert "== Status: 3 trials (3 TERMINATED) ==" in text
    assert "Best loss so far:" in text
    header = next(line for line in text.splitlines() if line.startswith("trial"))
    assert header.split() == ["trial", "status", "x", "iter", "loss"]


def fit(tmp_path, trainable, param_space=None, **run_config):
    from tune_controller import InProcessExecutor, TuneConfig, Tuner

    return Tuner(
        trainable,
        param_space=param_space or {},
        tune_config=TuneConfig(metric="loss", mode="min"),
        run_config=RunConfig(storage_path=str(tmp_path), **run_config),
        executor=InProcessExecutor(num_cpus=2),
    ).fit()


def three_steps(config):
    for step in range(3):
        report({"loss": config["x"] / (step + 1), "accuracy": 0.5})


def test_verbose_0_prints_nothing(tmp_path, capsys):
    fit(tmp_path, three_steps, {"x": grid_search([1.0, 2.0])}, verbose=0)
    assert capsys.readouterr().out == ""


def test_verbose_1_prints_the_table_and_no_result_lines(tmp_path, capsys):
    fit(tmp_path, three_steps, {"x": grid_search([1.0, 2.0])}, verbose=1)
    out = capsys.readouterr().out
    assert "== Status: 2 trials (2 TERMINATED) ==" in out
    assert "Best loss so far: 0.333333 (trial three_steps_" in out
    assert ": x=1)" in out
    header = next(line for line in out.splitlines() if line.startswith("trial "))
    assert header.split() == ["trial", "status", "x", "iter", "loss", "accuracy"]
    assert "reported" not in out


def test_verbose_2_adds_one_line_per_result_throttled_per_trial(tmp_path, capsys):
    fit(tmp_path, three_steps, {"x": grid_search([1.0, 2.0])}, verbose=2)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("Trial ")]
    # The first result of each trial, then its last (at completion): iteration 2 falls in the interval.
    reported = sorted(line.split(" reported ")[-1] for line in lines if "reported" in line)
    assert reported == [
        "loss=0.33333 at iteration 3.",
        "loss=0.66667 at iteration 3.",
        "loss=1 at iteration 1.",
        "loss=2 at iteration 1.",
    ]
    assert sum(line.endswith(" completed.") for line in lines) == 2
    assert "== Status:" in out


def test_verbose_3_prints_results_in_full(tmp_path, capsys):
    fit(tmp_path, three_steps, {"x": grid_search([1.0])}, verbose=3)
    out = capsys.readouterr().out
    assert "Result for three_steps_" in out
    assert "  accuracy: 0.5" in out
    assert "  training_iteration: 3" in out


def test_a_failure_is_one_line_naming_the_parameters_and_the_error(tmp_path, capsys):
    def broken(config):
        raise ValueError("no good")

    fit(tmp_path, broken, {"x": grid_search([7])}, verbose=2)
    out = capsys.readouterr().out
    assert "errored with parameters {x=7}: ValueError: no good (full traceback in result.error)" in out


def test_a_progress_reporter_in_the_run_config_replaces_the_default(tmp_path, capsys):
    stream = io.StringIO()
    reporter = ProgressReporter(metric_columns=["accuracy"], parameter_columns=[], stream=stream, interval_s=3600)
    fit(tmp_path, three_steps, {"x": grid_search([1.0])}, progress_reporter=reporter)
    assert capsys.readouterr().out == ""
    header = next(line for line in stream.getvalue().splitlines() if line.startswith("trial "))
    assert header.split() == ["trial", "status", "iter", "accuracy"]
    fit(tmp_path, three_steps, {"x": grid_search([1.0])}, progress_reporter=ProgressReporter(stream=stream), verbose=0)
    assert capsys.readouterr().out == ""


def test_bookkeeping_keys_are_not_metric_columns_and_the_columns_are_capped():
    from tune_trial import Trial

    trial = Trial("t1", {"lr": 0.1})
    trial.last_result = {"a": 1, "b": 2, "c": 3, "training_iteration": 4, "time_total_s": 1.0, "trial_id": "t1"}
    reporter = ProgressReporter(metric="c", max_metric_columns=2)
    reporter.setup()
    header, row = reporter.table([trial])
    assert header == ["trial", "status", "lr", "iter", "c", "a"]
    assert row == ["t1", "PENDING", "0.1", "4", "3", "1"]


def test_verbose_must_be_a_level():
    import pytest

    with pytest.raises(ValueError, match=r"RunConfig.verbose must be 0, 1, 2 or 3, got 5"):
        RunConfig(verbose=5)


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, content):
        self.shown.append(("update", content.data))


def test_in_a_notebook_the_table_is_html_updated_in_place(tmp_path, capsys, monkeypatch):
    """A stand-in for a Jupyter kernel's IPython: the reporter must find it without importing it."""
    import types

    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    display = types.ModuleType("IPython.display")
    display.HTML = lambda data: types.SimpleNamespace(data=data)

    def show(content, display_id):
        assert display_id is True
        shown.append(("display", content.data))
        return FakeHandle(shown)

    display.display = show
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)

    fit(tmp_path, three_steps, {"x": grid_search([1.0, 2.0])}, verbose=2)
    assert capsys.readouterr().out == ""  # level 2 keeps to the table in a notebook
    assert shown[0][0] == "display"
    assert {kind for kind, _ in shown[1:]} == {"update"}
    last = shown[-1][1]
    assert "<b>Status: 2 trials (2 TERMINATED)</b>" in last
    assert "<th>trial</th><th>status</th><th>x</th><th>iter</th><th>loss</th><th>accuracy</th>" in last
    assert last.count("<td>TERMINATED</td>") == 2


def test_a_terminal_ipython_is_not_a_notebook(monkeypatch):
    import types

    from tune_controller._progress import in_notebook

    assert not in_notebook() or "IPython" in sys.modules
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace()  # TerminalInteractiveShell has no kernel
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert not in_notebook()
    ipython.get_ipython = lambda: None  # IPython imported, but not running
    assert not in_notebook()
