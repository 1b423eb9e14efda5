"""Remote storage behind a pyarrow.fs filesystem: a file:// URI and an fsspec filesystem stand in for S3.

What "no shared file system" needs, checked on the driver's side: the journal and checkpoints end
up in the storage, the driver's and the trials' local copies are only staging, restores read the
storage, and checkpoint uploads run beside the trial instead of inside ``report``.
"""

import gc
import json
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

pyarrow_fs = pytest.importorskip("pyarrow.fs")  # the extra tune-controller[storage]
fsspec = pytest.importorskip("fsspec")

from fsspec.implementations.memory import MemoryFileSystem  # noqa: E402

from tune_controller import CheckpointConfig, FailureConfig, InProcessExecutor, RunConfig, TuneConfig, Tuner  # noqa: E402
from tune_controller._journal import JOURNAL_FILE, STATE_FILE, read_records  # noqa: E402
from tune_controller._storage import ExperimentSyncer, RemoteStorage  # noqa: E402
from tune_controller._tuner import TUNER_FILE  # noqa: E402
from tune_schedulers import TrialScheduler  # noqa: E402
from tune_search import grid_search  # noqa: E402
from tune_trial import Checkpoint, Decision, Exploit, TuneError, get_checkpoint, get_context, report  # noqa: E402


def counting(config):
    """Counts to ``config["steps"]``, a checkpoint per step; fails once after ``config["fail_at"]``."""
    start = 0
    checkpoint = get_checkpoint()
    if checkpoint is not None:
        start = int((Path(checkpoint.path) / "step").read_text())
    for step in range(start + 1, config["steps"] + 1):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "step").write_text(str(step))
            report({"step": step, "score": config["x"] * step}, checkpoint=Checkpoint.from_directory(directory))
        marker = Path(config["marker"]) / get_context().get_trial_id()
        if step == config.get("fail_at") and not marker.exists():
            marker.touch()
            raise RuntimeError("failing once")


def run(storage_path, marker, *, fail_at=None, storage_filesystem=None, num_to_keep=None, steps=4):
    tuner = Tuner(
        counting,
        param_space={"x": grid_search([1, 2]), "steps": steps, "marker": str(marker), "fail_at": fail_at},
        run_config=RunConfig(
            name="remote",
            storage_path=storage_path,
            storage_filesystem=storage_filesystem,
            verbose=0,
            failure_config=FailureConfig(max_failures=1),
            checkpoint_config=CheckpointConfig(num_to_keep=num_to_keep),
        ),
        executor=InProcessExecutor(num_cpus=2),
    )
    return tuner.fit()


def checkpoint_dirs(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("checkpoint_*") if path.is_dir())


def test_a_file_uri_holds_journal_and_checkpoints_and_retries_resume_from_there(tmp_path):
    remote, marker = tmp_path / "bucket", tmp_path / "marker"
    marker.mkdir()
    grid = run(f"file://{remote}", marker, fail_at=2, num_to_keep=1)
    assert not grid.errors
    experiment = remote / "remote"
    assert {JOURNAL_FILE, STATE_FILE, TUNER_FILE} <= {path.name for path in experiment.iterdir()}
    for result in grid:
        # Retried after step 2 from the checkpoint of step 2: steps 3 and 4 once more, not 1 and 2.
        assert [r["step"] for r in result.metrics_history] == [1, 2, 3, 4]
        assert result.path == str(experiment / Path(result.path).name)
        assert isinstance(result.filesystem, pyarrow_fs.LocalFileSystem)
        # num_to_keep=1: only the latest checkpoint is left in the storage.
        assert checkpoint_dirs(experiment / Path(result.path).name) == ["checkpoint_000003"]
        assert result.checkpoint is not None
        assert result.checkpoint.filesystem is result.filesystem
        with result.checkpoint.as_directory() as directory:
            assert (Path(directory) / "step").read_text() == "4"
        assert [metrics["step"] for _, metrics in result.best_checkpoints] == [4]
    # The driver's staging directory keeps no checkpoint: the trials uploaded theirs and let go of them.
    staging = Path(grid[0].journal._storage.local_dir)  # the local copy the ResultGrid reads
    assert staging != experiment
    assert checkpoint_dirs(staging) == []
    records = [record["t"] for record in read_records(experiment / JOURNAL_FILE)]
    assert records.count("ckpt") == 8
    assert records.count("ckpt_del") == 6


