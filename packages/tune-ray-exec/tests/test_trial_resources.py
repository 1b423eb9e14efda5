"""Per-trial resources on a local Ray that declares two GPUs and a custom resource it does not have
as hardware: Ray still assigns them (and sets CUDA_VISIBLE_DEVICES) as it would on real GPUs."""

import os

import pytest
import ray

from tune_controller import RunConfig, TuneConfig, Tuner, with_resources
from tune_ray_exec import RayExecutor, release_idle_actors
from tune_search import grid_search
from tune_trial import PlacementGroupFactory, Resources, get_context, report


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """This module's own Ray instance, with the resources the tests ask for."""
    assert not ray.is_initialized()
    ray.init(
        address="local",
        num_cpus=2,
        num_gpus=2,
        resources={"accelerator": 1},
        include_dashboard=False,
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


def _fit(tmp_path, trainable, **tune_config):
    tuner = Tuner(
        trainable,
        param_space={"i": grid_search([0, 1])},
        tune_config=TuneConfig(**tune_config),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
        executor=RayExecutor(),
    )
    results = tuner.fit()
    assert results.num_errors == 0, results.errors
    return results


def report_devices(config):
    resources = get_context().get_trial_resources()
    report(
        {
            "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "gpu_ids": [str(gpu) for gpu in ray.get_gpu_ids()],
            "gpus": resources.gpu,
            "pid": os.getpid(),
        }
    )


def test_each_gpu_trial_sees_its_own_gpu_in_cuda_visible_devices(tmp_path):
    results = _fit(tmp_path, with_resources(report_devices, {"cpu": 1, "gpu": 1}))
    visible = sorted(result.metrics["visible"] for result in results)
    assert visible == ["0", "1"]  # both trials at once (2 CPUs, 2 GPUs), one GPU each
    assert all(result.metrics["gpu_ids"] == [result.metrics["visible"]] for result in results)
    assert all(result.metrics["gpus"] == 1.0 for result in results)


def test_a_trial_without_gpus_sees_none(tmp_path):
    release_idle_actors()  # the 1-GPU actors of the previous test would otherwise be reused
    results = _fit(tmp_path, report_devices)
    assert all(result.metrics["gpu_ids"] == [] for result in results)
    assert all(not result.metrics["visible"] for result in results)  # Ray hides every GPU


def test_two_gpus_per_trial_make_the_trials_take_turns(tmp_path):
    results = _fit(tmp_path, with_resources(report_devices, {"cpu": 1, "gpu": 2}))
    assert [sorted(result.metrics["visible"].split(",")) for result in results] == [["0", "1"], ["0", "1"]]


def test_custom_resources_and_memory_are_requested_from_ray(tmp_path):
    resources = Resources(cpu=1, memory=50 * 2**20, custom={"accelerator": 1})
    results = _fit(tmp_path, with_resources(report_devices, resources))
    # One "accelerator" in the cluster: the two trials ran one after the other, in one actor.
    assert len({result.metrics["pid"] for result in results}) == 1


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (Resources(cpu=1, custom={"accelerator": 2}), r"needs 2 accelerator but the Ray cluster has 1 in all"),
        (
            Resources(cpu=1, memory=2**60),
            r"needs 1.07e\+09 GiB memory but the Ray cluster has [\d.]+ GiB in all",
        ),
        (Resources(cpu=1, custom={"TPU": 1}), r"needs 1 TPU but the Ray cluster has 0 in all"),
        (PlacementGroupFactory([{"CPU": 1}, {"CPU": 3}]), r"needs 4 CPU but the Ray cluster has 2 in all"),
        (
            PlacementGroupFactory([{"CPU": 1}, {"GPU": 3}, {"GPU": 1}]),
            r"needs 4 GPU but the Ray cluster has 2 in all",
        ),
        (
            PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD"),
            r"needs its 2 bundles on as many nodes \(STRICT_SPREAD\), but the Ray cluster has 1",
        ),
    ],
)
def test_a_request_the_cluster_can_never_meet_fails_at_start_naming_the_trial(tmp_path, resources, message):
    tuner = Tuner(
        with_resources(report_devices, resources),
        run_config=RunConfig(storage_path=str(tmp_path), verbose=0),
        executor=RayExecutor(),
    )
    with pytest.raises(ValueError, match=r"Trial \w+_00000 " + message):
        tuner.fit()


def uses_its_placement_group(config):
    group = ray.util.get_current_placement_group()

    @ray.remote(num_cpus=1)
    def worker():
        return ray.util.get_current_placement_group().id.hex()

    # The trial's two bundles hold both CPUs of the cluster: the workers can only run in the group.
    placed = ray.get([worker.remote() for _ in range(3)], timeout=120)
    resources = get_context().get_trial_resources()
    report(
        {
            "group": group.id.hex() if group else None,
            "workers_in_group": placed,
            "bundles": [dict(bundle) for bundle in resources.bundles],
            "strategy": resources.strategy,
        }
    )


def test_a_multi_bundle_trial_runs_its_workers_in_its_placement_group(tmp_path):
    factory = PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
    results = _fit(tmp_path, with_resources(uses_its_placement_group, factory))
    for result in results:
        assert result.metrics["group"] is not None
        assert result.metrics["workers_in_group"] == [result.metrics["group"]] * 3
        assert result.metrics["bundles"] == [{"CPU": 1.0}, {"CPU": 1.0}]
        assert result.metrics["strategy"] == "PACK"


def test_a_trial_with_an_empty_head_bundle_leaves_every_bundle_to_its_workers(tmp_path):
    factory = PlacementGroupFactory([{}, {"CPU": 1}, {"CPU": 1}])
    results = _fit(tmp_path, with_resources(uses_its_placement_group, factory))
    assert all(result.metrics["workers_in_group"] == [result.metrics["group"]] * 3 for result in results)


def test_placement_groups_are_removed_with_their_actors(tmp_path):
    _fit(tmp_path, with_resources(uses_its_placement_group, PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}])))
    release_idle_actors()
    states = [group["state"] for group in ray.util.placement_group_table().values()]
    assert "CREATED" not in states
