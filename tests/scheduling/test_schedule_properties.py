"""Property tests on small random events: feasibility and the max-flow optimum of criterion 1."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matchmaker.scheduling import (
    Event,
    Participant,
    ProposedPair,
    Request,
    greedy_schedule,
    max_b_matching,
    schedule,
)


@st.composite
def events(draw, windows: bool):
    slots = draw(st.integers(1, 5))
    n_e = draw(st.integers(1, 6))
    n_i = draw(st.integers(1, 4))

    def participant(prefix, k):
        win = None
        if windows and draw(st.booleans()):
            win = draw(st.frozensets(st.integers(0, slots - 1), min_size=1))
        cap = draw(st.one_of(st.none(), st.integers(0, slots)))
        return Participant(f"{prefix}{k}", win, cap)

    ents = [participant("E", k) for k in range(n_e)]
    insts = [participant("I", k) for k in range(n_i)]
    all_pairs = [(e.id, i.id) for e in ents for i in insts]
    chosen = draw(st.lists(st.sampled_from(all_pairs), max_size=14))
    reqs = [Request(e, i, draw(st.sampled_from(["enterprise", "institution"])),
                    draw(st.booleans()), draw(st.booleans())) for e, i in chosen]
    props = [ProposedPair(e, i, draw(st.floats(0, 1))) for e, i in
             draw(st.lists(st.sampled_from(all_pairs), max_size=4))]
    tables = draw(st.integers(1, n_i)) if windows else n_i
    return Event(slots, tables, ents, insts, reqs, props)


def _flow_optimum(ev: Event) -> int:
    ents = {p.id: k for k, p in enumerate(ev.enterprises)}
    insts = {p.id: k for k, p in enumerate(ev.institutions)}

    def cap(p):
        return ev.slots if p.max_meetings is None else min(ev.slots, p.max_meetings)

    edges = sorted({(ents[r.enterprise], insts[r.institution]) for r in ev.requests})
    return len(max_b_matching([cap(p) for p in ev.enterprises],
                              [cap(p) for p in ev.institutions], edges))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(windows=False))
def test_without_windows_requested_meets_the_max_flow_optimum(feasible, ev):
    tt = schedule(ev, time_limit=5)
    feasible(ev, tt)
    assert tt.requested_scheduled == _flow_optimum(ev)
    assert tt.bound.requested == tt.requested_scheduled
    greedy = greedy_schedule(ev)
    feasible(ev, greedy)
    assert greedy.requested_scheduled <= tt.requested_scheduled


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(windows=True))
def test_with_windows_and_tables_timetable_is_feasible_and_bounded(feasible, ev):
    tt = schedule(ev, time_limit=5)
    feasible(ev, tt)
    assert tt.requested_scheduled <= _flow_optimum(ev)
    greedy = greedy_schedule(ev)
    feasible(ev, greedy)
    if tuple(tt.objective)[:3] == tuple(tt.bound)[:3]:
        # Criteria 1-3 are proven optimal, so greedy cannot beat them.
        assert tuple(greedy.objective)[:3] <= tuple(tt.objective)[:3]


def test_mid_size_event_with_windows_reaches_the_flow_bound(feasible):
    # Large enough for the fixed-pair gap stage; deterministic instance.
    import random

    rng = random.Random(3)
    ents = [Participant(f"E{k}", frozenset(range(6)) if k % 5 == 0 else None) for k in range(80)]
    insts = [Participant(f"I{k}") for k in range(12)]
    pairs = set()
    while len(pairs) < 400:
        pairs.add((f"E{rng.randrange(80)}", f"I{min(rng.randrange(12), rng.randrange(12))}"))
    reqs = [Request(e, i, mutual=rng.random() < 0.2, accepted=rng.random() < 0.3)
            for e, i in sorted(pairs)]
    ev = Event(12, 12, ents, insts, reqs)
    tt = schedule(ev, time_limit=3)
    feasible(ev, tt)
    assert tt.stats["stage_b_mode"] == "fixed pairs"
    assert tt.requested_scheduled == tt.bound.requested
    assert tt.objective.preferred == tt.bound.preferred
    greedy = greedy_schedule(ev)
    assert greedy.requested_scheduled <= tt.requested_scheduled
    assert greedy.objective.gaps >= tt.objective.gaps
