"""PopulationBasedTrainingReplay replays the lineage a PBT run logged."""

import pytest

from tune_schedulers import PopulationBasedTraining, PopulationBasedTrainingReplay
from tune_schedulers.testing import SchedulerConformance
from tune_trial import Decision, Exploit, Trial

# t2 exploited t0 at step 4, then t1 exploited t2 at step 8: t1's lineage is both changes.
POLICY = [
    ["t0", "t2", 4, 4, {"lr": 0.1}, {"lr": 0.12}],
    ["t2", "t1", 8, 8, {"lr": 0.12}, {"lr": 0.096}],
]


def test_the_schedule_changes_config_at_the_logged_steps_from_the_trials_own_checkpoint():
    replay = PopulationBasedTrainingReplay(policy=POLICY)
    assert replay.config == {"lr": 0.1}
    assert replay.milestones() == {4, 8}
    trial = Trial("replay", dict(replay.config))
    replay.on_trial_add(trial)
    decisions = [replay.on_trial_result(trial, {"training_iteration": step}) for step in range(1, 10)]
    assert decisions[:3] == [Decision.CONTINUE] * 3
    assert decisions[3] == Exploit("replay", {"lr": 0.12})
    assert decisions[7] == Exploit("replay", {"lr": 0.096})
    assert decisions[8] is Decision.CONTINUE


def test_a_broken_chain_keeps_only_the_lineage_that_ends_the_log():
    policy = [["a", "b", 2, 2, {"x": 1}, {"x": 2}], *POLICY]  # b's change does not lead to t1
    assert PopulationBasedTrainingReplay(policy=policy).config == {"lr": 0.1}


def test_pbt_logs_policies_that_replay_reads(tmp_path):
    pbt = PopulationBasedTraining(
        time_attr="training_iteration",
        metric="acc",
        mode="max",
        perturbation_interval=2,
        hyperparam_mutations={"lr": [0.01, 0.1, 1.0]},
        quantile_fraction=0.5,
        resample_probability=0.0,
        seed=0,
    )
    good, bad = Trial("good", {"lr": 0.1}), Trial("bad", {"lr": 0.01})
    for trial in (good, bad):
        pbt.on_trial_add(trial)
    pbt.on_trial_result(good, {"acc": 0.9, "training_iteration": 2})
    exploit = pbt.on_trial_result(bad, {"acc": 0.1, "training_iteration": 2})
    assert isinstance(exploit, Exploit)
    pbt.write_policy("bad", tmp_path / "pbt_policy_bad.txt")
    replay = PopulationBasedTrainingReplay(tmp_path / "pbt_policy_bad.txt")
    assert replay.config == {"lr": 0.1}
    assert replay._schedule == [(2, exploit.config)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either policy_file or policy"),
        ({"policy": [["too", "short"]]}, "a policy line has 6 fields"),
        ({"policy_file": "/nonexistent/pbt_policy.txt"}, "cannot read policy file"),
    ],
)
def test_bad_policies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PopulationBasedTrainingReplay(**kwargs)


def test_the_trial_must_start_from_the_schedules_config_and_be_alone():
    replay = PopulationBasedTrainingReplay(policy=POLICY)
    with pytest.raises(ValueError, match=r"pass param_space=replay.config"):
        replay.on_trial_add(Trial("t", {"lr": 0.5}))
    replay.on_trial_add(Trial("t", {"lr": 0.1}))
    with pytest.raises(ValueError, match="set num_samples=1"):
        replay.on_trial_add(Trial("u", {"lr": 0.1}))


class TestReplayConformance(SchedulerConformance):
    uses_metric = False
    num_trials = 1

    def make_scheduler(self, metric, mode):
        start, slower = {"index": 0, "scale": 1.0}, {"index": 0, "scale": 0.9}
        return PopulationBasedTrainingReplay(policy=[["a", "trial_000", 3, 3, start, slower]])
