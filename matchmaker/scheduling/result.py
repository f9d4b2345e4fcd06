"""Turning chosen (candidate pair, slot) placements into a Timetable with tables assigned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .model import Meeting, Objective, Timetable
from .prepare import Prepared, evaluate


def build_timetable(prep: Prepared, placed: Iterable[tuple[int, int]], status: str,
                    bound: Objective | None, stats: dict[str, Any] | None = None) -> Timetable:
    """Timetable from ``placed`` = (candidate index, slot) pairs plus the locked meetings.

    Institutions with locked meetings keep their tables; the others that got
    meetings receive the remaining tables in ascending order.
    """
    placed = sorted(placed, key=lambda p: (p[1], prep.candidates[p[0]]))
    inst_with_meetings = sorted({prep.candidates[k][1] for k, _ in placed})
    table_of = {i: t for i, t in prep.locked_table.items()}
    free = iter(sorted(set(range(prep.event.tables)) - set(table_of.values())))
    for i in inst_with_meetings:
        if i not in table_of:
            try:
                table_of[i] = next(free)
            except StopIteration:
                raise AssertionError("more institutions with meetings than tables") from None
    meetings: list[Meeting] = []
    for lk in prep.event.locked:
        key = (prep.ent_ids.index(lk.enterprise), prep.inst_ids.index(lk.institution))
        info = prep.pairs.get(key)
        meetings.append(Meeting(lk.slot, lk.table, lk.enterprise, lk.institution,
                                bool(info and info.requested), info.score if info else 0.0,
                                locked=True))
    for k, s in placed:
        e, i = prep.candidates[k]
        info = prep.pairs[(e, i)]
        meetings.append(Meeting(s, table_of[i], prep.ent_ids[e], prep.inst_ids[i],
                                info.requested, info.score))
    meetings.sort(key=lambda m: (m.slot, m.table))
    objective = evaluate(prep.event, meetings)
    requested_total = sum(1 for p in prep.pairs.values() if p.requested)
    if bound is not None and objective == bound:
        status = "optimal"
    return Timetable(
        meetings=meetings,
        tables={prep.inst_ids[i]: t for i, t in sorted(table_of.items())},
        requested_total=requested_total,
        requested_scheduled=objective.requested,
        objective=objective,
        bound=bound,
        status=status,
        stats=dict(stats or {}),
    )
