"""The journal and Tuner.restore: a driver killed at any moment loses nothing and continues."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tune_controller import Callback, FailureConfig, InProcessExecutor, RunConfig, TuneConfig, Tuner
from tune_controller._journal import JOURNAL_FILE, read_records
from tune_schedulers import ASHAScheduler, TrialScheduler
from tune_search import BasicVariantGenerator, grid_search, uniform
from tune_trial import Checkpoint, TrialStatus, TuneError, get_checkpoint, get_context, report

# The driver a test kills: 8 trials under ASHA (milestones 2, 4, 8), two at a time, each saving a
# checkpoint with every result and recording where it (re)started in STARTS.
DRIVER = """
import json, os, sys, tempfile, time
from tune_controller import InProcessExecutor, RunConfig, TuneConfig, Tuner
from tune_schedulers import ASHAScheduler, TrialScheduler
from tune_search import BasicVariantGenerator, grid_search, uniform
from tune_trial import Checkpoint, get_checkpoint, get_context, report

STARTS = os.environ["STARTS"]

def climb(config):
    checkpoint = get_checkpoint()
    start = 0
    if checkpoint is not None:
        with open(os.path.join(checkpoint.path, "state.json")) as file:
            start = json.load(file)["step"]
    with open(STARTS, "a") as file:
        file.write(f"{get_context().get_trial_id()} {start}\\n")
    for step in range(start + 1, 9):
        time.sleep(0.02)  # the work of one step
        with tempfile.TemporaryDirectory() as directory:
            with open(os.path.join(directory, "state.json"), "w") as file:
                json.dump({"step": step}, file)
            report({"score": config["x"] * step}, checkpoint=Checkpoint.from_directory(directory))

def make_tuner():
    return Tuner(
        climb,
        param_space={"x": uniform(0, 1)},
        tune_config=TuneConfig(
            metric="score",
            mode="max",
            num_samples=8,
            search_alg=BasicVariantGenerator(random_state=0),
            scheduler=ASHAScheduler(max_t=8, grace_period=2, reduction_factor=2, brackets=1),
        ),
        run_config=RunConfig(name="crash", storage_path=sys.argv[1], verbose=0),
        executor=InProcessExecutor(num_cpus=2),
    )

if __name__ == "__main__":
    make_tuner().fit()
