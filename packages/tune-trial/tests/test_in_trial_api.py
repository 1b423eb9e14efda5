import threading

import pytest

import tune_trial
from tune_trial import Checkpoint, NoActiveTrialError, TrialContext


class RecordingSession:
    def __init__(self):
        self.reports = []
        self.context = TrialContext("t1", "train_t1", "/tmp/t1", "exp")

    def report(self, metrics, checkpoint=None):
        self.reports.append((dict(metrics), checkpoint))

    def get_checkpoint(self):
        return Checkpoint("/restored")

    def get_context(self):
        return self.context


@pytest.mark.parametrize(
    "call", [lambda: tune_trial.report({"a": 1}), tune_trial.get_checkpoint, tune_trial.get_context]
)
def test_calls_outside_a_trial_say_so(call):
    with pytest.raises(NoActiveTrialError, match="outside a trial"):
        call()


def test_calls_reach_the_bound_session_and_only_in_its_context():
    session = RecordingSession()
    with tune_trial.bind_session(session):
        tune_trial.report({"loss": 0.5})
        assert tune_trial.get_checkpoint() == Checkpoint("/restored")
        assert tune_trial.get_context().get_trial_id() == "t1"
        seen_elsewhere = []
        thread = threading.Thread(target=lambda: seen_elsewhere.append(_bound()))
        thread.start()
        thread.join()
    assert session.reports == [({"loss": 0.5}, None)]
    assert seen_elsewhere == [False]  # a new thread starts outside any trial
    assert not _bound()


def _bound():
    try:
        tune_trial.get_context()
    except NoActiveTrialError:
        return False
    return True
