"""Input and output dataclasses of the 1:1 meeting timetable optimiser."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: Proposal scores are compared as integers in thousandths so that the
#: CP-SAT objective stays integral; 0.0005 differences are below any ranking
#: model's precision anyway.
SCORE_SCALE = 1000

OPTIMAL = "optimal"
FEASIBLE = "feasible"
HEURISTIC = "heuristic"


@dataclass(frozen=True)
class Participant:
    """An enterprise or institution with an optional availability window and meeting cap.

    ``slots`` is the set of slot indices the participant is available in
    (``None`` = every slot); ``max_meetings`` caps its meetings (``None`` = the
    number of slots).
    """

    id: str
    slots: frozenset[int] | None = None
    max_meetings: int | None = None

    def __post_init__(self) -> None:
        if self.slots is not None and not isinstance(self.slots, frozenset):
            object.__setattr__(self, "slots", frozenset(self.slots))


@dataclass(frozen=True)
class Request:
    """A meeting request between an enterprise and an institution.

    ``requested_by`` says which side asked ("enterprise" or "institution").
    ``mutual`` marks a pair requested in both directions; giving the same pair
    once from each side has the same effect. ``accepted`` means the other side
    accepted. Several requests for one pair are one requested meeting.
    """

    enterprise: str
    institution: str
    requested_by: str = "enterprise"
    mutual: bool = False
    accepted: bool = False


@dataclass(frozen=True)
class ProposedPair:
    """A pair suggested by the ranking (not requested) with a match score in [0, 1]."""

    enterprise: str
    institution: str
    score: float


@dataclass(frozen=True)
class LockedMeeting:
    """A meeting fixed by the organiser at a given slot and table."""

    enterprise: str
    institution: str
    slot: int
    table: int


def _as_participants(items: Iterable[Participant | str]) -> tuple[Participant, ...]:
    return tuple(p if isinstance(p, Participant) else Participant(str(p)) for p in items)


@dataclass(frozen=True)
class Event:
    """A matching event: slots 0..slots-1, tables 0..tables-1 and everything to schedule.

    Participants may be given as plain id strings (available everywhere, no cap).
    """

    slots: int
    tables: int
    enterprises: Sequence[Participant | str]
    institutions: Sequence[Participant | str]
    requests: Sequence[Request] = ()
    proposals: Sequence[ProposedPair] = ()
    locked: Sequence[LockedMeeting] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "enterprises", _as_participants(self.enterprises))
        object.__setattr__(self, "institutions", _as_participants(self.institutions))
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "proposals", tuple(self.proposals))
        object.__setattr__(self, "locked", tuple(self.locked))


@dataclass(frozen=True)
class Meeting:
    """One scheduled 1:1 meeting.

    ``score`` is the ranking score given for the pair as a proposal (0.0 if none).
    """

    slot: int
    table: int
    enterprise: str
    institution: str
    requested: bool
    score: float = 0.0
    locked: bool = False


class Objective(NamedTuple):
    """The lexicographic objective; every component is maximised, compared as a tuple.

    1. ``requested``: distinct requested pairs scheduled;
    2. ``preferred``: sum over scheduled requested pairs of mutual + accepted
       (0, 1 or 2 per pair);
    3. ``proposal_score``: sum of scores of scheduled proposed (not requested)
       pairs, in thousandths (see ``SCORE_SCALE``);
    4. ``negative_gaps``: minus the idle gaps, a gap being a slot in a
       participant's window, strictly between two of its meetings, without a
       meeting.
    """

    requested: int
    preferred: int
    proposal_score: int
    negative_gaps: int

    @property
    def gaps(self) -> int:
        """Number of idle gaps (criterion 4, minimised)."""
        return -self.negative_gaps


@dataclass
class Timetable:
    """The result: meetings, institution tables, objective and a proven bound.

    ``bound`` is a lexicographic upper bound of ``objective`` proven by the
    flow relaxation and the solver: no feasible timetable has an objective
    tuple greater than it. ``status`` is "optimal" when ``objective ==
    bound``, "feasible" when a bound gap remains and "heuristic" for the
    greedy baseline (which has no bound).
    """

    meetings: list[Meeting]
    tables: dict[str, int]
    requested_total: int
    requested_scheduled: int
    objective: Objective
    bound: Objective | None
    status: str
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the timetable (for views and the benchmark)."""
        return {
            "meetings": [m.__dict__.copy() for m in self.meetings],
            "tables": dict(self.tables),
            "requested_total": self.requested_total,
            "requested_scheduled": self.requested_scheduled,
            "objective": self.objective._asdict(),
            "bound": None if self.bound is None else self.bound._asdict(),
            "status": self.status,
            "stats": dict(self.stats),
        }
