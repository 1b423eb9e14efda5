"""Where an experiment's files live: a local directory, or remote storage behind a ``pyarrow.fs`` filesystem.

With a URI (``s3://bucket/prefix``, ``gs://...``, ``file:///...``, anything
``pyarrow.fs.FileSystem.from_uri`` accepts) or ``RunConfig(storage_filesystem=...)``, no machine needs
a shared file system. The driver keeps the journal in a local staging directory, and
:class:`ExperimentSyncer` copies it (with ``state.json``, the settings and the loggers' files) to the
storage from a background thread, at most every ``TUNE_SYNC_PERIOD_S`` seconds and once more at the end
of ``fit``: a lost driver machine loses at most that interval. Each trial writes its checkpoints into a
local staging copy of its directory, wherever it runs, and :class:`CheckpointUploader` uploads them from
the trial's process in the background. The trial goes on training meanwhile; the journal records a
checkpoint only once it is in the storage, so nothing relies on one that is not there (a retry, a
restore, the deletion of an older one).

pyarrow is an optional dependency (``tune-controller[storage]``), imported only when a URI or a
filesystem is given.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import posixpath
import queue
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tune_trial import Checkpoint, TuneError

logger = logging.getLogger(__name__)

STORAGE_EXTRA = "tune-controller[storage]"
SYNC_PERIOD_ENVIRONMENT_VARIABLE = "TUNE_SYNC_PERIOD_S"
_DEFAULT_SYNC_PERIOD_S = 10.0
_SYNC_SHARE = 0.05
"""A sync that takes long (a big journal, a slow link) is spaced out so syncing keeps at most this busy."""
_UPLOADING_SUFFIX = ".uploading"
CHECKPOINT_PREFIX = "checkpoint_"
"""Checkpoint directories in a trial's directory: uploaded by the trial, not by the driver's syncer."""


def checkpoint_dirname(index: int) -> str:
    """The directory of a trial's checkpoint number ``index``: a per-trial counter that never goes
    back (not the training iteration, which does after a restart from an earlier checkpoint), so a
    new checkpoint never lands in, and merges with, the files of an old one."""
    return f"{CHECKPOINT_PREFIX}{index:06d}"


def checkpoint_index(path: str) -> int | None:
    """The number in a checkpoint directory's name (``.../checkpoint_000007`` gives 7), None for
    another name. Journals written before the counter named checkpoints by training iteration; those
    numbers parse the same, so a restored trial's counter starts past them too."""
    name = os.path.basename(path.rstrip("/" + os.sep))
    number = name.removeprefix(CHECKPOINT_PREFIX)
    return int(number) if name.startswith(CHECKPOINT_PREFIX) and number.isdigit() else None


def is_uri(path: str | os.PathLike[str]) -> bool:
    return "://" in os.fspath(path)


def _pyarrow_fs(what: str) -> ModuleType:
    try:
        import pyarrow.fs  # an optional extra: only remote storage needs it
    except ImportError as error:
        raise TuneError(
            f"{what} needs pyarrow, which is not installed: pip install '{STORAGE_EXTRA}' "
            "(or use a local directory, or a shared file system mounted on every node)"
        ) from error
    module: ModuleType = pyarrow.fs
    return module


