"""Which reported checkpoints stay on disk (``CheckpointConfig.num_to_keep``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tune_controller._config import CheckpointConfig
from tune_trial import Checkpoint


@dataclass(frozen=True)
class _Kept:
    path: str
    score: float


class CheckpointKeeper:
    """Decides which of a trial's checkpoints to delete once it has more than ``num_to_keep``.

    Never deleted: a trial's latest checkpoint (a restart resumes from it) and checkpoints pinned
    because another trial restarts from them (PBT's exploit). Only paths and scores are kept, and
    only while there is a limit to enforce: the metrics reported with each checkpoint are in the
    journal, where ``Result.best_checkpoints`` reads them.
    """

    def __init__(self, config: CheckpointConfig) -> None:
        self._config = config
        self._kept: dict[str, list[_Kept]] = {}
        self._pinned: set[str] = set()
        self._reports = 0

    def add(self, trial_id: str, checkpoint: Checkpoint, metrics: Mapping[str, Any]) -> list[str]:
        """Register ``checkpoint``; answer the paths to delete now (the caller deletes them)."""
        self._reports += 1
        limit = self._config.num_to_keep
        if limit is None:
            return []
        kept = self._kept.setdefault(trial_id, [])
        # Checkpoint names never repeat within a trial now, but journals written when they were the
        # training iteration register a name again after a restart from an earlier iteration: those
        # files are the new checkpoint's, never to be deleted as the old one's.
        kept[:] = [entry for entry in kept if entry.path != checkpoint.path]
        kept.append(_Kept(checkpoint.path, self._config.score(metrics, self._reports)))
        latest = kept[-1]
        candidates = sorted((entry for entry in kept if entry is not latest), key=lambda entry: entry.score)
        deleted: list[str] = []
        while len(kept) > limit and candidates:
            worst = candidates.pop(0)
            if worst.path in self._pinned:
                continue
            kept.remove(worst)
            deleted.append(worst.path)
        return deleted

    def discard(self, trial_id: str, path: str) -> None:
        """``path`` was deleted (replaying a journal)."""
        kept = self._kept.get(trial_id, [])
        kept[:] = [entry for entry in kept if entry.path != path]

    def forget(self, trial_id: str) -> None:
        """The trial starts over: its earlier checkpoints no longer count."""
        self._kept.pop(trial_id, None)

    def pin(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint`` whatever happens: another trial restarts from it."""
        self._pinned.add(checkpoint.path)
