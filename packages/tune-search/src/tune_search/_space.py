"""Walking a nested search space: validation with parameter paths, grids, and resolution."""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tune_search._domains import Domain, Function
from tune_search._paths import Path, format_path


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space: its nested template and where its parameters sit in it."""

    template: Any
    domains: tuple[tuple[Path, Domain], ...]
    functions: tuple[tuple[Path, Function], ...]
    grids: tuple[tuple[Path, tuple[Any, ...]], ...]
    """Grid parameters sorted by path; the first varies fastest (Ray Tune's order)."""

    def grid_size(self, fixed: Collection[Path] = ()) -> int:
        """How many configurations the grid parameters not in ``fixed`` span (1 without any)."""
        return math.prod(len(values) for path, values in self.grids if path not in fixed)

    def grid_point(self, index: int, fixed: Collection[Path] = ()) -> dict[Path, Any]:
        """The ``index``-th combination of the grid parameters not in ``fixed``, in constant time."""
        point: dict[Path, Any] = {}
        for path, values in self.grids:
            if path not in fixed:
                index, position = divmod(index, len(values))
                point[path] = values[position]
        return point

    def contains(self, path: Path) -> bool:
        """Whether ``path`` names a place in the template (a parameter or a constant)."""
        node = self.template
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return False
        return True

    def resolve(self, rng: np.random.Generator, fixed: Mapping[Path, Any] | None = None) -> dict[str, Any]:
        """A concrete config: ``fixed`` values (grid points, presets) first, then samples, then functions."""
        config: Any = copy.deepcopy(self.template)
        assigned = dict(fixed or {})
        for path, domain in self.domains:
            if path not in assigned:
                assigned[path] = domain.sample(rng)
        for path, value in assigned.items():
            _assign(config, path, value)
        pending = {path: function for path, function in self.functions if path not in assigned}
        for path in pending:
            _assign(config, path, _UNRESOLVED)
        _resolve_functions(config, pending)
        return dict(config)


# Search-space objects of other libraries: passing one is a porting mistake, not a constant.
_FOREIGN_SPACE_MODULES = ("ray.tune", "hyperopt", "optuna.distributions", "skopt", "ConfigSpace", "nevergrad")


def parse_space(space: Mapping[str, Any]) -> SearchSpace:
    """Check ``space`` and index its parameters, raising ``ValueError`` that names the parameter path."""
    if not isinstance(space, Mapping):
        raise ValueError(f"param_space must be a dict, got {type(space).__name__}")
    domains: list[tuple[Path, Domain]] = []
    functions: list[tuple[Path, Function]] = []
    grids: list[tuple[Path, tuple[Any, ...]]] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, Function):
            _raise_problems(node, path)
            functions.append((path, node))
        elif isinstance(node, Domain):
            _raise_problems(node, path)
            domains.append((path, node))
        elif _is_grid(node):
            values = node["grid_search"]
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"{format_path(path)}: grid_search needs a non-empty list, got {values!r}")
            grids.append((path, tuple(values)))
        elif isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                walk(child, (*path, index))
        elif type(node).__module__.startswith(_FOREIGN_SPACE_MODULES):
            raise ValueError(
                f"{format_path(path)}: {type(node).__module__}.{type(node).__qualname__} is another "
                "library's search-space object; use tune's (uniform, loguniform, randint, choice, …)"
            )

    walk(space, ())
    grids.sort(key=lambda entry: [str(key) for key in entry[0]])
    return SearchSpace(dict(space), tuple(domains), tuple(functions), tuple(grids))


def _is_grid(node: Any) -> bool:
    return isinstance(node, Mapping) and len(node) == 1 and "grid_search" in node


def _raise_problems(domain: Domain, path: Path) -> None:
    problems = domain.problems()
    if problems:
        raise ValueError(f"{format_path(path)}: {'; '.join(problems)}")


def _assign(config: Any, path: Path, value: Any) -> None:
    node = config
    for key in path[:-1]:
        node = node[key]
    if isinstance(node, tuple):
        raise ValueError(f"{format_path(path)}: parameters inside tuples are not supported, use a list")
    node[path[-1]] = value


class _Unresolved:
    """Placeholder for a ``sample_from`` value not computed yet."""

    def __repr__(self) -> str:
        return "<unresolved>"


_UNRESOLVED = _Unresolved()


class _NotYetResolvedError(Exception):
    def __init__(self, key: str | int) -> None:
        super().__init__(key)
        self.key = key


class _ConfigView:
    """Read-only view of a partially resolved config for ``sample_from`` functions.

    Allows both ``spec.config.x`` and ``spec.config["x"]`` (Ray Tune's users write both); reading a
    value that is itself still waiting on a function defers the caller until that one is done.
    """

    def __init__(self, node: Any) -> None:
        self._node = node

    def _get(self, key: str | int) -> Any:
        value = self._node[key]
        if value is _UNRESOLVED:
            raise _NotYetResolvedError(key)
        return _ConfigView(value) if isinstance(value, (dict, list)) else value

    def __getitem__(self, key: str | int) -> Any:
        return self._get(key)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._get(key)
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._get(key)
        except KeyError:
            return default


class _Spec:
    def __init__(self, config: Any) -> None:
        self.config = _ConfigView(config)


def _resolve_functions(config: Any, pending: dict[Path, Function]) -> None:
    """Compute ``sample_from`` values in dependency order; a round without progress is a cycle."""
    while pending:
        progressed = False
        for path, function in list(pending.items()):
            try:
                value = function.func(_Spec(config))
            except _NotYetResolvedError:
                continue
            except Exception as error:
                raise ValueError(
                    f"{format_path(path)}: sample_from function raised {type(error).__name__}: {error}"
                ) from error
            _assign(config, path, value)
            del pending[path]
            progressed = True
        if not progressed:
            names = ", ".join(format_path(path) for path in pending)
            raise ValueError(
                f"{names}: sample_from functions depend on each other in a cycle "
                "(or on a parameter that is never resolved)"
            )
