"""Every public name of Ray Tune's modules exists in ``tune`` or is listed on docs/migration.md as not provided.

Ray Tune's names come from tests/ray_tune_surface.json, frozen from Ray 2.60 by
tests/freeze_ray_tune_surface.py: the package and wheelhouse environments install plain ``ray``, not the
``ray[tune]`` extra, and a Ray upgrade should change this check only through a reviewed diff of that file.
"""

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SURFACE = json.loads((ROOT / "tests" / "ray_tune_surface.json").read_text())
RAY_NAMES = sorted(f"{module}.{name}" for module, names in SURFACE["modules"].items() for name in names)
MIGRATION = (ROOT / "docs" / "migration.md").read_text()


def names_listed_under(heading: str) -> set[str]:
    """The ``ray.tune...`` names quoted in a section of docs/migration.md, up to the next heading."""
    section = re.split(r"\n#+ ", MIGRATION.split(f"\n{heading}\n", 1)[1], maxsplit=1)[0]
    return set(re.findall(r"`(ray\.tune(?:\.\w+)*)`", section))


def ours(ray_name: str) -> object | None:
    """``tune``'s object for a ``ray.tune...`` name: the same module path with ``ray.`` dropped."""
    module_name, _, name = ray_name.removeprefix("ray.").rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and (error.name == module_name or module_name.startswith(error.name + ".")):
            return None  # tune has no such module; any other missing module is a real failure
        raise
    return getattr(module, name, None)


NOT_PROVIDED = names_listed_under("## Not provided")


def test_the_frozen_surface_is_ray_tunes():
    assert SURFACE["ray_version"].startswith("2.")
    assert len(RAY_NAMES) > 100
    assert {"ray.tune.Tuner", "ray.tune.schedulers.ASHAScheduler", "ray.tune.search.optuna.OptunaSearch"} <= set(
        RAY_NAMES
    )


@pytest.mark.parametrize("ray_name", RAY_NAMES)
def test_each_ray_tune_name_is_here_or_listed_as_not_provided(ray_name):
    if ray_name in NOT_PROVIDED:
        assert ours(ray_name) is None, f"{ray_name} exists in tune now: remove it from docs/migration.md's list"
    else:
        assert ours(ray_name) is not None, f"tune lacks {ray_name}: provide it or list it in docs/migration.md"


def test_the_migration_page_lists_only_ray_tune_names():
    assert NOT_PROVIDED, "docs/migration.md has no '## Not provided' section with names"
    assert set(RAY_NAMES) >= NOT_PROVIDED, sorted(NOT_PROVIDED - set(RAY_NAMES))


def _our_public_modules() -> list[str]:
    import tune

    found = pkgutil.walk_packages(tune.__path__, "tune.")
    return ["tune", *sorted(module.name for module in found if "._" not in module.name)]


@pytest.mark.parametrize("module_name", _our_public_modules())
def test_every_name_our_modules_export_resolves(module_name):
    module = importlib.import_module(module_name)
    assert module.__all__, module_name
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"
