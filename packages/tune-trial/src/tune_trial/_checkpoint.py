"""A checkpoint is a directory: the trial writes files, the system keeps them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

_METADATA_FILE = ".metadata.json"


class RemoteFiles(Protocol):
    """Where a checkpoint that is not on this machine lives (tune-controller's remote storage).

    A protocol, so that this package stays free of pyarrow: the object behind it holds the
    ``pyarrow.fs`` filesystem and knows how to copy files from it.
    """

    @property
    def filesystem(self) -> Any:
        """The ``pyarrow.fs.FileSystem`` the checkpoint's path is in."""

    def download(self, path: str, target: str) -> None:
        """Copy the directory ``path`` of the filesystem into the local directory ``target``."""


class Checkpoint:
    """A handle on a directory of checkpoint files.

    A trial passes one to ``report``; the session copies the directory into the trial's storage
    before ``report`` returns, so the trial may delete its original right away (Ray Tune's
    canonical pattern writes it in a ``TemporaryDirectory``).

    A checkpoint in remote storage (``RunConfig(storage_path="s3://...")``) has ``remote`` set and
    ``path`` in that storage's filesystem, as Ray Tune's has ``filesystem``: :meth:`to_directory`
    and :meth:`as_directory` download its files.
    """

    __slots__ = ("_path", "_remote")

    def __init__(self, path: str | os.PathLike[str], remote: RemoteFiles | None = None) -> None:
        self._path: Path | str = Path(path) if remote is None else os.fspath(path)
        self._remote = remote

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

    @property
    def remote(self) -> RemoteFiles | None:
        """The remote storage holding the files, or None when ``path`` is a local directory."""
        return self._remote

    @property
    def filesystem(self) -> Any:
        """Ray Tune's name: the ``pyarrow.fs.FileSystem`` of a remote checkpoint (None when local)."""
        return None if self._remote is None else self._remote.filesystem

    def to_directory(self, path: str | os.PathLike[str] | None = None) -> str:
        """Copy the checkpoint's files to ``path`` (a new temporary directory when omitted)."""
        target = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="checkpoint_"))
        if self._remote is not None:
            target.mkdir(parents=True, exist_ok=True)
            self._remote.download(str(self._path), str(target))
        else:
            shutil.copytree(self._path, target, dirs_exist_ok=True)
        return str(target)

    def get_metadata(self) -> dict[str, Any]:
        """The JSON metadata stored with the checkpoint (``{}`` when none was set)."""
        with self.as_directory() as directory:
            path = Path(directory) / _METADATA_FILE
            return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}

    def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Store ``metadata`` (JSON-serialisable) with the checkpoint, replacing what was there.

        It is a file in the checkpoint's directory (Ray Tune's ``.metadata.json``), so it travels
        with the files when ``report`` copies them.
        """
        if self._remote is not None:
            raise ValueError(f"{self!r} is in remote storage: its metadata can be read, not changed")
        (Path(self._path) / _METADATA_FILE).write_text(json.dumps(dict(metadata)), encoding="utf-8")

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge ``metadata`` into the stored metadata."""
        self.set_metadata({**self.get_metadata(), **metadata})

    @contextlib.contextmanager
    def as_directory(self) -> Iterator[str]:
        """Yield a local directory holding the files, for reading only (a remote checkpoint's are
        downloaded into a temporary directory, deleted afterwards)."""
        if self._remote is None:
            yield str(self._path)
            return
        with tempfile.TemporaryDirectory(prefix="checkpoint_") as directory:
            yield self.to_directory(directory)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and other._path == self._path and other._remote == self._remote

    def __hash__(self) -> int:
        return hash(self._path)

    def __repr__(self) -> str:
        if self._remote is not None:
            return f"Checkpoint(path={str(self._path)!r}, filesystem={type(self.filesystem).__name__})"
        return f"Checkpoint(path={str(self._path)!r})"