def test_restore_and_results_from_a_uri(tmp_path):
    remote, marker = tmp_path / "bucket", tmp_path / "marker"
    marker.mkdir()
    uri = f"file://{remote}/remote"
    run(f"file://{remote}", marker, steps=2)
    assert Tuner.can_restore(uri)
    assert not Tuner.can_restore(f"file://{remote}/elsewhere")
    restored = Tuner.restore(uri, counting, restart_errored=True)
    assert sorted(result.metrics["score"] for result in restored.get_results()) == [2, 4]
    # Both trials had finished: fit() reruns nothing and keeps their results.
    grid = restored.fit()
    assert sorted(len(result.metrics_history) for result in grid) == [2, 2]
    with pytest.raises(TuneError, match="is not an experiment directory"):
        Tuner.restore(f"file://{remote}/elsewhere", counting)


def test_a_killed_run_resumes_from_the_checkpoints_in_the_storage(tmp_path):
    """A restore on a machine that has none of the files: the staging copies are deleted first."""
    remote, marker = tmp_path / "bucket", tmp_path / "marker"
    marker.mkdir()
    grid = run(f"file://{remote}", marker, steps=3)
    experiment = remote / "remote"
    # Cut the journal back to when every trial had reported two steps, as a crash would have left it.
    lines = (experiment / JOURNAL_FILE).read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        record = json.loads(line)
        if record["t"] in ("result", "ckpt") and record["r"]["step"] == 3:
            continue
        if record["t"] == "hook" or (record["t"] == "status" and record["s"] == "TERMINATED"):
            continue
        kept.append(line)
    (experiment / JOURNAL_FILE).write_text("".join(kept))
    (experiment / STATE_FILE).unlink()
    for result in grid:  # step 3's upload, which the cut journal never recorded, left a file of its own
        (Path(result.path) / "checkpoint_000002" / "stale").write_text("")
    local = Path(grid[0].journal._storage.local_dir)
    for path in sorted(local.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    grid = Tuner.restore(f"file://{remote}/remote", counting).fit()
    for result in grid:
        assert [r["step"] for r in result.metrics_history] == [1, 2, 3]
        assert result.checkpoint is not None
        # Numbered on from the journal's last checkpoint: the upload of step 3 the journal never
        # recorded is replaced, not merged into.
        assert result.checkpoint.path.endswith("checkpoint_000002")
        assert sorted(path.name for path in Path(result.checkpoint.path).iterdir()) == ["step"]


def test_an_fsspec_filesystem_is_storage_too(tmp_path):
    memory = MemoryFileSystem()
    marker = tmp_path / "marker"
    marker.mkdir()
    grid = run("/experiments", marker, storage_filesystem=memory, num_to_keep=2)
    assert not grid.errors
    names = set(memory.find("/experiments/remote"))
    assert "/experiments/remote/journal.jsonl" in names
    for result in grid:
        trial = Path(result.path).name
        assert {name.split("/")[4] for name in names if "checkpoint_" in name and f"/{trial}/" in name} == {
            "checkpoint_000002",
            "checkpoint_000003",
        }
        assert result.checkpoint is not None
        assert (Path(result.checkpoint.to_directory(tmp_path / trial)) / "step").read_text() == "4"
    assert Tuner.can_restore("/experiments/remote", storage_filesystem=memory)


class GatedMemoryFileSystem(MemoryFileSystem):
    """Checkpoint files can be written only once ``gate`` is set (waiting at most 60 s)."""

    gate = threading.Event()
    fail = False

    def _open(self, path, mode="rb", **kwargs):
        if "w" in mode and "/checkpoint_" in path:
            if self.fail:
                raise PermissionError(f"no writing to {path}")
            if not self.gate.wait(60):
                raise TimeoutError("the trial never got past its reports")
        return super()._open(path, mode, **kwargs)


def test_report_does_not_wait_for_the_upload(tmp_path):
    GatedMemoryFileSystem.gate.clear()  # closed, whatever ran before in this session
    memory = GatedMemoryFileSystem(skip_instance_cache=True)
    memory.store, memory.pseudo_dirs = {}, [""]  # its own store, not the class-wide one of MemoryFileSystem

    def train(config):
        for step in range(1, 4):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "step").write_text(str(step))
                report({"step": step}, checkpoint=Checkpoint.from_directory(directory))
        # Every report returned while the first upload was still blocked: now let uploads through.
        GatedMemoryFileSystem.gate.set()

    (result,) = Tuner(train, run_config=RunConfig(storage_path="/gated", storage_filesystem=memory, verbose=0)).fit()
    assert result.error is None
    assert result.checkpoint is not None
    assert result.checkpoint.path.endswith("checkpoint_000002")
    assert [metrics["step"] for _, metrics in result.best_checkpoints] == [3, 2, 1]


