"""Synchronous HyperBand (Li et al., 2017), with Ray Tune's bracket layout and parameters."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tune_schedulers._metrics import read_result, reward
from tune_schedulers._scheduler import TrialScheduler
from tune_trial import Action, Decision, Trial, TrialStatus


@dataclass
class _Bracket:
    """Successive halving over a fixed group of trials: all reach a milestone, the best ``1/eta`` go on."""

    size: int  # how many live trials the bracket holds now (Ray Tune's ``_n``)
    milestone: int  # the time every live trial must reach before the next halving (``_cumul_r``)
    halvings_left: int
    live: dict[str, float | None] = field(default_factory=dict)  # trial id -> latest time reported
    rewards: dict[str, float] = field(default_factory=dict)  # trial id -> latest reward
    finished: bool = False

    def filled(self) -> bool:
        """No new trial may join: full, or done (new trials could not catch up with a finished bracket)."""
        return self.finished or len(self.live) == self.size

    def round_done(self) -> bool:
        return all(time is not None and time >= self.milestone for time in self.live.values())


class HyperBandScheduler(TrialScheduler):
    """HyperBand: brackets of successive halving, from full-budget trials to many short ones.

    Trials fill brackets in turn (as Ray Tune does: band after band, bracket ``s = 0, 1, …`` with
    ``ceil(s_max_1 / (s + 1) * eta**s)`` trials starting at ``max_t * eta**-s``). A trial that
    reaches its bracket's milestone pauses until all the bracket's trials have; then the best
    ``1/eta`` resume to the next milestone and the others stop. The trainable must checkpoint.
    """

    needs_metric = True

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: int = 81,
        reduction_factor: float = 3,
        stop_last_trials: bool = True,
    ) -> None:
        super().__init__(metric, mode)
        name = type(self).__name__
        if max_t <= 0:
            raise ValueError(f"{name}: max_t must be > 0, got {max_t}")
        if reduction_factor <= 1:
            raise ValueError(f"{name}: reduction_factor must be > 1, got {reduction_factor}")
        self.time_attr = time_attr
        self.max_t = max_t
        self.eta = reduction_factor
        self.stop_last_trials = stop_last_trials
        self._s_max_1 = round(math.log(max_t) / math.log(reduction_factor)) + 1
        self._brackets: list[_Bracket] = []
        self._band_size = 0  # brackets created in the current band
        self._bracket_of: dict[str, int] = {}
        self._decisions: list[tuple[str, Decision]] = []
        self._no_more_trials = False
        self._trials: dict[str, Trial] = {}  # the trial objects, to hand back from choose_trial_to_run
        self._pending: deque[str] = deque()  # added, in order, maybe started since
        self._to_resume: deque[str] = deque()  # halving winners, in order, waiting to be chosen

    def milestones(self) -> Collection[int] | None:
        if self.time_attr != "training_iteration":
            return None
        points = {self.max_t}
        for s in range(self._s_max_1):
            milestone = int(self.max_t * self.eta**-s)
            while 0 < milestone < self.max_t:
                points.add(milestone)
                milestone = int(min(milestone * self.eta, self.max_t))
        return points

    def _new_bracket(self) -> _Bracket:
        while True:
            if self._band_size >= self._s_max_1:
                self._band_size = 0
            s = self._bracket_s(self._band_size)
            self._band_size += 1
            first_milestone = int(self.max_t * self.eta**-s)
            if first_milestone > 0:  # too small a bracket is skipped, as in Ray Tune
                size = math.ceil(self._s_max_1 / (s + 1) * self.eta**s)
                return _Bracket(size=size, milestone=first_milestone, halvings_left=s)

    def _bracket_s(self, position: int) -> int:
        """The ``s`` of the ``position``-th bracket of a band: full budget first, as in Ray Tune."""
        return position

    def on_trial_add(self, trial: Trial) -> None:
        self._trials[trial.trial_id] = trial
        if trial.status is TrialStatus.PENDING:
            self._pending.append(trial.trial_id)
        if trial.trial_id in self._bracket_of:
            return  # re-added after a restore: its bracket is in the state
        if not self._brackets or self._brackets[-1].filled():
            self._brackets.append(self._new_bracket())
        self._brackets[-1].live[trial.trial_id] = None
        self._bracket_of[trial.trial_id] = len(self._brackets) - 1

    def on_trial_result(self, trial: Trial, result: Mapping[str, Any]) -> Decision:
        raw, sign, time = read_result(type(self).__name__, trial, result, self.metric, self.mode, self.time_attr)
        value = reward(raw, sign)
        bracket = self._brackets[self._bracket_of[trial.trial_id]]
        bracket.live[trial.trial_id] = time
        bracket.rewards[trial.trial_id] = value
        if (not self.stop_last_trials and bracket.halvings_left == 0) or time < bracket.milestone:
            return Decision.CONTINUE
        return self._process(bracket, current=trial.trial_id)

    def _process(self, bracket: _Bracket, current: str | None) -> Decision:
        """Halve the bracket if its round is done; the decision for ``current`` (PAUSE while waiting).

        A bracket waits to be filled before its first halving, unless no more trials will come:
        halving four of six trials would leave the other two nobody to be compared with.
        """
        if not bracket.round_done() or not (bracket.filled() or self._no_more_trials):
            return Decision.PAUSE
        if bracket.halvings_left == 0:
            if not self.stop_last_trials:
                return Decision.CONTINUE
            bracket.finished = True
            losers, winners = list(bracket.live), []
        else:
            bracket.halvings_left -= 1
            bracket.size = math.ceil(bracket.size / self.eta)
            bracket.milestone = int(min(bracket.milestone * self.eta, self.max_t))
            ranked = sorted(bracket.live, key=lambda trial_id: _sortable(bracket.rewards[trial_id]))
            losers, winners = ranked[: -bracket.size], ranked[-bracket.size :]
        decision = Decision.PAUSE
        for trial_id in losers:
            self._forget(trial_id)
            if trial_id == current:
                decision = Decision.STOP
            else:
                self._decisions.append((trial_id, Decision.STOP))
        for trial_id in winners:
            if trial_id == current:
                decision = Decision.CONTINUE
            else:
                self._to_resume.append(trial_id)
        return decision

    def on_no_more_trials(self) -> None:
        self._no_more_trials = True
        for bracket in self._brackets:
            if bracket.live and not bracket.finished:
                self._process(bracket, current=None)

    def pop_decisions(self) -> list[tuple[str, Action]]:
        decisions: list[tuple[str, Action]] = list(self._decisions)
        self._decisions = []
        return decisions

    def choose_trial_to_run(self, candidates: Sequence[Trial]) -> Trial | None:
        # The scheduler keeps the trials it was given, so choosing needs no pass over the candidates.
        while self._to_resume:
            trial = self._trials.get(self._to_resume[0])
            if trial is not None and trial.status is not TrialStatus.PAUSED:
                break  # not paused yet: its turn comes when it is
            self._to_resume.popleft()
            if trial is not None:
                return trial
        while self._pending:
            trial = self._trials.get(self._pending[0])
            if trial is not None and trial.status is TrialStatus.PENDING:
                return trial
            self._pending.popleft()  # started (or gone) since it was added
        return None  # a new trial, if the searcher has one, fills the current bracket

    def _forget(self, trial_id: str) -> None:
        self._trials.pop(trial_id, None)
        index = self._bracket_of.pop(trial_id, None)
        if index is not None:
            bracket = self._brackets[index]
            bracket.live.pop(trial_id, None)
            bracket.rewards.pop(trial_id, None)

    def on_trial_error(self, trial: Trial) -> None:
        self._on_departure(trial.trial_id)

    def on_trial_remove(self, trial: Trial) -> None:
        self._on_departure(trial.trial_id)

    def _on_departure(self, trial_id: str) -> None:
        """A trial left early: its bracket may now have everything it waited for."""
        index = self._bracket_of.get(trial_id)
        self._forget(trial_id)
        if index is not None and self._brackets[index].live:
            self._process(self._brackets[index], current=None)

    def get_state(self) -> dict[str, Any]:
        brackets = [
            {
                "size": b.size,
                "milestone": b.milestone,
                "halvings_left": b.halvings_left,
                "live": b.live,
                "rewards": {trial_id: _json(value) for trial_id, value in b.rewards.items()},
                "finished": b.finished,
            }
            for b in self._brackets
        ]
        return {
            **super().get_state(),
            "brackets": brackets,
            "band_size": self._band_size,
            "bracket_of": self._bracket_of,
            "to_stop": [trial_id for trial_id, _ in self._decisions],
            "no_more_trials": self._no_more_trials,
            "to_resume": list(self._to_resume),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        self._brackets = [
            _Bracket(
                size=b["size"],
                milestone=b["milestone"],
                halvings_left=b["halvings_left"],
                live=dict(b["live"]),
                rewards={trial_id: _unjson(value) for trial_id, value in b["rewards"].items()},
                finished=bool(b["finished"]),
            )
            for b in state["brackets"]
        ]
        self._band_size = int(state["band_size"])
        self._bracket_of = dict(state["bracket_of"])
        self._decisions = [(trial_id, Decision.STOP) for trial_id in state["to_stop"]]
        self._no_more_trials = bool(state["no_more_trials"])
        self._to_resume = deque(state["to_resume"])


def _sortable(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _json(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _unjson(value: float | None) -> float:
    return -math.inf if value is None else float(value)


class HyperBandForBOHB(HyperBandScheduler):
    """HyperBand as BOHB runs it (Falkner et al., 2018), to pair with a BOHB searcher.

    As in Ray Tune, a band's brackets are filled largest ``s`` first: many short trials first, so the
    searcher's model gets results early. As everywhere in tune, a bracket waits to be filled until the
    searcher has no more trials (``on_no_more_trials``), then halves as it is.
    """

    def _bracket_s(self, position: int) -> int:
        return self._s_max_1 - 1 - position
