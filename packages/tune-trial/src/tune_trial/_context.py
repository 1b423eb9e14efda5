"""What a running trial can learn about itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from tune_trial._resources import Resources


@dataclass(frozen=True)
class TrialContext:
    """Identity and placement of the running trial, as returned by ``get_context()``.

    The ``get_*`` methods mirror Ray Tune's ``TuneContext`` so ported code keeps working.
    """

    trial_id: str
    trial_name: str
    trial_dir: str
    experiment_name: str
    resources: Resources = field(default_factory=Resources)

    def get_trial_id(self) -> str:
        return self.trial_id

    def get_trial_name(self) -> str:
        return self.trial_name

    def get_trial_dir(self) -> str:
        return self.trial_dir

    def get_experiment_name(self) -> str:
        return self.experiment_name

    def get_trial_resources(self) -> Resources:
        return self.resources