def test_the_driver_hears_of_a_result_before_of_its_checkpoints_upload(tmp_path, monkeypatch):
    """However fast the upload (here: done inside ``submit``), ``TrialCheckpointed`` follows its result."""
    from tune_controller import TrialCheckpointed, TrialLaunch, TrialReported, TrialRunSession
    from tune_controller._storage import CheckpointUploader
    from tune_trial import TrialContext

    def upload_at_once(self, local, relative, result):
        self._remote.upload(local, relative)
        self._on_uploaded(relative, result)

    monkeypatch.setattr(CheckpointUploader, "submit", upload_at_once)
    storage = RemoteStorage(pyarrow_fs.LocalFileSystem(), str(tmp_path / "bucket"))
    context = TrialContext("t1", "train_t1", str(tmp_path / "staging" / "train_t1"), "exp")
    session = TrialRunSession(TrialLaunch("t1", {}, context, decision_points=(), storage=storage))

    def train(config):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "w").write_text("1")
            report({"step": 1}, checkpoint=Checkpoint.from_directory(directory))

    session.run(train)
    events = session.take_events(timeout=0)
    assert [type(event) for event in events[:2]] == [TrialReported, TrialCheckpointed]
    assert events[0].uploading
    assert events[1].path == "train_t1/checkpoint_000000"
    assert (tmp_path / "bucket" / "train_t1" / "checkpoint_000000" / "w").read_text() == "1"


def test_a_failed_upload_fails_the_trial_naming_the_checkpoint_and_the_storage(tmp_path):
    memory = GatedMemoryFileSystem(skip_instance_cache=True)
    memory.store, memory.pseudo_dirs = {}, [""]
    memory.fail = True

    def train(config):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "weights").write_text("1")
            report({"step": 1}, checkpoint=Checkpoint.from_directory(directory))

    (result,) = Tuner(train, run_config=RunConfig(storage_path="/failing", storage_filesystem=memory, verbose=0)).fit()
    assert result.error is not None
    assert "Uploading checkpoint" in result.error
    assert "checkpoint_000000" in result.error
    assert result.checkpoint is None


