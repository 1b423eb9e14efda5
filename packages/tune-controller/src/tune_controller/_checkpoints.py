"""Which reported checkpoints stay on disk (``CheckpointConfig.num_to_keep``)."""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tune_controller._config import CheckpointConfig
from tune_trial import Checkpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Kept:
    checkpoint: Checkpoint
    metrics: Mapping[str, Any]
    order: int  # report order, for "most recent"


class CheckpointKeeper:
    """Keeps each trial's best ``num_to_keep`` checkpoints and deletes the others' directories.

    Never deleted: a trial's latest checkpoint (a restart resumes from it) and checkpoints pinned
    because another trial restarts from them (PBT's exploit).
    """

    def __init__(self, config: CheckpointConfig) -> None:
        self._config = config
        self._kept: dict[str, list[_Kept]] = {}
        self._pinned: set[str] = set()
        self._reports = 0

    def add(self, trial_id: str, checkpoint: Checkpoint, metrics: Mapping[str, Any]) -> None:
        self._reports += 1
        kept = self._kept.setdefault(trial_id, [])
        kept.append(_Kept(checkpoint, dict(metrics), self._reports))
        limit = self._config.num_to_keep
        if limit is None or len(kept) <= limit:
            return
        latest = kept[-1]
        candidates = sorted((entry for entry in kept if entry is not latest), key=self._score)
        while len(kept) > limit and candidates:
            worst = candidates.pop(0)
            if worst.checkpoint.path in self._pinned:
                continue
            kept.remove(worst)
            shutil.rmtree(worst.checkpoint.path, ignore_errors=True)

    def _score(self, entry: _Kept) -> float:
        """Higher is better: the configured attribute in its order, else recency."""
        attribute = self._config.checkpoint_score_attribute
        if attribute is None:
            return float(entry.order)
        value = entry.metrics.get(attribute)
        if not isinstance(value, (int, float)) or math.isnan(value):
            return -math.inf
        return float(value) if self._config.checkpoint_score_order == "max" else -float(value)

    def pin(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint`` whatever happens: another trial restarts from it."""
        self._pinned.add(checkpoint.path)

    def best(self, trial_id: str) -> list[tuple[Checkpoint, dict[str, Any]]]:
        """The trial's kept checkpoints with the metrics reported with them, best first."""
        entries = sorted(self._kept.get(trial_id, []), key=self._score, reverse=True)
        return [(entry.checkpoint, dict(entry.metrics)) for entry in entries]