"""


def count_results(journal: Path) -> int:
    if not journal.exists():
        return 0
    return sum(1 for record in read_records(journal) if record["t"] == "result")


def kill_after(tmp_path: Path, results: int, remote: bool = False) -> Path:
    """Run the driver in a subprocess and SIGKILL it once ``results`` results are in its journal.

    ``remote``: the driver's storage is a ``file://`` URI (``tmp_path/bucket``), synced every 50 ms
    from a staging directory under ``tmp_path/staging``; the results are counted in the storage's journal.
    """
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    environment = {**os.environ, "STARTS": str(tmp_path / "starts.txt"), "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
    storage = str(tmp_path)
    if remote:
        (tmp_path / "staging").mkdir()
        environment.update(TMPDIR=str(tmp_path / "staging"), TUNE_SYNC_PERIOD_S="0.05")
        storage = f"file://{tmp_path / 'bucket'}"
    driver = subprocess.Popen([sys.executable, str(script), storage], env=environment)
    journal = (tmp_path / "bucket" if remote else tmp_path) / "crash" / JOURNAL_FILE
    deadline = time.monotonic() + 120
    try:
        while count_results(journal) < results:
            assert driver.poll() is None, f"the driver ended before {results} results"
            assert time.monotonic() < deadline, "the driver made no progress"
            time.sleep(0.005)
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
    assert driver.returncode == -signal.SIGKILL
    return journal.parent


def load_driver(tmp_path: Path):  # the driver's trainable and settings, as a user script would have them
    namespace: dict = {"__name__": "driver"}
    exec(compile(DRIVER, str(tmp_path / "driver.py"), "exec"), namespace)
    return namespace


def starts(tmp_path: Path) -> list[tuple[str, int]]:
    lines = (tmp_path / "starts.txt").read_text().split()
    return [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]


@pytest.mark.parametrize(("kill_at", "remote"), [(3, False), (9, False), (15, False), (9, True)])
def test_a_killed_driver_loses_nothing_and_continues(tmp_path, monkeypatch, kill_at, remote):
    """With remote storage, "nothing" is what reached the storage: its journal at the kill, the
    driver's machine (its staging directory) gone with the driver."""
    if remote:
        pytest.importorskip("pyarrow")  # the extra tune-controller[storage]
    monkeypatch.setenv("STARTS", str(tmp_path / "starts.txt"))
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    experiment = kill_after(tmp_path, kill_at, remote)
    if remote:
        shutil.rmtree(tmp_path / "staging")
    before = list(read_records(experiment / JOURNAL_FILE))
    reported = [(r["id"], r["r"]["training_iteration"], r["r"]["score"]) for r in before if r["t"] == "result"]
    status: dict[str, str] = {}  # where each trial was, "STOPPING" when a decision to stop it was journaled
    for record in before:
        if record["t"] == "status":
            status[record["id"]] = record["s"]
        elif record["t"] == "ending" and record["d"] == "STOP":
            status[record["id"]] = "STOPPING"
    latest_checkpoint = {  # a result's own, or (remote storage) one whose upload was journaled
        r["id"]: r["r"]["training_iteration"]
        for r in before
        if r["t"] == "ckpt" or (r["t"] == "result" and "ckpt" in r)
    }
    started_before = len(starts(tmp_path))
    assert len(reported) >= kill_at

    driver = load_driver(tmp_path)
    path = f"file://{experiment}" if remote else str(experiment)
    assert Tuner.can_restore(path)
    tuner = Tuner.restore(path, driver["climb"], executor=InProcessExecutor(num_cpus=2))
    results = tuner.fit()

    # No reported result lost.
    after = {(r.trial_id, entry["training_iteration"], entry["score"]) for r in results for entry in r.metrics_history}
    assert set(reported) <= after
    # Every trial ran to its end, none twice; the searcher went on where it was (same seed, same configs).
    assert len(results) == 8
    assert len({r.trial_id for r in results}) == 8
    assert all(r.status is TrialStatus.TERMINATED for r in results)
    searcher = BasicVariantGenerator(random_state=0)
    searcher.set_search_properties("score", "max", {"x": uniform(0, 1)}, num_samples=8)
    assert [r.config for r in results] == [searcher.suggest(str(i)) for i in range(8)]
    # Finished trials did not run again; running ones resumed from their latest checkpoint.
    restarted = dict(starts(tmp_path)[started_before:])
    for trial_id, state in status.items():
        if state in ("TERMINATED", "STOPPING"):
            assert trial_id not in restarted
        elif state == "RUNNING":
            assert restarted[trial_id] == latest_checkpoint.get(trial_id, 0)
    # ASHA remembers every milestone result it saw before the kill (finished trials never report again).
    rungs = {8: 0, 4: 1, 2: 2}
    recorded = tuner._tune_config.scheduler.get_state()["rungs"][0]
    for record in before:
        if record["t"] == "result" and record["d"] and record["r"]["training_iteration"] in (2, 4):
            iteration = record["r"]["training_iteration"]
            assert recorded[rungs[iteration]][record["id"]] == record["r"]["score"]


def test_a_torn_last_line_is_ignored_and_cut_off_on_restore(tmp_path, monkeypatch):
    monkeypatch.setenv("STARTS", str(tmp_path / "starts.txt"))
    experiment = kill_after(tmp_path, 5)
    with open(experiment / JOURNAL_FILE, "a") as file:
        file.write('{"t":"result","id":"half')  # a write cut short by the crash
    complete = list(read_records(experiment / JOURNAL_FILE))
    assert complete[-1]["t"] != "result" or complete[-1]["id"] != "half"
    results = Tuner.restore(experiment, load_driver(tmp_path)["climb"], executor=InProcessExecutor(2)).fit()
    assert results.num_terminated == 8
    records = list(read_records(experiment / JOURNAL_FILE))  # every line parses: the torn one was cut off
    assert len(records) == (experiment / JOURNAL_FILE).read_text().count("\n")


def test_get_results_reads_a_restored_experiment_without_running_it(tmp_path, monkeypatch):
    monkeypatch.setenv("STARTS", str(tmp_path / "starts.txt"))
    experiment = kill_after(tmp_path, 6)
    reported = [r for r in read_records(experiment / JOURNAL_FILE) if r["t"] == "result"]
    started = len(starts(tmp_path))
    grid = Tuner.restore(experiment, load_driver(tmp_path)["climb"]).get_results()
    assert sum(len(result.metrics_history) for result in grid) == len(reported)
    best = max(reported, key=lambda record: record["r"]["score"])
    assert grid.get_best_result(scope="all").trial_id == best["id"]
    assert len(starts(tmp_path)) == started  # nothing ran


def test_restore_refuses_a_directory_that_is_not_an_experiment(tmp_path):
    assert not Tuner.can_restore(tmp_path)
    with pytest.raises(TuneError, match=str(tmp_path)):
        Tuner.restore(tmp_path, lambda config: None)


