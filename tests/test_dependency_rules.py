"""DESIGN.md section 1, enforced: what each distribution may declare and import.

The rule table below is the single statement of the dependency rules. Every distribution under
``packages/`` is checked twice: what its ``pyproject.toml`` declares, and what ``import <pkg>``
actually loads in a fresh interpreter (where every package is installed, so a stray import of an
installed-but-forbidden module is caught, not masked by an ImportError).
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    import_name: str
    allowed: frozenset[str]
    """Distributions it may depend on at run time (siblings and third-party)."""


_SIBLINGS_LEFT_OF_RAY = ("tune-trial", "tune-search", "tune-schedulers", "tune-controller")
RULES: dict[str, Rule] = {
    "tune-trial": Rule("tune_trial", frozenset()),
    "tune-search": Rule("tune_search", frozenset({"tune-trial", "numpy", "scipy"})),
    "tune-schedulers": Rule("tune_schedulers", frozenset({"tune-trial"})),
    "tune-controller": Rule(
        "tune_controller", frozenset({"tune-trial", "tune-search", "tune-schedulers", "cloudpickle"})
    ),
    "tune-ray-exec": Rule("tune_ray_exec", frozenset({*_SIBLINGS_LEFT_OF_RAY, "ray", "cloudpickle"})),
    "tune-hpo": Rule("tune", frozenset({*_SIBLINGS_LEFT_OF_RAY, "tune-ray-exec"})),
}
SIBLINGS = frozenset(RULES)


@dataclass(frozen=True)
class LoadedModule:
    """A top-level module that appeared during ``import <pkg>``."""

    importer: str | None = None
    """Top-level name of the module whose code imported it first."""
    owner_module: str | None = None
    """Top-level directory it lives in under its ``sys.path`` entry (``ray`` for Ray's vendored copies)."""
    synthetic: bool = False
    """No file behind it (``cython_runtime``, ``__mp_main__``): nothing anybody could depend on."""


@dataclass(frozen=True)
class PackageDescription:
    """What a distribution says about itself, plus what importing it loaded (when known)."""

    distribution: str
    version: str
    dependencies: tuple[str, ...]
    optional_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def declared_violations(package: PackageDescription, lockstep_version: str) -> list[str]:
    """Declared dependencies that break the rules, one message each."""
    rule = RULES.get(package.distribution)
    if rule is None:
        return [f"{package.distribution}: not a known tune distribution (add it to RULES)"]
    found = []
    if package.version != lockstep_version:
        found.append(f"{package.distribution}: version {package.version} is not the lockstep {lockstep_version}")
    for text in package.dependencies:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in rule.allowed:
            found.append(
                f"{package.distribution}: declares {name}, which it may not depend on "
                f"(allowed: {', '.join(sorted(rule.allowed)) or 'the standard library only'})"
            )
        elif name in SIBLINGS and str(requirement.specifier) != f"=={lockstep_version}":
            found.append(
                f"{package.distribution}: sibling {name} must be pinned exactly (=={lockstep_version}), got {text!r}"
            )
    for extra, requirements in package.optional_dependencies.items():
        for text in requirements:
            name = canonicalize_name(Requirement(text).name)
            forbidden_here = name in SIBLINGS or (name == "ray" and "ray" not in rule.allowed)
            if forbidden_here and name not in rule.allowed:
                found.append(f"{package.distribution}[{extra}]: optional dependency {name} points the wrong way")
    return found


def import_violations(
    distribution: str, loaded: Mapping[str, LoadedModule], module_owners: Mapping[str, Iterable[str]]
) -> list[str]:
    """Top-level modules that ``import <pkg>`` loaded and may not have.

    A module is fine when it is in the standard library, is one of the allowed tune packages, comes
    from a distribution in the allowed closure (checked by where its file lies, so modules Ray
    vendors count as Ray's), or was imported by such a third-party module rather than by our code:
    an allowed dependency's optional import of something else installed is not our violation.
    """
    rule = RULES[distribution]
    closure = _allowed_closure(rule.allowed)
    own = {RULES[name].import_name for name in closure | {distribution} if name in RULES}

    def permitted(module: str) -> bool:
        if module in sys.stdlib_module_names or module in own:
            return True
        owners = {canonicalize_name(owner) for owner in module_owners.get(module, ())}
        return bool(owners & closure)

    found = []
    for module, info in sorted(loaded.items()):
        owner = info.owner_module or module
        if info.synthetic or module in sys.stdlib_module_names or permitted(owner):
            continue
        importer = info.importer
        if importer is not None and importer not in own and permitted(importer):
            continue
        owners = sorted(module_owners.get(owner, ())) or ["no known distribution"]
        found.append(
            f"{distribution}: importing {rule.import_name} loads {module!r} "
            f"(from {', '.join(owners)}; imported by {importer}), which it may not use"
        )
    return found


def _allowed_closure(allowed: Iterable[str]) -> set[str]:
    """``allowed`` plus everything those installed distributions require (extras excluded)."""
    closure: set[str] = set()
    queue = [canonicalize_name(name) for name in allowed]
    while queue:
        name = queue.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append(canonicalize_name(requirement.name))
    return closure


def _describe(pyproject: Path) -> PackageDescription:
    project = tomllib.loads(pyproject.read_text())["project"]
    return PackageDescription(
        distribution=project["name"],
        version=project["version"],
        dependencies=tuple(project.get("dependencies", ())),
        optional_dependencies={k: tuple(v) for k, v in project.get("optional-dependencies", {}).items()},
    )


PACKAGES = {pyproject.parent.name: _describe(pyproject) for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml"))}
LOCKSTEP_VERSION = PACKAGES["tune-trial"].version


_PROBE = """
import json, os, sys

importers = {}


class RecordImporter:
    # First on sys.meta_path: sees every import (statement or importlib) and finds nothing itself.
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in sys.modules and top not in importers:
            frame = sys._getframe(1)
            while frame and (frame.f_globals.get("__name__") or "").startswith(("importlib", "_frozen")):
                frame = frame.f_back
            importers[top] = (frame.f_globals.get("__name__") or "").partition(".")[0] if frame else None
        return None


before = set(sys.modules)
sys.meta_path.insert(0, RecordImporter())
import {import_name}
sys.meta_path.pop(0)
roots = sorted((os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)), key=len)
report = {}
for name in {module.partition(".")[0] for module in set(sys.modules) - before}:
    module = sys.modules.get(name)
    location = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
    owner = None
    if location:
        location = os.path.realpath(location)
        root = next((r for r in roots if location.startswith(r + os.sep)), None)
        owner = location[len(root) + 1:].split(os.sep)[0].removesuffix(".py") if root else None
    report[name] = {"importer": importers.get(name), "owner_module": owner, "synthetic": location is None}
print(json.dumps(report))
"""


def _loaded_by_import(import_name: str) -> dict[str, LoadedModule]:
    """Top-level modules that ``import <import_name>`` adds to a fresh interpreter, and by whom."""
    script = _PROBE.replace("{import_name}", import_name)
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    report = json.loads(output.stdout.strip().splitlines()[-1])
    return {name: LoadedModule(**info) for name, info in report.items()}


def test_every_distribution_under_packages_is_covered():
    assert {package.distribution for package in PACKAGES.values()} == SIBLINGS


@pytest.mark.parametrize("directory", sorted(PACKAGES))
def test_declared_dependencies_follow_the_rules(directory):
    assert declared_violations(PACKAGES[directory], LOCKSTEP_VERSION) == []


@pytest.mark.parametrize("directory", sorted(PACKAGES))
def test_importing_a_package_loads_only_what_it_may_use(directory):
    distribution = PACKAGES[directory].distribution
    loaded = _loaded_by_import(RULES[distribution].import_name)
    assert import_violations(distribution, loaded, importlib.metadata.packages_distributions()) == []


def test_the_strict_packages_load_neither_numpy_nor_ray():
    assert set(_loaded_by_import("tune_trial")) <= set(sys.stdlib_module_names) | {"tune_trial"}
    loaded = set(_loaded_by_import("tune_schedulers"))
    assert "numpy" not in loaded
    assert "ray" not in loaded


# The checker itself must catch violations: feed it package descriptions that break each rule.


def test_a_forbidden_declared_dependency_is_reported():
    violating = PackageDescription(
        "tune-schedulers", LOCKSTEP_VERSION, ("tune-trial==" + LOCKSTEP_VERSION, "numpy>=1.24")
    )
    assert declared_violations(violating, LOCKSTEP_VERSION) == [
        "tune-schedulers: declares numpy, which it may not depend on (allowed: tune-trial)"
    ]


def test_a_dependency_pointing_right_is_reported():
    violating = PackageDescription("tune-search", LOCKSTEP_VERSION, (f"tune-controller=={LOCKSTEP_VERSION}",))
    assert "declares tune-controller" in declared_violations(violating, LOCKSTEP_VERSION)[0]
    in_an_extra = PackageDescription("tune-controller", LOCKSTEP_VERSION, (), {"ray": ("ray>=2",)})
    assert declared_violations(in_an_extra, LOCKSTEP_VERSION) == [
        "tune-controller[ray]: optional dependency ray points the wrong way"
    ]


def test_a_loosely_pinned_sibling_and_a_version_out_of_step_are_reported():
    violating = PackageDescription("tune-search", "9.9.9", ("tune-trial>=0.1",))
    assert declared_violations(violating, "0.1.0") == [
        "tune-search: version 9.9.9 is not the lockstep 0.1.0",
        "tune-search: sibling tune-trial must be pinned exactly (==0.1.0), got 'tune-trial>=0.1'",
    ]


def test_a_forbidden_import_is_reported():
    owners = {"numpy": ["numpy"], "ray": ["ray"], "urllib3": ["urllib3"]}
    loaded = {
        "tune_schedulers": LoadedModule(importer="__main__", owner_module="tune_schedulers"),
        "json": LoadedModule(importer="tune_schedulers", owner_module="json"),
        "numpy": LoadedModule(importer="tune_schedulers", owner_module="numpy"),
    }
    assert import_violations("tune-schedulers", loaded, owners) == [
        "tune-schedulers: importing tune_schedulers loads 'numpy' (from numpy; imported by tune_schedulers), "
        "which it may not use"
    ]
    leaked = {"tune_search": LoadedModule(importer="tune_trial", owner_module="tune_search")}
    assert import_violations("tune-trial", leaked, owners) == [
        "tune-trial: importing tune_trial loads 'tune_search' (from no known distribution; imported by "
        "tune_trial), which it may not use"
    ]


def test_an_allowed_dependencys_own_optional_imports_are_not_violations():
    owners = {"ray": ["ray"], "brotli": ["brotli"]}
    loaded = {
        "psutil": LoadedModule(importer="ray", owner_module="ray"),  # vendored inside ray's directory
        "brotli": LoadedModule(importer="ray", owner_module="brotli"),  # ray's optional import
        "cython_runtime": LoadedModule(synthetic=True),
    }
    assert import_violations("tune-ray-exec", loaded, owners) == []
