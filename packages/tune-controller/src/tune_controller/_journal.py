"""The experiment journal: what happened, on disk, before the controller acts on it.

``journal.jsonl`` in the experiment directory holds one JSON record per line, appended in the order
things happened: the experiment's header, each trial's creation (its config), every status change,
every result (with the checkpoint it registered), checkpoint deletions, restarts (PBT's exploit,
resource changes) and the scheduler hooks the controller called. Records of one loop turn are
written with a single ``write`` and flushed before the controller answers any trial (group commit),
so a ``kill -9`` of the driver loses nothing that the journal told the trials it had: what is
flushed is in the operating system's page cache, which outlives the process. ``fsync`` guards only
against a power loss or kernel crash; it costs a disk round trip per turn, so it is off by default
(``TUNE_JOURNAL_FSYNC=1`` turns it on).

Searcher and scheduler state are snapshotted, not appended: ASHA's state grows with the number of
trials, so ``state.json`` is rewritten atomically (temporary file, then ``os.replace``) at the end of
a turn, no more often than keeps its cost a small fraction of the loop's time. The snapshot says how
many journal records it includes; a restore replays the records after it (trial creations, results,
scheduler hooks) into the searcher and the scheduler, so they are as they were at the last commit.

A crash can tear the last line; readers ignore it, and a restore cuts it off before appending.

With remote storage a result's checkpoint is uploaded after the result is journaled: a later
``ckpt`` record (with the result again, for ranking) says it arrived, and only then does the
journal count it as the trial's checkpoint.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import cloudpickle

from tune_controller._checkpoints import CheckpointKeeper
from tune_controller._config import CheckpointConfig
from tune_controller._storage import ExperimentStorage, checkpoint_index
from tune_trial import Checkpoint, Resources, Trial, TrialStatus, TuneError

JOURNAL_FILE = "journal.jsonl"
STATE_FILE = "state.json"
FSYNC_ENVIRONMENT_VARIABLE = "TUNE_JOURNAL_FSYNC"
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    """``json.dumps``'s fallback for results: numpy scalars and arrays as numbers and lists."""
    if getattr(value, "shape", None) == () and callable(getattr(value, "item", None)):
        return value.item()
    if callable(getattr(value, "tolist", None)):
        return value.tolist()
    return repr(value)


def encode_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as JSON where it survives the round trip unchanged, else pickled (tuples, numpy
    integers, objects): a restored trial must get exactly the config it started with."""
    try:
        text = json.dumps(config)
        if json.loads(text) == config:
            return {"config": json.loads(text)}
    except (TypeError, ValueError):
        pass
    return {"config_pickle": base64.b64encode(cloudpickle.dumps(dict(config))).decode("ascii")}


def decode_config(record: Mapping[str, Any]) -> dict[str, Any]:
    if "config_pickle" in record:
        config: dict[str, Any] = cloudpickle.loads(base64.b64decode(record["config_pickle"]))
        return config
    return dict(record["config"])


class JournalWriter:
    """Buffers the records of a loop turn; :meth:`commit` writes them at once."""

    def __init__(self, directory: Path, *, fresh: bool, fsync: bool | None = None) -> None:
        self._directory = directory
        self._path = directory / JOURNAL_FILE
        self._fsync = os.environ.get(FSYNC_ENVIRONMENT_VARIABLE, "0") not in ("", "0") if fsync is None else fsync
        self.records = 0 if fresh else _cut_torn_tail(self._path)
        self._file: IO[str] = open(self._path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115
        self._pending: list[str] = []

    def append(self, record: Mapping[str, Any]) -> None:
        self._pending.append(json.dumps(record, default=_plain, separators=(",", ":")))

    def commit(self) -> bool:
        """Write and flush what was appended since the last commit; False when there was nothing."""
        if not self._pending:
            return False
        self._file.write("\n".join(self._pending) + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self.records += len(self._pending)
        self._pending.clear()
        return True

    def snapshot(self, state: Mapping[str, Any]) -> None:
        """Replace ``state.json`` atomically: a crash leaves the previous snapshot or this one."""
        temporary = self._directory / f"{STATE_FILE}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump({"records": self.records, **state}, file, separators=(",", ":"))
            if self._fsync:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, self._directory / STATE_FILE)

    def close(self) -> None:
        self._file.close()


def _cut_torn_tail(path: Path) -> int:
    """Drop a torn last line (a crash mid-write) so appends start on a fresh line; count the records."""
    count = 0
    good = 0
    with open(path, "rb") as file:
        for line in file:
            if not line.endswith(b"\n"):
                break
            count += 1
            good += len(line)
    if good != path.stat().st_size:
        os.truncate(path, good)
    return count


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete record of a journal, in order; a torn last line is ignored."""
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.endswith(b"\n"):
                return  # torn by a crash: never acknowledged to anyone
            try:
                record: dict[str, Any] = json.loads(line)
            except ValueError as error:
                raise TuneError(f"{path}: line {number} is not a journal record ({error})") from error
            yield record