def flaky_then_fine(config):
    """Fails once at step 3 in its first run (marker file), then resumes from its checkpoint."""
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    marker = Path(get_context().get_trial_dir()) / "failed-once"
    for step in range(start + 1, 6):
        if step == 3 and config["fail"] and not marker.exists():
            marker.write_text("")
            raise RuntimeError("lost the GPU")
        directory = Path(get_context().get_trial_dir()) / f"tmp-{step}"
        directory.mkdir(exist_ok=True)
        (directory / "step").write_text(str(step))
        report({"step": step, "start": start}, checkpoint=Checkpoint.from_directory(directory))


def test_errored_trials_stay_failed_unless_asked_and_then_resume_or_restart(tmp_path):
    def tuner(failures):
        return Tuner(
            flaky_then_fine,
            param_space={"fail": True},
            run_config=RunConfig(name="errors", storage_path=str(tmp_path), verbose=0, failure_config=failures),
            executor=InProcessExecutor(2),
        )

    (failed,) = tuner(FailureConfig(max_failures=0)).fit()
    assert failed.status is TrialStatus.ERROR
    assert "lost the GPU" in (failed.error or "")
    experiment = tmp_path / "errors"
    (again,) = Tuner.restore(experiment, flaky_then_fine, executor=InProcessExecutor(2)).fit()
    assert again.status is TrialStatus.ERROR  # finished trials do not run again
    (resumed,) = Tuner.restore(experiment, flaky_then_fine, resume_errored=True, executor=InProcessExecutor(2)).fit()
    assert resumed.status is TrialStatus.TERMINATED
    assert resumed.error is None
    assert [(entry["step"], entry["start"]) for entry in resumed.metrics_history] == [
        (1, 0),
        (2, 0),
        (3, 2),
        (4, 2),
        (5, 2),
    ]
    (restarted,) = Tuner.restore(experiment, flaky_then_fine, restart_errored=True, executor=InProcessExecutor(2)).fit()
    assert restarted.status is TrialStatus.TERMINATED  # it was not errored any more: nothing to do


@pytest.mark.parametrize(
    ("how", "written"),
    [
        ("resume_errored", {"checkpoint_000002": 3, "checkpoint_000003": 4, "checkpoint_000004": 5}),
        ("restart_errored", {f"checkpoint_{index:06d}": index - 1 for index in range(2, 7)}),
    ],
)
def test_checkpoint_numbers_go_on_across_a_restore_resumed_or_started_over(tmp_path, how, written):
    """A restore takes each trial's checkpoint counter up from the journal: whether it resumes from
    step 2 or starts over from step 1, it writes new directories and leaves the first run's alone."""
    run_config = RunConfig(name="numbers", storage_path=str(tmp_path), verbose=0)
    (failed,) = Tuner(
        flaky_then_fine, param_space={"fail": True}, run_config=run_config, executor=InProcessExecutor(2)
    ).fit()
    trial_dir = Path(failed.path)

    def steps_on_disk():
        return {path.name: int((path / "step").read_text()) for path in sorted(trial_dir.glob("checkpoint_*"))}

    first_run = {"checkpoint_000000": 1, "checkpoint_000001": 2}
    assert steps_on_disk() == first_run
    (result,) = Tuner.restore(tmp_path / "numbers", flaky_then_fine, executor=InProcessExecutor(2), **{how: True}).fit()
    assert result.status is TrialStatus.TERMINATED
    assert steps_on_disk() == {**first_run, **written}
    assert result.checkpoint is not None
    assert result.checkpoint.path == str(trial_dir / max(written))


def test_a_journal_naming_checkpoints_by_iteration_restores_with_numbers_past_them(tmp_path):
    """Journals written before the counter named a checkpoint by its training iteration (steps 1 and 2
    in checkpoint_000001 and checkpoint_000002): the resumed trial numbers its new ones on from 3."""
    run_config = RunConfig(name="old", storage_path=str(tmp_path), verbose=0)
    (failed,) = Tuner(
        flaky_then_fine, param_space={"fail": True}, run_config=run_config, executor=InProcessExecutor(2)
    ).fit()
    trial_dir, journal = Path(failed.path), tmp_path / "old" / JOURNAL_FILE
    text = journal.read_text()
    for index in (1, 0):  # the later first, so that no name is taken twice
        (trial_dir / f"checkpoint_{index:06d}").rename(trial_dir / f"checkpoint_{index + 1:06d}")
        text = text.replace(f"checkpoint_{index:06d}", f"checkpoint_{index + 1:06d}")
    journal.write_text(text)
    (result,) = Tuner.restore(
        tmp_path / "old", flaky_then_fine, resume_errored=True, executor=InProcessExecutor(2)
    ).fit()
    assert [(entry["step"], entry["start"]) for entry in result.metrics_history][2:] == [(3, 2), (4, 2), (5, 2)]
    on_disk = {path.name: int((path / "step").read_text()) for path in sorted(trial_dir.glob("checkpoint_*"))}
    assert on_disk == {f"checkpoint_{step:06d}": step for step in range(1, 6)}


