"""The Trial: one configuration being evaluated, as every package sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tune_trial._checkpoint import Checkpoint
from tune_trial._errors import TrialTransitionError
from tune_trial._resources import Resources
from tune_trial._status import TrialStatus, is_legal_transition, legal_transitions


@dataclass(eq=False)
class Trial:
    """A configuration under evaluation, its status and what it last reported.

    Trials compare by identity and hash by id, so schedulers can keep them in sets and dicts.
    Status changes go through :meth:`set_status`, which refuses moves the transition table forbids.
    """

    trial_id: str
    config: Mapping[str, Any]
    resources: Resources = field(default_factory=Resources)
    status: TrialStatus = TrialStatus.PENDING
    last_result: Mapping[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    error: str | None = None
    num_failures: int = 0
    experiment_tag: str = ""

    def set_status(self, new: TrialStatus) -> None:
        """Move to ``new``, or raise :class:`TrialTransitionError` if the move is illegal."""
        if not is_legal_transition(self.status, new):
            allowed = ", ".join(sorted(s.value for s in legal_transitions(self.status))) or "none"
            raise TrialTransitionError(
                f"Trial {self.trial_id}: cannot move from {self.status.value} to {new.value} "
                f"(allowed from {self.status.value}: {allowed})"
            )
        self.status = new

    def __hash__(self) -> int:
        return hash(self.trial_id)

    def __repr__(self) -> str:
        return f"Trial({self.trial_id!r}, status={self.status.value})"
