"""ResourceChangingScheduler: the base scheduler decides, the allocation function resizes."""

from tune_schedulers import ASHAScheduler, DistributeResources, ResourceChangingScheduler
from tune_trial import ChangeResources, Decision, Resources, Trial


def test_free_cpus_are_shared_among_the_live_trials():
    scheduler = ResourceChangingScheduler()
    scheduler.set_search_properties("loss", "min", total_resources=Resources(cpu=8))
    trials = [Trial(f"t{i}", {}) for i in range(3)]
    for trial in trials:
        scheduler.on_trial_add(trial)
    assert scheduler.on_trial_result(trials[0], {"loss": 1, "training_iteration": 1}) == ChangeResources(
        Resources(cpu=2)
    )
    scheduler.on_trial_complete(trials[1], None)
    scheduler.on_trial_complete(trials[2], None)
    assert scheduler.on_trial_result(trials[0], {"loss": 1, "training_iteration": 2}) == ChangeResources(
        Resources(cpu=8)
    )


def test_the_base_schedulers_stop_wins_over_a_resize():
    base = ASHAScheduler(metric="loss", mode="min", max_t=2, grace_period=1)
    scheduler = ResourceChangingScheduler(base)
    scheduler.set_search_properties("loss", "min", total_resources=Resources(cpu=4))
    scheduler.on_trial_add(trial := Trial("t0", {}))
    assert scheduler.on_trial_result(trial, {"loss": 1, "training_iteration": 2}) is Decision.STOP


def test_increase_by_grows_in_steps_and_never_shrinks():
    allocate = DistributeResources(increase_by=Resources(cpu=2))
    trial = Trial("t0", {}, resources=Resources(cpu=1))
    assert allocate(trial, {}, Resources(cpu=8), 2) == Resources(cpu=3)
    assert allocate(trial, {}, Resources(cpu=8), 8) is None  # a share of 1: nothing to add
