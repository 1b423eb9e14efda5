"""tune-trial: the vocabulary every tune package shares, and the in-trial API.

Standard library only, so that training code and embedded schedulers depend on nothing else.
"""

from importlib.metadata import version

from tune_trial import result_keys
from tune_trial._api import TrialSession, bind_session, get_checkpoint, get_context, report
from tune_trial._checkpoint import Checkpoint, RemoteFiles
from tune_trial._context import TrialContext
from tune_trial._decision import Action, ChangeResources, Decision, Exploit
from tune_trial._errors import NoActiveTrialError, TrialTransitionError, TuneError
from tune_trial._numbers import as_number
from tune_trial._resources import PlacementGroupFactory, Resources
from tune_trial._status import TrialStatus, is_legal_transition, legal_transitions
from tune_trial._trial import Trial

__version__ = version("tune-trial")

__all__ = [
    "Action",
    "ChangeResources",
    "Checkpoint",
    "Decision",
    "Exploit",
    "NoActiveTrialError",
    "PlacementGroupFactory",
    "RemoteFiles",
    "Resources",
    "Trial",
    "TrialContext",
    "TrialSession",
    "TrialStatus",
    "TrialTransitionError",
    "TuneError",
    "as_number",
    "bind_session",
    "get_checkpoint",
    "get_context",
    "is_legal_transition",
    "legal_transitions",
    "report",
    "result_keys",
]
