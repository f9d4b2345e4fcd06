"""Hand-built events whose optimum is known, solved by schedule() and the greedy baseline."""

from __future__ import annotations

import pytest

from matchmaker.scheduling import (
    Event,
    LockedMeeting,
    Participant,
    ProposedPair,
    Request,
    greedy_schedule,
    requested_upper_bound,
    schedule,
)


def _pairs(tt):
    return {(m.enterprise, m.institution) for m in tt.meetings}


def test_star_over_subscribed_institution_takes_the_most_preferred(feasible):
    # Five enterprises want the one bank but it only has three slots.
    reqs = [Request("E0", "B", mutual=True, accepted=True), Request("E1", "B", mutual=True),
            Request("E2", "B", accepted=True), Request("E3", "B"), Request("E4", "B")]
    ev = Event(3, 1, [f"E{k}" for k in range(5)], ["B"], reqs)
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_total == 5
    assert tt.requested_scheduled == 3 == requested_upper_bound(ev)
    assert _pairs(tt) == {("E0", "B"), ("E1", "B"), ("E2", "B")}
    assert tt.objective.preferred == 4
    assert tt.status == "optimal"


def test_greedy_fails_where_the_optimum_schedules_everything(feasible):
    ev = Event(2, 2, ["A", "B", "C"], ["X", "Y"],
               [Request("A", "X"), Request("B", "Y"), Request("C", "X"), Request("C", "Y")])
    greedy = greedy_schedule(ev)
    feasible(ev, greedy)
    assert greedy.requested_scheduled == 3
    assert greedy.status == "heuristic" and greedy.bound is None
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_scheduled == 4 == requested_upper_bound(ev)
    assert tt.status == "optimal"