def test_the_syncer_deletes_old_checkpoints_after_uploading_the_journal_and_skips_checkpoints(tmp_path):
    local, remote_dir = tmp_path / "local", tmp_path / "remote"
    (local / "trial" / "checkpoint_000001").mkdir(parents=True)
    (local / "trial" / "checkpoint_000001" / "w").write_text("staged by a trial: it uploads it")
    (local / "trial" / "result.json").write_text("{}\n")
    (local / JOURNAL_FILE).write_text('{"t":"experiment"}\n')
    (remote_dir / "trial" / "checkpoint_000000").mkdir(parents=True)
    uploads = []

    class RecordingStorage(RemoteStorage):
        def replace_file(self, local, relative):
            uploads.append(relative)
            super().replace_file(local, relative)

    storage = RecordingStorage(pyarrow_fs.LocalFileSystem(), str(remote_dir))
    syncer = ExperimentSyncer(local, storage, snapshot=(STATE_FILE, JOURNAL_FILE))
    syncer.delete_later("trial/checkpoint_000000")
    syncer.sync()
    assert uploads == ["trial/result.json", JOURNAL_FILE]  # the journal last, no checkpoint
    assert not (remote_dir / "trial" / "checkpoint_000000").exists()
    syncer.sync()
    assert uploads == ["trial/result.json", JOURNAL_FILE]  # nothing changed, nothing sent
    (local / JOURNAL_FILE).write_text('{"t":"experiment"}\n{"t":"no_more","scheduler":true}\n')
    syncer.close()
    assert uploads[-1] == JOURNAL_FILE
    assert (remote_dir / JOURNAL_FILE).read_text().count("\n") == 2


def test_the_storage_never_holds_a_snapshot_newer_than_its_journal(tmp_path):
    """The driver snapshots while the journal uploads, then a sync fails at the journal: either
    way the snapshot in the storage counts no record that the journal in the storage lacks."""
    local, remote_dir = tmp_path / "local", tmp_path / "remote"
    local.mkdir()
    (local / JOURNAL_FILE).write_text('{"t":"experiment"}\n{"t":"no_more","scheduler":true}\n')
    (local / STATE_FILE).write_text('{"records": 2}')
    uploads = []

    class DriverMeanwhile(RemoteStorage):
        fail = False

        def replace_file(self, local_file, relative):
            if relative == JOURNAL_FILE:
                # The driver commits a record and snapshots it while the journal is on its way.
                with open(local / JOURNAL_FILE, "a") as journal:
                    journal.write('{"t":"hook"}\n')
                (local / STATE_FILE).write_text('{"records": 3}')
                if DriverMeanwhile.fail:
                    raise OSError("connection reset")
            uploads.append(relative)
            super().replace_file(local_file, relative)

    syncer = ExperimentSyncer(
        local, DriverMeanwhile(pyarrow_fs.LocalFileSystem(), str(remote_dir)), snapshot=(STATE_FILE, JOURNAL_FILE)
    )
    syncer.sync()
    assert uploads == [JOURNAL_FILE, STATE_FILE]
    assert (remote_dir / STATE_FILE).read_text() == '{"records": 2}'  # as it was before the journal was read
    assert (remote_dir / JOURNAL_FILE).read_text().count("\n") >= 2
    DriverMeanwhile.fail = True
    with pytest.raises(OSError, match="connection reset"):
        syncer.sync()
    assert uploads == [JOURNAL_FILE, STATE_FILE]  # no snapshot went ahead of the journal that failed
    assert (remote_dir / STATE_FILE).read_text() == '{"records": 2}'


def test_a_failed_sync_keeps_its_checkpoint_deletions_for_the_next(tmp_path):
    local, remote_dir = tmp_path / "local", tmp_path / "remote"
    local.mkdir()
    (local / JOURNAL_FILE).write_text('{"t":"experiment"}\n')
    (remote_dir / "trial" / "checkpoint_000000").mkdir(parents=True)

    class FlakyStorage(RemoteStorage):
        failures = 1

        def replace_file(self, local, relative):
            if FlakyStorage.failures:
                FlakyStorage.failures -= 1
                raise OSError("connection reset")
            super().replace_file(local, relative)

    syncer = ExperimentSyncer(local, FlakyStorage(pyarrow_fs.LocalFileSystem(), str(remote_dir)))
    syncer.delete_later("trial/checkpoint_000000")
    with pytest.raises(OSError, match="connection reset"):
        syncer.sync()
    # The journal that replaced it is not in the storage yet: the old checkpoint stays, for now.
    assert (remote_dir / "trial" / "checkpoint_000000").exists()
    syncer.sync()
    assert (remote_dir / JOURNAL_FILE).read_text() == '{"t":"experiment"}\n'
    assert not (remote_dir / "trial" / "checkpoint_000000").exists()


