"""1:1 meeting timetable optimiser for matching events (银企对接会): pure Python, flow + CP-SAT."""

from .colouring import konig_edge_colouring
from .flow import max_b_matching, max_weight_b_matching
from .greedy import greedy_schedule
from .model import (
    SCORE_SCALE,
    Event,
    LockedMeeting,
    Meeting,
    Objective,
    Participant,
    ProposedPair,
    Request,
    Timetable,
)
from .prepare import evaluate
from .solver import requested_upper_bound, schedule

__all__ = [
    "SCORE_SCALE",
    "Event",
    "LockedMeeting",
    "Meeting",
    "Objective",
    "Participant",
    "ProposedPair",
    "Request",
    "Timetable",
    "evaluate",
    "greedy_schedule",
    "konig_edge_colouring",
    "max_b_matching",
    "max_weight_b_matching",
    "requested_upper_bound",
    "schedule",
]
