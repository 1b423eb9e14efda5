import tempfile
import threading
from pathlib import Path

import pytest

from tune_controller import TrialEnded, TrialLaunch, TrialReported, TrialRunSession
from tune_trial import Checkpoint, Decision, TrialContext, get_checkpoint, report


def _launch(tmp_path, decision_points=(), **kwargs):
    context = TrialContext("t1", "train_t1", str(tmp_path), "exp")
    return TrialLaunch("t1", {"x": 1}, context, decision_points=decision_points, **kwargs)


def _run(session, trainable):
    thread = threading.Thread(target=session.run, args=(trainable,))
    thread.start()
    return thread


def _all_events(session, thread):
    thread.join()
    return session.take_events(timeout=0)


def test_reports_get_iteration_timing_and_trial_id(tmp_path):
    session = TrialRunSession(_launch(tmp_path, start_iteration=5, time_offset_s=100.0))

    def trainable(config):
        report({"loss": 1.0})
        report({"loss": 0.5})

    events = _all_events(session, _run(session, trainable))
    results = [event.result for event in events if isinstance(event, TrialReported)]
    assert [result["training_iteration"] for result in results] == [6, 7]
    assert all(result["trial_id"] == "t1" for result in results)
    assert all(result["time_total_s"] >= 100.0 for result in results)
    assert events[-1] == TrialEnded("t1")


def test_a_returned_dict_is_the_final_result(tmp_path):
    session = TrialRunSession(_launch(tmp_path))
    events = _all_events(session, _run(session, lambda config: {"score": config["x"] * 2}))
    assert events[0].result["score"] == 2


def test_reporting_a_key_the_session_owns_is_an_error_naming_the_trial(tmp_path):
    session = TrialRunSession(_launch(tmp_path))
    events = _all_events(session, _run(session, lambda config: report({"training_iteration": 3})))
    assert "Trial t1: report() got ['training_iteration']" in events[-1].error


def test_a_checkpoint_is_persisted_before_report_returns(tmp_path):
    session = TrialRunSession(_launch(tmp_path / "trial"))

    def trainable(config):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "state.txt").write_text("7")
            report({"loss": 1.0}, checkpoint=Checkpoint.from_directory(directory))

    events = _all_events(session, _run(session, trainable))
    kept = events[0].checkpoint
    assert kept.path == str(tmp_path / "trial" / "checkpoint_000000")
    assert (Path(kept.path) / "state.txt").read_text() == "7"


def test_checkpoints_are_numbered_from_the_launchs_index_into_fresh_directories(tmp_path):
    """A directory at a number the driver gives out again is one whose report it never got (the
    process died first): its files are not the new checkpoint's."""
    trial_dir = tmp_path / "trial"
    (trial_dir / "checkpoint_000007").mkdir(parents=True)
    (trial_dir / "checkpoint_000007" / "model_a.pt").write_text("old")
    session = TrialRunSession(_launch(trial_dir, checkpoint_index=7))

    def trainable(config):
        for step in range(2):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "model_b.pt").write_text(str(step))
                report({"loss": 1.0}, checkpoint=Checkpoint.from_directory(directory))

    events = _all_events(session, _run(session, trainable))
    kept = [Path(event.checkpoint.path) for event in events[:2]]
    assert kept == [trial_dir / "checkpoint_000007", trial_dir / "checkpoint_000008"]
    assert [sorted(path.name for path in directory.iterdir()) for directory in kept] == [["model_b.pt"]] * 2


def test_the_trial_sees_the_checkpoint_it_was_started_from(tmp_path):
    session = TrialRunSession(_launch(tmp_path, checkpoint=Checkpoint(tmp_path)))
    events = _all_events(session, _run(session, lambda config: {"has": get_checkpoint() is not None}))
    assert events[0].result["has"] is True


def test_at_a_decision_point_the_trial_waits_and_stops_when_told(tmp_path):
    session = TrialRunSession(_launch(tmp_path, decision_points={2}))
    reached = []

    def trainable(config):
        for step in range(1, 5):
            report({"step": step})
            reached.append(step)

    thread = _run(session, trainable)
    seen = []
    while not any(isinstance(event, TrialReported) and event.awaits_decision for event in seen):
        seen += session.take_events(timeout=None)
    assert reached == [1]  # blocked inside the second report, waiting for the verdict
    session.decide(Decision.STOP)
    seen += _all_events(session, thread)
    assert [event.result["step"] for event in seen if isinstance(event, TrialReported)] == [1, 2]
    assert seen[-1] == TrialEnded("t1", stopped=True)


def test_continue_at_a_decision_point_lets_the_trial_go_on(tmp_path):
    session = TrialRunSession(_launch(tmp_path, decision_points=None))  # None: every result is a decision point
    thread = _run(session, lambda config: [report({"step": step}) for step in range(3)])
    answered = 0
    events = []
    while not events or not isinstance(events[-1], TrialEnded):
        for event in session.take_events(timeout=None):
            events.append(event)
            if isinstance(event, TrialReported):
                answered += 1
                session.decide(Decision.CONTINUE)
    thread.join()
    assert answered == 3
    assert events[-1] == TrialEnded("t1")


def test_a_stop_request_ends_a_trial_that_runs_ahead(tmp_path):
    session = TrialRunSession(_launch(tmp_path), max_buffered=4)

    def forever(config):
        while True:
            report({"loss": 0.0})

    thread = _run(session, forever)
    assert session.take_events(timeout=None)
    session.request_stop()
    events = _all_events(session, thread)
    assert events[-1] == TrialEnded("t1", stopped=True)


def test_a_trial_cannot_run_further_ahead_than_its_buffer(tmp_path):
    session = TrialRunSession(_launch(tmp_path), max_buffered=3)
    thread = _run(session, lambda config: [report({"i": i}) for i in range(10)])
    drained = []
    while not drained or not isinstance(drained[-1], TrialEnded):
        batch = session.take_events(timeout=None)
        assert len(batch) <= 3 + 1  # a full buffer plus the end event at most
        drained += batch
    thread.join()
    assert len(drained) == 11


def test_an_exception_keeps_the_users_traceback_without_executor_frames(tmp_path):
    session = TrialRunSession(_launch(tmp_path))

    def broken_trainable(config):
        raise KeyError("missing_feature")

    events = _all_events(session, _run(session, broken_trainable))
    error = events[-1].error
    assert "broken_trainable" in error
    assert "KeyError: 'missing_feature'" in error
    assert "tune_controller" not in error


def test_an_exception_swallowed_by_user_code_does_not_hide_a_stop(tmp_path):
    session = TrialRunSession(_launch(tmp_path, decision_points={1}))

    def stubborn(config):
        try:
            report({"loss": 1.0})
        except Exception:  # user code catching everything must not catch the stop
            pytest.fail("the stop was caught as an Exception")

    thread = _run(session, stubborn)
    session.take_events(timeout=None)
    session.decide(Decision.STOP)
    assert _all_events(session, thread)[-1] == TrialEnded("t1", stopped=True)