def test_the_staging_directory_goes_with_the_results_unless_the_last_sync_failed(tmp_path, caplog):
    def one_report(config):
        report({"x": config["x"]})

    def staging_of(storage_path, storage_filesystem=None):
        run_config = RunConfig(
            name="staged", storage_path=storage_path, storage_filesystem=storage_filesystem, verbose=0
        )
        grid = Tuner(one_report, param_space={"x": 1}, run_config=run_config).fit()
        assert grid[0].metrics["x"] == 1  # the results read the journal in the staging directory
        staging = Path(grid[0].journal._storage.local_dir)
        assert (staging / JOURNAL_FILE).is_file()
        return staging

    staging = staging_of(f"file://{tmp_path / 'bucket'}")
    gc.collect()
    assert not staging.exists()
    assert (tmp_path / "bucket" / "staged" / JOURNAL_FILE).is_file()
    # Restored from the storage: a staging copy of its own, deleted alike.
    tuner = Tuner.restore(f"file://{tmp_path / 'bucket' / 'staged'}", one_report)
    staging = Path(tuner.get_results()[0].journal._storage.local_dir)
    assert staging.is_dir()
    del tuner
    gc.collect()
    assert not staging.exists()

    class FailsAtTheEnd(MemoryFileSystem):
        """Takes the first sync (the storage is checked before any trial), refuses the last."""

        writes = 0

        def _open(self, path, mode="rb", **kwargs):
            if "w" in mode and path.endswith(".uploading"):
                FailsAtTheEnd.writes += 1
                if FailsAtTheEnd.writes > 3:  # tuner.pkl, state.json, the journal
                    raise PermissionError(f"no more writing to {path}")
            return super()._open(path, mode, **kwargs)

    memory = FailsAtTheEnd(skip_instance_cache=True)
    memory.store, memory.pseudo_dirs = {}, [""]
    staging = staging_of("/failing-at-the-end", memory)
    assert "The last sync of the experiment to memory:///failing-at-the-end/staged failed" in caplog.text
    gc.collect()
    try:
        assert (staging / JOURNAL_FILE).is_file()  # the only complete copy: kept, as the log says
    finally:
        shutil.rmtree(staging)


def test_the_staging_directory_stays_when_the_last_sync_is_interrupted(tmp_path, monkeypatch):
    sync = ExperimentSyncer.sync

    def interrupted(self):
        if self._closing.is_set():
            raise KeyboardInterrupt  # Ctrl-C while the last sync runs
        sync(self)

    def one_report(config):
        report({"x": 1})

    monkeypatch.setattr(ExperimentSyncer, "sync", interrupted)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "staging"))
    (tmp_path / "staging").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    run_config = RunConfig(name="interrupted", storage_path=f"file://{tmp_path / 'bucket'}", verbose=0)
    with pytest.raises(KeyboardInterrupt):
        Tuner(one_report, run_config=run_config).fit()
    gc.collect()
    (staging,) = (tmp_path / "staging").glob("tune-interrupted-*")
    assert (staging / JOURNAL_FILE).is_file()


class ReadOnlyMemoryFileSystem(MemoryFileSystem):
    def _open(self, path, mode="rb", **kwargs):
        if "w" in mode:
            raise PermissionError(f"read-only: {path}")
        return super()._open(path, mode, **kwargs)


def test_storage_that_cannot_be_written_is_named_before_any_trial_starts():
    started = []
    memory = ReadOnlyMemoryFileSystem(skip_instance_cache=True)
    memory.store, memory.pseudo_dirs = {}, [""]
    run_config = RunConfig(name="ro", storage_path="/read-only", storage_filesystem=memory, verbose=0)
    expected = r"storage_path 'memory:///read-only/ro' is not writable: read-only: /read-only/ro/tuner.pkl"
    with pytest.raises(TuneError, match=expected):
        Tuner(started.append, run_config=run_config).fit()
    assert started == []


