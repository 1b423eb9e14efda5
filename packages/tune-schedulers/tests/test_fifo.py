import pytest

from tune_schedulers import FIFOScheduler, TrialScheduler
from tune_trial import Decision, Trial


def test_fifo_lets_every_trial_run_and_needs_no_milestones():
    scheduler = FIFOScheduler()
    trial = Trial("t0", {})
    scheduler.on_trial_add(trial)
    assert scheduler.on_trial_result(trial, {"loss": 1.0, "training_iteration": 1}) is Decision.CONTINUE
    assert list(scheduler.milestones()) == []


def test_fifo_starts_the_oldest_waiting_trial():
    first, second = Trial("a", {}), Trial("b", {})
    assert FIFOScheduler().choose_trial_to_run([first, second]) is first
    assert FIFOScheduler().choose_trial_to_run([]) is None


def test_the_base_contract_asks_to_see_every_result():
    assert TrialScheduler().milestones() is None


def test_metric_and_mode_come_from_the_experiment_unless_given():
    own = FIFOScheduler(metric="acc", mode="max")
    own.set_search_properties("loss", "min")
    assert (own.metric, own.mode) == ("acc", "max")
    inherited = FIFOScheduler()
    inherited.set_search_properties("loss", "min")
    assert (inherited.metric, inherited.mode) == ("loss", "min")


def test_state_round_trip():
    scheduler = FIFOScheduler(metric="loss", mode="min")
    restored = FIFOScheduler()
    restored.set_state(scheduler.get_state())
    assert restored.get_state() == scheduler.get_state()


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'best'"):
        FIFOScheduler(mode="best")
