"""A checkpoint is a directory: the trial writes files, the system keeps them."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