def test_a_storage_filesystem_needs_a_plain_path(tmp_path):
    with pytest.raises(TuneError, match="storage_filesystem is set but storage_path is not"):
        Tuner(counting, run_config=RunConfig(storage_filesystem=MemoryFileSystem(), verbose=0)).fit()
    with pytest.raises(TuneError, match="is a URI, but storage_filesystem is set too"):
        Tuner(
            counting,
            run_config=RunConfig(storage_path="s3://b/p", storage_filesystem=MemoryFileSystem(), verbose=0),
        ).fit()
    with pytest.raises(TuneError, match=r"must be a pyarrow\.fs\.FileSystem or an fsspec filesystem, got int"):
        Tuner(counting, run_config=RunConfig(storage_path="/x", storage_filesystem=3, verbose=0)).fit()


@pytest.mark.parametrize("period", ["soon", "nan", "inf", "-1"])
def test_a_sync_period_that_is_not_a_finite_number_of_seconds_is_named(tmp_path, monkeypatch, period):
    monkeypatch.setenv("TUNE_SYNC_PERIOD_S", period)
    started = []
    run_config = RunConfig(name="period", storage_path=f"file://{tmp_path}", verbose=0)
    with pytest.raises(TuneError, match=f"TUNE_SYNC_PERIOD_S='{period}'"):
        Tuner(started.append, run_config=run_config).fit()
    assert started == []


def owned_steps(config):
    """``4 + x`` steps, a checkpoint each holding (step, owner); reports where it resumed and whose state."""
    step, owner, resumed = 0, None, None
    checkpoint = get_checkpoint()
    if checkpoint is not None:
        # A local download, not the driver's staging copy (the trials let go of those after uploading).
        assert Path(get_context().get_trial_dir()).parent not in Path(checkpoint.path).parents
        step, owner = json.loads((Path(checkpoint.path) / "state.json").read_text())
        resumed = step
    while step < 4 + config["x"]:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "state.json").write_text(json.dumps([step, get_context().get_trial_id()]))
            report({"step": step, "resumed": resumed, "from": owner}, checkpoint=Checkpoint.from_directory(directory))


class PauseEachOnceThenExploit(TrialScheduler):
    """Pauses every trial at its second result; the second trial, at its third, exploits the first."""

    def __init__(self):
        super().__init__()
        self.trials, self.paused = [], set()

    def milestones(self):
        return {2, 3}

    def on_trial_add(self, trial):
        if trial not in self.trials:
            self.trials.append(trial)

    def on_trial_result(self, trial, result):
        if result["training_iteration"] == 2 and trial.trial_id not in self.paused:
            self.paused.add(trial.trial_id)
            return Decision.PAUSE
        second = len(self.trials) > 1 and trial is self.trials[1]
        if result["training_iteration"] == 3 and second and trial.config["x"] != 5:
            return Exploit(self.trials[0].trial_id, {"x": 5})
        return Decision.CONTINUE


def test_pause_resume_and_exploit_restore_from_the_storage(tmp_path):
    grid = Tuner(
        owned_steps,
        param_space={"x": grid_search([1, 2])},
        tune_config=TuneConfig(scheduler=PauseEachOnceThenExploit(), max_concurrent_trials=1),
        run_config=RunConfig(name="pbt", storage_path=f"file://{tmp_path}", verbose=0),
        executor=InProcessExecutor(num_cpus=1),
    ).fit()
    assert not grid.errors
    source, exploiter = grid
    steps = [(r["step"], r["resumed"]) for r in source.metrics_history]
    assert steps == [(1, None), (2, None), (3, 2), (4, 2), (5, 2)]  # paused at 2, resumed from its checkpoint
    assert exploiter.config == {"x": 5}
    # Paused at 2 and resumed from its own checkpoint; at 3 restarted from the source's latest (step 5).
    steps = [(r["step"], r["resumed"], r["from"] == source.trial_id) for r in exploiter.metrics_history]
    assert steps == [
        (1, None, False),
        (2, None, False),
        (3, 2, False),
        (6, 5, True),
        (7, 5, True),
        (8, 5, True),
        (9, 5, True),
    ]