@dataclass(frozen=True, eq=True)
class RemoteStorage:
    """An experiment's directory in a ``pyarrow.fs`` filesystem.

    Picklable (pyarrow's filesystems are), so trials upload their checkpoints from whichever node
    they run on. Paths are the filesystem's (``bucket/prefix/experiment``, no scheme).
    """

    filesystem: Any
    root: str

    def path(self, relative: str) -> str:
        return posixpath.join(self.root, relative) if relative else self.root

    def relative(self, path: str) -> str:
        return posixpath.relpath(path, self.root)

    def uri(self, relative: str = "") -> str:
        """For messages: ``s3://bucket/prefix/...``."""
        name = str(self.filesystem.type_name).removeprefix("py::fsspec+")  # an fsspec filesystem's protocol
        scheme = {"local": "file"}.get(name, name)
        return f"{scheme}://{self.path(relative)}"

    def upload(self, local: str | os.PathLike[str], relative: str) -> None:
        """Copy a local file or directory (recursively) to ``relative``."""
        fs = _pyarrow_fs("Remote storage")
        target = self.path(relative)
        # Object stores have no directories, but local and fsspec filesystems need the parents.
        self.filesystem.create_dir(target if os.path.isdir(local) else posixpath.dirname(target), recursive=True)
        fs.copy_files(
            os.fspath(local),
            target,
            source_filesystem=fs.LocalFileSystem(),
            destination_filesystem=self.filesystem,
        )

    def replace_file(self, local: str | os.PathLike[str], relative: str) -> None:
        """Upload a file so that readers see the old or the new one whole, never a part: under a
        temporary name, then moved over the old (object stores replace whole objects anyway;
        ``file://`` and fsspec filesystems would otherwise show a half-written journal)."""
        self.upload(local, f"{relative}{_UPLOADING_SUFFIX}")
        self.filesystem.move(self.path(f"{relative}{_UPLOADING_SUFFIX}"), self.path(relative))

    def download(self, path: str, target: str) -> None:
        """Copy the directory ``path`` of the filesystem into the local directory ``target``."""
        fs = _pyarrow_fs("Remote storage")
        fs.copy_files(path, target, source_filesystem=self.filesystem, destination_filesystem=fs.LocalFileSystem())

    def delete(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filesystem.delete_dir(self.path(relative))

    def exists(self, relative: str) -> bool:
        fs = _pyarrow_fs("Remote storage")
        return bool(self.filesystem.get_file_info(self.path(relative)).type != fs.FileType.NotFound)

    def read_bytes(self, relative: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(relative)) as stream:
            return bytes(stream.read())

    def files(self) -> list[str]:
        """Every file under the experiment's directory, relative to it."""
        fs = _pyarrow_fs("Remote storage")
        infos = self.filesystem.get_file_info(fs.FileSelector(self.root, recursive=True, allow_not_found=True))
        return [self.relative(info.path) for info in infos if info.type == fs.FileType.File]


def remote_storage(
    storage_path: str | None, storage_filesystem: Any, what: str = "storage_path"
) -> RemoteStorage | None:
    """The remote storage ``storage_path`` names (its root, not an experiment's), or None for a local directory.

    An fsspec filesystem is wrapped as pyarrow's ``PyFileSystem(FSSpecHandler(fs))``.
    """
    if storage_filesystem is None and not (storage_path and is_uri(storage_path)):
        return None
    fs = _pyarrow_fs(f"{what} {storage_path!r}" if storage_filesystem is None else "storage_filesystem")
    if storage_filesystem is not None:
        if not storage_path:
            raise TuneError("storage_filesystem is set but storage_path is not: give the path inside that filesystem")
        if is_uri(storage_path):
            raise TuneError(
                f"{what} {storage_path!r} is a URI, but storage_filesystem is set too: give a path inside "
                "storage_filesystem (no scheme), or the URI alone"
            )
        if not isinstance(storage_filesystem, fs.FileSystem):
            if not hasattr(storage_filesystem, "protocol"):
                raise TuneError(
                    f"storage_filesystem must be a pyarrow.fs.FileSystem or an fsspec filesystem, "
                    f"got {type(storage_filesystem).__name__}"
                )
            storage_filesystem = fs.PyFileSystem(fs.FSSpecHandler(storage_filesystem))
        return RemoteStorage(storage_filesystem, storage_path.rstrip("/"))
    try:
        filesystem, path = fs.FileSystem.from_uri(storage_path)
    except (ValueError, OSError) as error:
        raise TuneError(f"{what} {storage_path!r}: not a storage URI pyarrow can open: {error}") from error
    return RemoteStorage(filesystem, path.rstrip("/"))


@dataclass(frozen=True)
class ExperimentStorage:
    """An experiment's directory on this machine (``local_dir``: the storage itself, or the driver's
    staging copy of remote storage) and, for remote storage, where that is. Checkpoint paths in the
    journal are relative to the experiment, so a moved experiment still finds them."""

    local_dir: Path
    remote: RemoteStorage | None = None
    _cleanup: weakref.finalize[[Path, bool], ExperimentStorage] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def staged(cls, name: str, remote: RemoteStorage) -> ExperimentStorage:
        """Remote storage with a fresh local staging directory for the driver's files. The directory
        is deleted with the last object that reads it (the results' journal reader, the Tuner) or at
        exit, unless :meth:`keep_staging` is called: every file in it is in the storage too."""
        storage = cls(Path(tempfile.mkdtemp(prefix=f"tune-{name}-")), remote)
        object.__setattr__(storage, "_cleanup", weakref.finalize(storage, shutil.rmtree, storage.local_dir, True))
        return storage

    def keep_staging(self) -> None:
        """Keep the staging directory after all: it holds files the storage could not be sent."""
        if self._cleanup is not None:
            self._cleanup.detach()

    def checkpoint(self, relative: str) -> Checkpoint:
        if self.remote is None:
            return Checkpoint(self.local_dir / relative)
        return Checkpoint(self.remote.path(relative), remote=self.remote)

    def relative(self, checkpoint: Checkpoint) -> str:
        if checkpoint.remote is not None and self.remote is not None:
            return self.remote.relative(checkpoint.path)
        try:
            return str(Path(checkpoint.path).relative_to(self.local_dir))
        except ValueError:
            return checkpoint.path

    def trial_path(self, dirname: str) -> str:
        """A trial's directory, as ``Result.path`` gives it (in the remote filesystem for remote storage)."""
        return str(self.local_dir / dirname) if self.remote is None else self.remote.path(dirname)

    @property
    def filesystem(self) -> Any:
        return None if self.remote is None else self.remote.filesystem


def download_experiment(remote: RemoteStorage, local_dir: Path) -> None:
    """Copy a remote experiment's driver files (journal, state, settings, loggers' files) into
    ``local_dir``; checkpoints stay remote until a trial needs one."""
    for relative in remote.files():
        parts = relative.split("/")
        if (len(parts) > 2 and parts[1].startswith(CHECKPOINT_PREFIX)) or relative.endswith(_UPLOADING_SUFFIX):
            continue
        target = local_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(remote.read_bytes(relative))


def _sync_period() -> float:
    text = os.environ.get(SYNC_PERIOD_ENVIRONMENT_VARIABLE, "")
    try:
        period = float(text) if text else _DEFAULT_SYNC_PERIOD_S
    except ValueError as error:
        raise TuneError(f"{SYNC_PERIOD_ENVIRONMENT_VARIABLE}={text!r} is not a number of seconds") from error
    if not math.isfinite(period) or period < 0:
        # nan would sync without a pause, inf would end the syncing thread with an OverflowError.
        raise TuneError(f"{SYNC_PERIOD_ENVIRONMENT_VARIABLE}={text!r}: give a finite number of seconds, 0 or more")
    return period


class ExperimentSyncer:
    """Copies the driver's files of an experiment to its remote storage, off the driver loop.

    Files that did not change since their last upload are skipped. ``state.json`` counts the journal
    records it includes, so it must never be newer in the storage than the journal: it is copied
    aside before the journal is read, and uploaded after it. A sync that dies or fails between the
    two leaves a newer journal beside an older snapshot, which a restore replays from.
    Checkpoint deletions wait for the next sync's journal upload: until the remote journal says a
    newer checkpoint replaced it, a restore from the storage may still need an old one.
    """

    def __init__(self, local_dir: Path, remote: RemoteStorage, snapshot: tuple[str, str] | None = None) -> None:
        """``snapshot``: (a snapshot file, the log whose records it counts), uploaded after all others."""
        self._local_dir = local_dir
        self._remote = remote
        self._period_s = _sync_period()
        self._snapshot = snapshot
        self._uploaded: dict[str, tuple[int, int]] = {}
        self._deletions: list[str] = []
        self._lock = threading.Lock()  # one sync at a time: the thread's, or the final one
        self._deletions_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tune-storage-sync", daemon=True)

    def start(self) -> None:
        """Sync once now (the storage is checked by writing to it, before any trial starts), then
        in the background."""
        try:
            self.sync()
        except OSError as error:
            raise TuneError(f"storage_path {self._remote.uri()!r} is not writable: {error}") from error
        self._thread.start()

    def delete_later(self, relative: str) -> None:
        with self._deletions_lock:
            self._deletions.append(relative)

    def close(self) -> bool:
        """Stop the thread and sync once more, waiting for it (the end of ``fit``); False when that
        sync failed. A failure is logged, not raised: the experiment is complete in the staging
        directory, which it names (and the caller keeps)."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join()
        try:
            self.sync()
        except Exception as error:
            logger.error(
                "The last sync of the experiment to %s failed (%s): its complete files are in %s",
                self._remote.uri(),
                error,
                self._local_dir,
            )
            return False
        return True

    def _loop(self) -> None:
        wait_s = self._period_s
        while not self._closing.wait(wait_s):
            started = time.monotonic()
            try:
                self.sync()
            except Exception as error:  # the next sync retries; the final one raises
                logger.warning("Syncing the experiment to %s failed (retrying later): %s", self._remote.uri(), error)
            wait_s = max(self._period_s, (time.monotonic() - started) / _SYNC_SHARE)

    def sync(self) -> None:
        with self._lock:
            with self._deletions_lock:
                deletions, self._deletions = self._deletions, []
            deleted = 0
            try:
                with tempfile.TemporaryDirectory(prefix="tune-sync-") as holding:
                    for relative, source, stat in self._uploads(Path(holding)):
                        self._remote.replace_file(source, relative)
                        self._uploaded[relative] = stat
                for relative in deletions:
                    self._remote.delete(relative)
                    deleted += 1
            finally:
                if deleted < len(deletions):
                    # A failed sync keeps what it did not delete for the next: dropped, those
                    # checkpoints would stay in the storage for good, beyond ``num_to_keep``.
                    with self._deletions_lock:
                        self._deletions[:0] = deletions[deleted:]

    def _uploads(self, holding: Path) -> list[tuple[str, Path, tuple[int, int]]]:
        """The changed files, each with the local file to send, in the order to send them: the log
        and then the snapshot last, the snapshot as copied into ``holding`` before the log is read."""
        first: list[tuple[str, Path, tuple[int, int]]] = []
        last: list[tuple[str, Path, tuple[int, int]]] = []
        snapshot, log = self._snapshot or ("", "")
        for relative, stat in self._changed_files():
            if relative == snapshot:
                held = holding / posixpath.basename(relative)
                try:
                    shutil.copyfile(self._local_dir / relative, held)  # replaced atomically: one whole version
                except FileNotFoundError:
                    continue
                last.append((relative, held, stat))
            elif relative == log:
                last.insert(0, (relative, self._local_dir / relative, stat))
            else:
                first.append((relative, self._local_dir / relative, stat))
        return first + last

    def _changed_files(self) -> list[tuple[str, tuple[int, int]]]:
        changed: list[tuple[str, tuple[int, int]]] = []
        for directory, subdirectories, files in os.walk(self._local_dir):
            subdirectories[:] = [name for name in subdirectories if not name.startswith(CHECKPOINT_PREFIX)]
            for name in files:
                if name.endswith(".tmp"):
                    continue  # being written, to be renamed
                path = Path(directory) / name
                relative = path.relative_to(self._local_dir).as_posix()
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                key = (stat.st_mtime_ns, stat.st_size)
                if self._uploaded.get(relative) != key:
                    changed.append((relative, key))
        return changed


class CheckpointUploader:
    """Uploads a trial's checkpoints, in order, from a background thread of the trial's process.

    The trial's ``report`` returns once the checkpoint is copied into its local staging directory;
    ``on_uploaded`` tells the driver when it is in the storage, and the local copy is deleted. A
    failed upload fails the trial at its next ``report`` (or at its end), so a retry resumes from
    the last checkpoint that did arrive.
    """

    def __init__(self, remote: RemoteStorage, on_uploaded: Callable[[str, dict[str, Any]], None]) -> None:
        self._remote = remote
        self._on_uploaded = on_uploaded
        self._queue: queue.Queue[tuple[Path, str, dict[str, Any]] | None] = queue.Queue()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def submit(self, local: Path, relative: str, result: dict[str, Any]) -> None:
        self.raise_failure()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="tune-checkpoint-upload", daemon=True)
            self._thread.start()
        self._queue.put((local, relative, result))

    def raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def close(self) -> None:
        """Wait for every submitted upload; raise if one failed."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self.raise_failure()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            local, relative, result = item
            if self._failure is not None:
                continue  # the trial fails at its next report; later checkpoints would skip the lost one
            try:
                # A name the journal never recorded (the trial's process, or the driver, died mid-upload) is
                # given out again: what that upload left must not merge into this checkpoint. One lookup
                # per upload, off the trial loop; asked first since object stores differ on deleting nothing.
                if self._remote.exists(relative):
                    self._remote.delete(relative)
                self._remote.upload(local, relative)
            except Exception as error:  # handed to the trial's thread
                where = self._remote.uri(relative)
                self._failure = TuneError(f"Uploading checkpoint {local} to {where} failed: {error}")
                continue
            shutil.rmtree(local, ignore_errors=True)
            self._on_uploaded(relative, result)
