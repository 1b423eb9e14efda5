"""A checkpoint is a directory: the trial writes files, the system keeps them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_METADATA_FILE = ".metadata.json"


class Checkpoint:
    """A handle on a directory of checkpoint files.

    A trial passes one to ``report``; the session copies the directory into the trial's storage
    before ``report`` returns, so the trial may delete its original right away (Ray Tune's
    canonical pattern writes it in a ``TemporaryDirectory``).
    """

    __slots__ = ("_path",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """Refer to the checkpoint files in ``path``."""
        directory = Path(path)
        if not directory.is_dir():
            raise FileNotFoundError(f"Checkpoint.from_directory: {str(directory)!r} is not a directory")
        return cls(directory)

    @property
    def path(self) -> str:
        """Where the checkpoint's files are."""
        return str(self._path)

    def to_directory(self, path: str | os.PathLike[str] | None = None) -> str:
        """Copy the checkpoint's files to ``path`` (a new temporary directory when omitted)."""
        target = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="checkpoint_"))
        shutil.copytree(self._path, target, dirs_exist_ok=True)
        return str(target)

    def get_metadata(self) -> dict[str, Any]:
        """The JSON metadata stored with the checkpoint (``{}`` when none was set)."""
        path = self._path / _METADATA_FILE
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}

    def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Store ``metadata`` (JSON-serialisable) with the checkpoint, replacing what was there.

        It is a file in the checkpoint's directory (Ray Tune's ``.metadata.json``), so it travels
        with the files when ``report`` copies them.
        """
        (self._path / _METADATA_FILE).write_text(json.dumps(dict(metadata)), encoding="utf-8")

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge ``metadata`` into the stored metadata."""
        self.set_metadata({**self.get_metadata(), **metadata})

    @contextlib.contextmanager
    def as_directory(self) -> Iterator[str]:
        """Yield a local directory holding the files, for reading only."""
        yield str(self._path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and other._path == self._path

    def __hash__(self) -> int:
        return hash(self._path)

    def __repr__(self) -> str:
        return f"Checkpoint(path={str(self._path)!r})"