def is_experiment(directory: Path) -> bool:
    path = directory / JOURNAL_FILE
    if not path.is_file():
        return False
    with open(path, "rb") as file:
        first = file.readline()
    try:
        return bool(json.loads(first).get("t") == "experiment")
    except ValueError:
        return False


@dataclass
class TrialState:
    """What the journal says about one trial: O(1) in the number of its results."""

    trial: Trial
    name: str
    dirname: str
    resume_point: dict[str, Any] = field(default_factory=dict)
    ending: dict[str, Any] | None = None
    """The decision to stop or pause the trial's current run, if one was made."""
    next_checkpoint_index: int = 0
    """One past the highest checkpoint number in the trial's own records (registered or deleted,
    including before a ``reset``, whose directories may still be there): no new state to journal."""


@dataclass
class ExperimentState:
    """An experiment rebuilt from its journal (one pass, memory in proportion to the trials)."""

    storage: ExperimentStorage
    header: dict[str, Any]
    trials: dict[str, TrialState]
    checkpoints: CheckpointKeeper
    searcher_finished: bool
    records: int
    tail: list[dict[str, Any]]
    """Records after the state snapshot, to replay into the searcher and the scheduler."""
    snapshot: dict[str, Any] | None


def load_experiment(storage: ExperimentStorage) -> ExperimentState:
    """Read an experiment's journal and its latest state snapshot (from the local directory)."""
    directory = storage.local_dir
    if not is_experiment(directory):
        raise TuneError(f"{str(directory)!r} is not a tune experiment directory (no {JOURNAL_FILE} with a header)")
    snapshot: dict[str, Any] | None = None
    if (directory / STATE_FILE).is_file():
        snapshot = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    replay_from = int(snapshot["records"]) if snapshot is not None else 0
    records = read_records(directory / JOURNAL_FILE)
    header = next(records)
    if header.get("v") != FORMAT_VERSION:
        raise TuneError(f"{directory / JOURNAL_FILE}: journal format {header.get('v')!r}, expected {FORMAT_VERSION}")
    checkpoint_config = CheckpointConfig(**header["checkpoint_config"])
    state = ExperimentState(
        storage=storage,
        header=header,
        trials={},
        checkpoints=CheckpointKeeper(checkpoint_config),
        searcher_finished=False,
        records=1,
        tail=[],
        snapshot=snapshot,
    )
    for record in records:
        if state.records >= replay_from:
            state.tail.append(record)
        state.records += 1
        _apply(state, record)
    return state