def fails_once_at_each(config):
    """Fails the first time it reaches each step of ``config["fail_at"]`` (marker files in its directory)."""
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "step").read_text()) if checkpoint else 0
    trial_dir = Path(get_context().get_trial_dir())
    for step in range(start + 1, 7):
        if step in config["fail_at"] and not (trial_dir / f"failed-at-{step}").exists():
            (trial_dir / f"failed-at-{step}").write_text("")
            raise RuntimeError(f"failure at step {step}")
        directory = trial_dir / f"tmp-{step}"
        directory.mkdir(exist_ok=True)
        (directory / "step").write_text(str(step))
        report({"step": step}, checkpoint=Checkpoint.from_directory(directory))


def in_step():
    """Every result waits for the driver's decision, so a trial never runs ahead of a dying driver."""
    return TuneConfig(scheduler=TrialScheduler())


class CrashOnceAtStepFour(Callback):
    """Stands in for the driver dying (once: the callback is restored with the RunConfig)."""

    def __init__(self, marker):
        self.marker = marker

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if result["step"] == 4 and not self.marker.exists():
            self.marker.write_text("")
            raise KeyboardInterrupt


def test_failures_before_a_restore_count_against_max_failures(tmp_path):
    run_config = RunConfig(
        name="retries",
        storage_path=str(tmp_path),
        verbose=0,
        failure_config=FailureConfig(max_failures=1),
        callbacks=[CrashOnceAtStepFour(tmp_path / "crashed")],
    )
    with pytest.raises(KeyboardInterrupt):  # failed at step 3, retried from step 2, driver died at step 4
        Tuner(fails_once_at_each, param_space={"fail_at": [3, 5]}, tune_config=in_step(), run_config=run_config).fit()
    (result,) = Tuner.restore(tmp_path / "retries", fails_once_at_each).fit()
    assert result.status is TrialStatus.ERROR  # the second failure, at step 5, was one too many
    assert "failure at step 5" in (result.error or "")
    assert [entry["step"] for entry in result.metrics_history] == [1, 2, 3, 4]
    journal = list(read_records(tmp_path / "retries" / JOURNAL_FILE))
    assert [(r["s"], r.get("failures")) for r in journal if r["t"] == "status" and "failures" in r] == [
        ("PENDING", 1),
        ("ERROR", 2),
    ]


def test_fail_fast_after_a_restore_ends_the_experiment_at_the_first_failure(tmp_path):
    run_config = RunConfig(
        name="fail-fast",
        storage_path=str(tmp_path),
        verbose=0,
        failure_config=FailureConfig(fail_fast=True),
        callbacks=[CrashOnceAtStepFour(tmp_path / "crashed")],
    )
    space = {"fail_at": [5], "x": grid_search([1, 2])}
    with pytest.raises(KeyboardInterrupt):  # the first trial reached step 4, one at a time
        Tuner(
            fails_once_at_each,
            param_space=space,
            tune_config=in_step(),
            run_config=run_config,
            executor=InProcessExecutor(1),
        ).fit()
    results = Tuner.restore(tmp_path / "fail-fast", fails_once_at_each, executor=InProcessExecutor(1)).fit()
    (failed,) = results  # it failed at step 5 after resuming; the second trial never started
    assert failed.status is TrialStatus.ERROR
    assert "failure at step 5" in (failed.error or "")


def test_restart_errored_starts_over_and_drops_the_earlier_history(tmp_path):
    run_config = RunConfig(name="restart", storage_path=str(tmp_path), verbose=0)
    Tuner(flaky_then_fine, param_space={"fail": True}, run_config=run_config, executor=InProcessExecutor(2)).fit()
    (result,) = Tuner.restore(
        tmp_path / "restart", flaky_then_fine, restart_errored=True, executor=InProcessExecutor(2)
    ).fit()
    assert result.status is TrialStatus.TERMINATED
    assert [(entry["step"], entry["start"]) for entry in result.metrics_history] == [(s, 0) for s in range(1, 6)]
    assert next(metrics["step"] for _, metrics in result.best_checkpoints) == 5