def test_disjoint_windows_make_one_request_impossible(feasible):
    ev = Event(3, 2, [Participant("E0", {0}), "E1"], [Participant("I0", {1, 2}), "I1"],
               [Request("E0", "I0"), Request("E0", "I1"), Request("E1", "I0")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_total == 3
    assert tt.requested_scheduled == 2
    assert ("E0", "I0") not in _pairs(tt)
    assert tt.status == "optimal"


def test_window_forces_order_that_greedy_misses(feasible):
    # B is only there in slot 0, so X must meet B first and A later.
    ev = Event(2, 2, ["A", Participant("B", {0})], ["X", "Y"],
               [Request("A", "X"), Request("B", "X"), Request("A", "Y")])
    assert greedy_schedule(ev).requested_scheduled == 2
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_scheduled == 3
    assert {(m.enterprise, m.slot) for m in tt.meetings if m.institution == "X"} == {("B", 0), ("A", 1)}


def test_locked_meetings_are_kept_and_block_their_slot_and_table(feasible):
    lock = LockedMeeting("E0", "I1", 1, 2)
    ev = Event(2, 3, ["E0", "E1"], ["I0", "I1"],
               [Request("E0", "I0"), Request("E1", "I0"), Request("E1", "I1")], locked=[lock])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.tables["I1"] == 2 and tt.tables["I0"] != 2
    locked = [m for m in tt.meetings if m.locked]
    assert [(m.enterprise, m.institution, m.slot, m.table) for m in locked] == [("E0", "I1", 1, 2)]
    assert tt.requested_scheduled == 3
    # E0 is busy in slot 1, so its request must take slot 0 and E1 meets I0 in slot 1.
    assert {(m.enterprise, m.slot) for m in tt.meetings if m.institution == "I0"} == {("E0", 0), ("E1", 1)}


@pytest.mark.parametrize("bad", [
    LockedMeeting("E0", "I0", 5, 0),  # slot out of range
    LockedMeeting("E0", "I0", 0, 9),  # table out of range
    LockedMeeting("E9", "I0", 0, 0),  # unknown enterprise
])
def test_invalid_locks_are_rejected(bad):
    with pytest.raises(ValueError):
        schedule(Event(2, 1, ["E0"], ["I0"], locked=[bad]))


def test_conflicting_locks_are_rejected():
    locks = [LockedMeeting("E0", "I0", 0, 0), LockedMeeting("E1", "I1", 1, 0)]
    with pytest.raises(ValueError):
        schedule(Event(2, 2, ["E0", "E1"], ["I0", "I1"], locked=locks))


def test_mutual_beats_one_sided_when_the_enterprise_has_one_meeting(feasible):
    ev = Event(4, 3, [Participant("E0", max_meetings=1)], ["I0", "I1", "I2"],
               [Request("E0", "I0"), Request("E0", "I1", mutual=True), Request("E0", "I2")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert _pairs(tt) == {("E0", "I1")}
    assert tt.status == "optimal"


def test_requests_from_both_sides_are_one_mutual_meeting(feasible):
    ev = Event(4, 2, [Participant("E0", max_meetings=1)], ["I0", "I1"],
               [Request("E0", "I0"), Request("E0", "I1", requested_by="enterprise"),
                Request("E0", "I1", requested_by="institution")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_total == 2
    assert _pairs(tt) == {("E0", "I1")}
    assert tt.objective.preferred == 1


def test_proposals_only_fill_free_capacity_best_score_first(feasible):
    # I0 is full with requests; I1 has one slot for one of two proposals.
    ev = Event(2, 2, ["E0", "E1", "E2"], ["I0", Participant("I1", max_meetings=1)],
               [Request("E0", "I0"), Request("E1", "I0")],
               proposals=[ProposedPair("E2", "I0", 0.99), ProposedPair("E0", "I1", 0.3),
                          ProposedPair("E2", "I1", 0.8)])
    tt = schedule(ev)
    feasible(ev, tt)
    assert _pairs(tt) == {("E0", "I0"), ("E1", "I0"), ("E2", "I1")}
    assert tt.objective.proposal_score == 800
    assert [m.requested for m in tt.meetings if m.institution == "I1"] == [False]
    assert tt.status == "optimal"


def test_scarce_tables_go_to_institutions_with_most_requests(feasible):
    reqs = [Request("E0", "I0"), Request("E1", "I0"), Request("E2", "I1"),
            Request("E0", "I2"), Request("E1", "I2"), Request("E2", "I2")]
    ev = Event(4, 2, ["E0", "E1", "E2"], ["I0", "I1", "I2"], reqs)
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_scheduled == 5
    assert set(tt.tables) == {"I0", "I2"}
    assert tt.status == "optimal"
    greedy = greedy_schedule(ev)
    feasible(ev, greedy)


def test_gaps_are_removed_when_possible(feasible):
    # E0 meets three banks in four slots; I0 is there only early and E1 must
    # take slot 0 with it, so E0 meets I0 in slot 1 and the rest next to it.
    ev = Event(4, 3, ["E0", Participant("E1", {0})], [Participant("I0", {0, 1}), "I1", "I2"],
               [Request("E0", "I0"), Request("E0", "I1"), Request("E0", "I2"), Request("E1", "I0")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.requested_scheduled == 4
    e0 = sorted(m.slot for m in tt.meetings if m.enterprise == "E0")
    assert e0 in ([0, 1, 2], [1, 2, 3])
    assert {(m.enterprise, m.slot) for m in tt.meetings if m.institution == "I0"} == {("E1", 0), ("E0", 1)}
    assert tt.objective.gaps == 0
    assert tt.status == "optimal"


def test_unavoidable_gap_is_proven_optimal(feasible):
    ev = Event(3, 2, ["E0"], [Participant("I0", {0}), Participant("I1", {2})],
               [Request("E0", "I0"), Request("E0", "I1")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.objective.gaps == 1
    assert tt.bound.gaps == 1
    assert tt.status == "optimal"


def test_slot_outside_a_window_is_not_a_gap(feasible):
    ev = Event(3, 2, [Participant("E0", {0, 2})], ["I0", "I1"],
               [Request("E0", "I0"), Request("E0", "I1")])
    tt = schedule(ev)
    feasible(ev, tt)
    assert tt.objective.gaps == 0


def test_empty_event():
    tt = schedule(Event(3, 2, ["E0"], ["I0"]))
    assert tt.meetings == [] and tt.requested_total == 0 and tt.status == "optimal"
