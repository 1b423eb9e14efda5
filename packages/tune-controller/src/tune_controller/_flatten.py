"""Nested dicts as flat ``a/b/c`` keys: the shape of CSV columns, tables and dataframe columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"depth": 3}, "lr": 0.1}`` -> ``{"model/depth": 3, "lr": 0.1}``."""
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat
