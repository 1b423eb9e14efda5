"""Parameter paths: how errors name a place in a nested search space."""

from __future__ import annotations

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("model", "layers", 1, "units")`` -> ``model.layers[1].units``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "<root>"