def test_resume_unfinished_false_ends_the_unfinished_trials(tmp_path, monkeypatch):
    monkeypatch.setenv("STARTS", str(tmp_path / "starts.txt"))
    experiment = kill_after(tmp_path, 4)
    started_before = len(starts(tmp_path))
    results = Tuner.restore(
        experiment, load_driver(tmp_path)["climb"], resume_unfinished=False, executor=InProcessExecutor(2)
    ).fit()
    resumed = [trial for trial, start in starts(tmp_path)[started_before:] if start > 0]
    assert resumed == []  # new trials may start; none that was under way continues
    assert results.num_terminated == len(results)


def test_results_come_from_the_journal_with_the_loggers_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

    def steps(config):
        for step in range(1, 4):
            report({"loss": config["x"] / step})

    tuner = Tuner(
        steps,
        param_space={"x": uniform(1, 2)},
        tune_config=TuneConfig(metric="loss", mode="min", num_samples=3),
        run_config=RunConfig(name="quiet", storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert not list((tmp_path / "quiet").rglob("result.json"))
    assert all(len(result.metrics_history) == 3 for result in results)
    frame = results.get_dataframe(filter_metric="loss", filter_mode="max")
    assert list(frame["training_iteration"]) == [1, 1, 1]
    assert results.get_best_result().metrics["loss"] == min(r.metrics["loss"] for r in results)
    assert tuner.get_results() is results


def test_scheduler_state_is_snapshotted_and_the_rest_replayed(tmp_path):
    """A snapshot older than the journal (the driver died between the two writes) is caught up."""

    def climb(config):
        for step in range(1, 9):
            report({"score": config["x"] * step})

    def tuner():
        return Tuner(
            climb,
            param_space={"x": uniform(0, 1)},
            tune_config=TuneConfig(
                metric="score",
                mode="max",
                num_samples=6,
                search_alg=BasicVariantGenerator(random_state=1),
                scheduler=ASHAScheduler(max_t=8, grace_period=2, brackets=1, seed=3),
            ),
            run_config=RunConfig(name="replay", storage_path=str(tmp_path), verbose=0),
            executor=InProcessExecutor(1),
        )

    first = tuner()
    first.fit()
    final_state = first._tune_config.scheduler.get_state()
    experiment = tmp_path / "replay"
    state = json.loads((experiment / "state.json").read_text())
    # As if the driver had died right after its first snapshot: everything after the header is replayed.
    scheduler = ASHAScheduler(max_t=8, grace_period=2, brackets=1, seed=3)
    scheduler.set_search_properties("score", "max")
    searcher = BasicVariantGenerator(random_state=1)
    searcher.set_search_properties("score", "max", {"x": uniform(0, 1)}, num_samples=6)
    state.update(records=1, scheduler=scheduler.get_state(), searcher=searcher.get_state())
    (experiment / "state.json").write_text(json.dumps(state))
    restored = Tuner.restore(experiment, climb, executor=InProcessExecutor(1))
    restored.fit()
    assert restored._tune_config.scheduler.get_state() == final_state


def test_a_searcher_whose_state_is_not_json_is_refused_before_any_trial(tmp_path):
    class Opaque(BasicVariantGenerator):
        def get_state(self):
            return {**super().get_state(), "model": object()}

    started = []
    tuner = Tuner(
        lambda config: started.append(config),
        param_space={"x": uniform(0, 1)},
        tune_config=TuneConfig(search_alg=Opaque()),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    with pytest.raises(TuneError, match=r"Opaque.get_state\(\) must return JSON-able data"):
        tuner.fit()
    assert started == []


def test_a_placement_group_request_comes_back_from_the_journal_with_its_bundles(tmp_path):
    from tune_controller import with_resources
    from tune_controller._journal import load_experiment
    from tune_controller._storage import ExperimentStorage
    from tune_trial import PlacementGroupFactory

    request = PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD")
    tuner = Tuner(
        with_resources(lambda config: report({"x": config["x"]}), request),
        param_space={"x": grid_search([1, 2])},
        run_config=RunConfig(name="bundles", storage_path=str(tmp_path), verbose=0),
        executor=InProcessExecutor(num_cpus=2),
    )
    assert not tuner.fit().errors
    trials = load_experiment(ExperimentStorage(tmp_path / "bundles")).trials
    assert len(trials) == 2
    for trial in trials.values():
        assert isinstance(trial.trial.resources, PlacementGroupFactory)
        assert trial.trial.resources.bundles == request.bundles
        assert trial.trial.resources.strategy == "SPREAD"
