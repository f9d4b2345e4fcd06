"""Shared feasibility checker for the scheduling tests, written independently of the solver."""

from __future__ import annotations

import pytest

from matchmaker.scheduling import Event, Timetable


def check_feasible(event: Event, tt: Timetable) -> None:
    """Assert every hard rule of a timetable: slots, tables, windows, caps, locks, uniqueness."""
    S, T = event.slots, event.tables
    ents = {p.id: p for p in event.enterprises}
    insts = {p.id: p for p in event.institutions}
    seen_slot: set[tuple[str, int]] = set()
    pairs: set[tuple[str, str]] = set()
    table_of: dict[str, int] = {}
    owner: dict[int, str] = {}
    count: dict[str, int] = {}
    for m in tt.meetings:
        assert m.enterprise in ents and m.institution in insts, m
        assert 0 <= m.slot < S and 0 <= m.table < T, m
        for who, p in ((m.enterprise, ents[m.enterprise]), (m.institution, insts[m.institution])):
            assert (who, m.slot) not in seen_slot, f"{who} double-booked in slot {m.slot}"
            seen_slot.add((who, m.slot))
            assert p.slots is None or m.slot in p.slots, f"{who} outside window at {m.slot}"
            count[who] = count.get(who, 0) + 1
        assert (m.enterprise, m.institution) not in pairs, f"pair met twice: {m}"
        pairs.add((m.enterprise, m.institution))
        assert table_of.setdefault(m.institution, m.table) == m.table, "institution moved table"
        assert owner.setdefault(m.table, m.institution) == m.institution, "table shared"
    for who, n in count.items():
        p = ents.get(who) or insts[who]
        assert p.max_meetings is None or n <= p.max_meetings, f"{who} over cap"
    got = {(m.enterprise, m.institution, m.slot, m.table) for m in tt.meetings}
    for lk in event.locked:
        assert (lk.enterprise, lk.institution, lk.slot, lk.table) in got, f"lock lost: {lk}"
    for inst, t in table_of.items():
        assert tt.tables[inst] == t
    requested = {(r.enterprise, r.institution) for r in event.requests}
    assert tt.requested_total == len(requested)
    assert tt.requested_scheduled == len(requested & pairs)
    assert tt.objective.requested == tt.requested_scheduled
    if tt.bound is not None:
        assert tuple(tt.objective) <= tuple(tt.bound), (tt.objective, tt.bound)
        assert (tt.status == "optimal") == (tt.objective == tt.bound)


@pytest.fixture(scope="session")
def feasible():
    """The feasibility checker, as a fixture so tests need no package imports."""
    return check_feasible