def _apply(state: ExperimentState, record: dict[str, Any]) -> None:
    kind = record["t"]
    if kind == "trial":
        trial = Trial(
            trial_id=record["id"], config=decode_config(record), resources=Resources.from_json(record["resources"])
        )
        state.trials[trial.trial_id] = TrialState(trial, record["name"], record["dir"])
        return
    if kind == "no_more":
        state.searcher_finished = True
        return
    if kind not in ("result", "ckpt", "status", "restart", "ckpt_del", "reset", "ending"):
        return  # scheduler hooks matter only for replay
    entry = state.trials[record["id"]]
    trial = entry.trial
    own_checkpoint = record.get("ckpt") if kind == "result" else record.get("path")  # a restart's is the source's
    if own_checkpoint is not None and (number := checkpoint_index(own_checkpoint)) is not None:
        entry.next_checkpoint_index = max(entry.next_checkpoint_index, number + 1)
    if kind == "result":
        trial.last_result = record["r"]
        if "ckpt" in record:
            trial.checkpoint = state.storage.checkpoint(record["ckpt"])
            state.checkpoints.add(trial.trial_id, trial.checkpoint, record["r"])
            entry.resume_point = record["r"]
    elif kind == "ckpt":
        trial.checkpoint = state.storage.checkpoint(record["path"])
        state.checkpoints.add(trial.trial_id, trial.checkpoint, record["r"])
        entry.resume_point = record["r"]
    elif kind == "ending":
        entry.ending = record
    elif kind == "status":
        entry.ending = None
        trial.status = TrialStatus(record["s"])
        trial.num_failures = record.get("failures", trial.num_failures)
        trial.error = record.get("error")  # set with ERROR; a trial that runs again has none
    elif kind == "restart":
        if "resources" in record:
            trial.resources = Resources.from_json(record["resources"])
        else:
            trial.config = decode_config(record)
            trial.checkpoint = state.storage.checkpoint(record["ckpt"])
            state.checkpoints.pin(trial.checkpoint)
            entry.resume_point = record["resume"]
    elif kind == "ckpt_del":
        state.checkpoints.discard(trial.trial_id, state.storage.checkpoint(record["path"]).path)
    else:  # reset: the trial starts over (``restart_errored``)
        trial.checkpoint = None
        trial.last_result = None
        trial.error = None
        entry.resume_point = {}
        state.checkpoints.forget(trial.trial_id)


class JournalReader:
    """Reads results back from the journal on demand, so the driver never holds them all.

    Reading one trial's history scans the journal once; analyses over every trial scan it once too.
    """

    def __init__(self, storage: ExperimentStorage, checkpoint_config: CheckpointConfig) -> None:
        self._storage = storage
        self._path = storage.local_dir / JOURNAL_FILE
        self._checkpoint_config = checkpoint_config

    def results(self, trial_id: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(trial_id, result)`` in report order, with an empty result where the trial started over
        (``restart_errored``): its results before that no longer count."""
        needle = None if trial_id is None else f'"id":{json.dumps(trial_id)}'.encode()
        with open(self._path, "rb") as file:
            for line in file:
                if not line.endswith(b"\n"):
                    return
                if needle is not None and needle not in line:
                    continue  # cheap filter before parsing
                if not line.startswith((b'{"t":"result"', b'{"t":"reset"')):
                    continue
                record = json.loads(line)
                if trial_id is not None and record["id"] != trial_id:
                    continue
                yield record["id"], record.get("r", {}) if record["t"] == "result" else {}

    def history(self, trial_id: str) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = []
        for _, result in self.results(trial_id):
            if not result:
                history.clear()  # restarted from scratch
            else:
                history.append(result)
        return history

    def checkpoints(self, trial_id: str) -> list[tuple[Checkpoint, dict[str, Any]]]:
        """The trial's checkpoints still on disk with the metrics reported with each, best first."""
        registered: dict[str, dict[str, Any]] = {}
        for record in read_records(self._path):
            if record.get("id") != trial_id:
                continue
            if record["t"] == "result" and "ckpt" in record:
                registered[record["ckpt"]] = record["r"]
            elif record["t"] == "ckpt":
                registered[record["path"]] = record["r"]
            elif record["t"] == "ckpt_del":
                registered.pop(record["path"], None)
            elif record["t"] == "reset":
                registered.clear()
        ranked = sorted(
            enumerate(registered.items()),
            key=lambda item: self._checkpoint_config.score(item[1][1], item[0]),
            reverse=True,
        )
        return [(self._storage.checkpoint(path), metrics) for _, (path, metrics) in ranked]
