import pytest

from tune_trial import Trial, TrialStatus, TrialTransitionError, is_legal_transition, legal_transitions


def test_a_trial_runs_pauses_resumes_and_terminates():
    trial = Trial("t1", {"x": 1})
    for status in (TrialStatus.RUNNING, TrialStatus.PAUSED, TrialStatus.RUNNING, TrialStatus.TERMINATED):
        trial.set_status(status)
    assert trial.status is TrialStatus.TERMINATED
    assert trial.status.is_finished


def test_an_illegal_move_names_the_trial_and_the_allowed_moves():
    trial = Trial("t7", {})
    trial.set_status(TrialStatus.RUNNING)
    trial.set_status(TrialStatus.TERMINATED)
    with pytest.raises(TrialTransitionError, match=r"Trial t7: cannot move from TERMINATED to RUNNING"):
        trial.set_status(TrialStatus.RUNNING)
    assert trial.status is TrialStatus.TERMINATED


def test_terminated_is_final_and_error_can_only_be_restarted():
    assert legal_transitions(TrialStatus.TERMINATED) == frozenset()
    assert legal_transitions(TrialStatus.ERROR) == {TrialStatus.PENDING}
    assert is_legal_transition(TrialStatus.RUNNING, TrialStatus.PENDING)  # a retry after a failure
    assert not is_legal_transition(TrialStatus.PENDING, TrialStatus.PAUSED)


def test_trials_hash_by_id_and_compare_by_identity():
    first, same_id = Trial("a", {}), Trial("a", {})
    assert hash(first) == hash(same_id)
    assert first != same_id
    assert len({first, first}) == 1