SOURCE_REPORTED = threading.Event()


def two_steps(config):
    """Two steps, a checkpoint each holding (step, owner). lr 0.5 (the source) signals its first
    report; lr 0.01 (the exploiter) reports only after it, so the source's upload is under way."""
    step, owner = 0, None
    checkpoint = get_checkpoint()
    if checkpoint is not None:
        step, owner = json.loads((Path(checkpoint.path) / "state.json").read_text())
    elif config["lr"] == 0.01:
        assert SOURCE_REPORTED.wait(60), "the source never reported"
    while step < 2:
        step += 1
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "state.json").write_text(json.dumps([step, get_context().get_trial_id()]))
            report({"step": step, "from": owner}, checkpoint=Checkpoint.from_directory(directory))
        if config["lr"] == 0.5:
            SOURCE_REPORTED.set()


class ExploitTheFirstAtIterationOne(TrialScheduler):
    def __init__(self):
        super().__init__()
        self.trials = []

    def milestones(self):
        return {1}

    def on_trial_add(self, trial):
        if trial not in self.trials:
            self.trials.append(trial)

    def on_trial_result(self, trial, result):
        second = trial is self.trials[-1] and len(self.trials) == 2
        if second and result["training_iteration"] == 1 and trial.config["lr"] != 0.5:
            return Exploit(self.trials[0].trial_id, {"lr": 0.5})
        return Decision.CONTINUE


class SourceGatedMemoryFileSystem(MemoryFileSystem):
    """The source's checkpoints (its directory is ``lr0.5``) are written once ``gate`` is set."""

    gate = threading.Event()

    def _open(self, path, mode="rb", **kwargs):
        if "w" in mode and "/lr0.5/checkpoint_" in path and not self.gate.wait(60):
            raise TimeoutError("the exploiter never paused")
        return super()._open(path, mode, **kwargs)


def test_an_exploit_of_a_checkpoint_still_uploading_waits_for_it():
    """The exploiter pauses while the source's first checkpoint is on its way to the storage: it
    restarts from that checkpoint once it arrives, instead of going on with its own config."""
    from tune_controller import Callback
    from tune_trial import TrialStatus

    SOURCE_REPORTED.clear()
    SourceGatedMemoryFileSystem.gate.clear()
    memory = SourceGatedMemoryFileSystem(skip_instance_cache=True)
    memory.store, memory.pseudo_dirs = {}, [""]

    class OpenTheGateOncePaused(Callback):
        def on_step_end(self, iteration, trials, **info):
            if any(trial.status is TrialStatus.PAUSED for trial in trials):
                SourceGatedMemoryFileSystem.gate.set()

    source, exploiter = Tuner(
        two_steps,
        param_space={"lr": grid_search([0.5, 0.01])},
        tune_config=TuneConfig(
            scheduler=ExploitTheFirstAtIterationOne(),
            max_concurrent_trials=2,
            trial_dirname_creator=lambda trial: f"lr{trial.config['lr']}",
        ),
        run_config=RunConfig(
            storage_path="/gated-source",
            storage_filesystem=memory,
            verbose=0,
            callbacks=[OpenTheGateOncePaused()],
        ),
        executor=InProcessExecutor(num_cpus=2),
    ).fit()
    assert SourceGatedMemoryFileSystem.gate.is_set()
    assert source.error is None
    assert exploiter.error is None
    assert exploiter.config == {"lr": 0.5}
    # Its first step of its own, then on from the source's first checkpoint (step 1).
    steps = [(r["training_iteration"], r["step"], r["from"]) for r in exploiter.metrics_history]
    assert steps == [(1, 1, None), (2, 2, source.trial_id)]
