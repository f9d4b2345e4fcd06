"""An institution's response record: how fast and how often it answers, offers and funds.

Offers and applications live in another domain; this module computes the figures from a plain
history of requests (`ResponseHistoryRow`), and that domain registers where the history comes from.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import NamedTuple

from models import Organization
from models.types import utcnow


class ResponseHistoryRow(NamedTuple):
    """One request to an institution (an application to it or a demand it was asked to answer)."""

    asked_at: datetime
    first_answer_at: datetime | None   # None while unanswered
    deadline_at: datetime              # the answer deadline (10 working days by the city's policy)
    offered: bool                      # the answer was an offer (not a decline)
    accepted: bool                     # the enterprise accepted that offer
    funded_amount: Decimal | None      # 万元 disbursed, when it came to that


@dataclass(frozen=True)
class ResponseRecord:
    requests: int
    answered: int
    median_answer_time: timedelta | None
    # Of the requests whose deadline has passed or that were answered: the share answered in time.
    on_time_share: float | None
    offers: int
    accepted: int
    funded_amount: Decimal

    @property
    def empty(self) -> bool:
        return self.requests == 0

    @property
    def median_answer_days(self) -> float | None:
        if self.median_answer_time is None:
            return None
        return round(self.median_answer_time.total_seconds() / 86400, 1)


def response_figures(history: Iterable[tuple], *, now: datetime | None = None) -> ResponseRecord:
    """The record computed from `history`, rows of (asked_at, first_answer_at, deadline_at, offered,
    accepted, funded_amount); a request still open before its deadline counts neither way for timeliness."""
    now = now or utcnow()
    requests = answered = due = on_time = offers = accepted = 0
    funded = Decimal(0)
    waits: list[timedelta] = []
    for asked_at, first_answer_at, deadline_at, was_offered, was_accepted, funded_amount in history:
        requests += 1
        if first_answer_at is not None:
            answered += 1
            waits.append(first_answer_at - asked_at)
            due += 1
            on_time += first_answer_at <= deadline_at
        elif deadline_at < now:
            due += 1
        offers += bool(was_offered)
        accepted += bool(was_accepted)
        funded += Decimal(funded_amount or 0)
    return ResponseRecord(
        requests=requests, answered=answered,
        median_answer_time=median(waits) if waits else None,
        on_time_share=(on_time / due) if due else None,
        offers=offers, accepted=accepted, funded_amount=funded,
    )


# Where an institution's history comes from: the offers domain appends its reader here.
HISTORY_SOURCES: list[Callable[[Organization], Iterable[ResponseHistoryRow]]] = []


def response_history(org: Organization) -> list[ResponseHistoryRow]:
    return [row for source in HISTORY_SOURCES for row in source(org)]


def response_record(org: Organization, *, history: Iterable[tuple] | None = None,
                    now: datetime | None = None) -> ResponseRecord:
    """The response record of `org`, from the registered history sources unless `history` is given."""
    return response_figures(response_history(org) if history is None else history, now=now)
