"""Walking a nested search space: validation with parameter paths, grids, conditions and resolution.

A ``choice`` whose categories hold domains (hyperopt's conditional spaces: ``choice([{"name": "sgd",
"lr": loguniform(...)}, {"name": "adam"}])``) makes the domains inside a category *conditional*: they
are drawn only when that category is chosen, and the config holds the chosen category with its
domains resolved, as Ray Tune does. A conditional parameter is named by its *key*, the path through
the template with the category's index (``opt[0].lr``), because two categories may put different
domains at the same place of the config (``opt.lr``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from tune_search._domains import Categorical, Domain, Function
from tune_search._paths import Path, format_path


@dataclass(frozen=True)
class Condition:
    """When a parameter nested in a choice's category is drawn, and where its value lands."""

    parent: Path
    """The key of the choice."""
    category: int
    """The index of the category that holds the parameter."""
    path: Path
    """Where the value lands in a config (the choice's path, then the path inside the category)."""


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space: its nested template and where its parameters sit in it.

    ``domains`` and ``functions`` are listed by key in template order, so a choice always comes
    before the parameters nested in its categories. Keys of unconditional parameters are their paths.
    """

    template: Any
    domains: tuple[tuple[Path, Domain], ...]
    functions: tuple[tuple[Path, Function], ...]
    grids: tuple[tuple[Path, tuple[Any, ...]], ...]
    """Grid parameters sorted by path; the first varies fastest (Ray Tune's order)."""
    conditions: Mapping[Path, Condition] = field(default_factory=dict, compare=False)
    """The conditional parameters (domains and functions) by key."""

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

    def config_path(self, key: Path) -> Path:
        """Where the parameter ``key`` lands in a config."""
        condition = self.conditions.get(key)
        return key if condition is None else condition.path

    def resolve(self, rng: np.random.Generator, fixed: Mapping[Path, Any] | None = None) -> dict[str, Any]:
        """A concrete config: ``fixed`` values (grid points, presets) first, then samples, then functions.

        ``fixed`` maps keys to values; a choice's value is one of its categories. Conditional
        parameters are drawn (or taken from ``fixed``) only when their category is chosen.
        """
        config: Any = copy.deepcopy(self.template, dict(self._shared))
        fixed = fixed or {}
        chosen: dict[Path, int | None] = {}
        for path, value in fixed.items():
            if path not in self.conditions and path not in self._domain_by_key:
                _assign(config, path, value)
        for key, domain in self.domains:
            if not self._active(key, chosen):
                continue
            value = fixed[key] if key in fixed else domain.sample(rng)
            if key in self._choice_children:
                assert isinstance(domain, Categorical)
                try:
                    chosen[key] = domain.index(value)
                except ValueError as error:
                    raise ValueError(f"{format_path(key)}: {error}") from None
                value = copy.deepcopy(value)
            _assign(config, self.config_path(key), value)
        pending = {
            self.config_path(key): function
            for key, function in self.functions
            if key not in fixed and self._active(key, chosen)
        }
        for path in pending:
            _assign(config, path, _UNRESOLVED)
        _resolve_functions(config, pending)
        return dict(config)

    def assignment(self, config: Mapping[str, Any]) -> dict[Path, Any]:
        """The values a (possibly partial) nested config gives, by key: the inverse of :meth:`resolve`.

        A choice with conditional parameters gets the first category the config's value fits
        (same keys or fewer, equal constants); the parameters inside it are read from that value.
        Raises ``ValueError`` naming the path of a value that fits nowhere in the space.
        """
        values: dict[Path, Any] = {}

        def walk(template: Any, value: Any, key: Path, path: Path, inside: bool) -> None:
            if key in self._choice_children:
                domain = self._domain_by_key[key]
                assert isinstance(domain, Categorical)
                for index, category in enumerate(domain.categories):
                    if _fits(category, value):
                        values[key] = category
                        walk(category, value, (*key, index), path, True)
                        return
                raise ValueError(f"{format_path(path)}: {value!r} fits none of the choice's categories")
            if isinstance(template, Domain) or _is_grid(template):
                values[key] = value
            elif isinstance(template, Mapping) and isinstance(value, Mapping) and value:
                for name, child in value.items():
                    if name not in template:
                        raise ValueError(f"{format_path((*path, name))} is not a parameter of the space")
                    walk(template[name], child, (*key, name), (*path, name), inside)
            elif (
                isinstance(template, (list, tuple)) and isinstance(value, (list, tuple)) and len(value) == len(template)
            ):
                for index, child in enumerate(value):
                    walk(template[index], child, (*key, index), (*path, index), inside)
            elif not inside:  # a constant (or a whole container) replaced, as Ray Tune allows
                values[key] = value
            # (a constant inside a category was compared when the category was chosen)

        for name, child in config.items():
            if name not in self.template:
                raise ValueError(f"{format_path((name,))} is not a parameter of the space")
            walk(self.template[name], child, (name,), (name,), False)
        return values

    @cached_property
    def _choice_children(self) -> dict[Path, tuple[Path, ...]]:
        """The choices with conditional parameters, and those parameters' keys."""
        children: dict[Path, tuple[Path, ...]] = {}
        for key, condition in self.conditions.items():
            children[condition.parent] = (*children.get(condition.parent, ()), key)
        return children

    @cached_property
    def _shared(self) -> dict[int, Any]:
        """A ``deepcopy`` memo that keeps the (immutable) domains: only their places get new values."""
        return {id(domain): domain for _, domain in (*self.domains, *self.functions)}

    @cached_property
    def _domain_by_key(self) -> dict[Path, Domain]:
        return dict(self.domains)

    def _active(self, key: Path, chosen: Mapping[Path, int | None]) -> bool:
        """Whether ``key`` is drawn, given the categories chosen so far (parents come first)."""
        condition = self.conditions.get(key)
        return condition is None or (condition.parent in chosen and chosen[condition.parent] == condition.category)


def _fits(template: Any, value: Any) -> bool:
    """Whether ``value`` could have been resolved from ``template`` (parameters fit anything)."""
    if isinstance(template, Domain) or _is_grid(template):
        return True
    if isinstance(template, Mapping):
        return isinstance(value, Mapping) and all(
            name in template and _fits(template[name], child) for name, child in value.items()
        )
    if isinstance(template, (list, tuple)):
        return (
            isinstance(value, (list, tuple))
            and len(value) == len(template)
            and all(_fits(part, child) for part, child in zip(template, value, strict=True))
        )
    try:
        return bool(template == value)
    except Exception:  # an object whose == is elementwise or refuses to compare is simply not equal
        return False


# Search-space objects of other libraries: passing one is a porting mistake, not a constant.
_FOREIGN_SPACE_MODULES = ("ray.tune", "hyperopt", "optuna.distributions", "skopt", "ConfigSpace", "nevergrad")


def parse_space(space: Mapping[str, Any]) -> SearchSpace:
    """Check ``space`` and index its parameters, raising ``ValueError`` that names the parameter path."""
    if not isinstance(space, Mapping):
        raise ValueError(f"param_space must be a dict, got {type(space).__name__}")
    domains: list[tuple[Path, Domain]] = []
    functions: list[tuple[Path, Function]] = []
    grids: list[tuple[Path, tuple[Any, ...]]] = []
    conditions: dict[Path, Condition] = {}

    def walk(node: Any, key: Path, inside: tuple[Path, int, Path] | None) -> None:
        """``inside``: the choice's key, the category's index and the choice's config path."""
        path = key if inside is None else (*inside[2], *key[len(inside[0]) + 1 :])
        if inside is not None and (isinstance(node, Domain) or _is_grid(node)):
            conditions[key] = Condition(inside[0], inside[1], path)
        if isinstance(node, Function):
            _raise_problems(node, key)
            functions.append((key, node))
        elif isinstance(node, Domain):
            _raise_problems(node, key)
            domains.append((key, node))
            if isinstance(node, Categorical):
                for index, category in enumerate(node.categories):
                    if _holds_parameters(category):
                        walk(category, (*key, index), (key, index, path))
        elif _is_grid(node):
            if inside is not None:
                raise ValueError(f"{format_path(key)}: grid_search inside a choice's category is not supported")
            values = node["grid_search"]
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"{format_path(key)}: grid_search needs a non-empty list, got {values!r}")
            grids.append((key, tuple(values)))
        elif isinstance(node, Mapping):
            for name, child in node.items():
                walk(child, (*key, name), inside)
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                walk(child, (*key, index), inside)
        elif type(node).__module__.startswith(_FOREIGN_SPACE_MODULES):
            raise ValueError(
                f"{format_path(key)}: {type(node).__module__}.{type(node).__qualname__} is another "
                "library's search-space object; use tune's (uniform, loguniform, randint, choice, …)"
            )

    walk(space, (), None)
    grids.sort(key=lambda entry: [str(key) for key in entry[0]])
    return SearchSpace(dict(space), tuple(domains), tuple(functions), tuple(grids), conditions)


def _holds_parameters(node: Any) -> bool:
    """Whether a choice's category has domains, functions or grids inside (plain values are constants)."""
    if isinstance(node, Domain) or _is_grid(node):
        return True
    if isinstance(node, Mapping):
        return any(_holds_parameters(child) for child in node.values())
    if isinstance(node, (list, tuple)):
        return any(_holds_parameters(child) for child in node)
    return False


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
