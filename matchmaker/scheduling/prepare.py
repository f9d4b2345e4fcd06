"""Validation of an Event and its reduction to indexed candidate pairs and residual capacities."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import SCORE_SCALE, Event, Meeting, Objective


@dataclass
class PairInfo:
    """Merged view of one (enterprise, institution) pair."""

    e: int
    i: int
    requested: bool
    preferred: int  # mutual + accepted, only meaningful when requested
    score: float  # proposal score (0.0 if none)

    @property
    def score_units(self) -> int:
        """Criterion-3 contribution in thousandths (requested pairs contribute 0)."""
        return 0 if self.requested else round(self.score * SCORE_SCALE)


@dataclass
class Prepared:
    """Indexed problem after removing what the locked meetings already consume."""

    event: Event
    ent_ids: list[str]
    inst_ids: list[str]
    ent_window: list[frozenset[int]]
    inst_window: list[frozenset[int]]
    ent_cap: list[int]  # residual caps after locks
    inst_cap: list[int]
    ent_busy: list[set[int]]  # slots taken by locked meetings
    inst_busy: list[set[int]]
    locked_table: dict[int, int]  # institution index -> table from locks
    pairs: dict[tuple[int, int], PairInfo]  # every requested/proposed pair
    locked_pairs: set[tuple[int, int]]
    candidates: list[tuple[int, int]] = field(default_factory=list)  # schedulable, not locked
    allowed: list[list[int]] = field(default_factory=list)  # sorted allowed slots per candidate

    @property
    def free_tables(self) -> int:
        """Tables not taken by institutions that have locked meetings."""
        return self.event.tables - len(set(self.locked_table.values()))

    def candidate_institutions(self) -> set[int]:
        """Institutions without a lock that have at least one candidate pair."""
        return {i for _, i in self.candidates if i not in self.locked_table}

    def tables_limit(self) -> bool:
        """True when more institutions want a table than there are free tables."""
        return len(self.candidate_institutions()) > self.free_tables


def merged_pairs(event: Event) -> dict[tuple[str, str], tuple[bool, int, float]]:
    """Map (enterprise, institution) to (requested, mutual + accepted, proposal score).

    Requests for the same pair merge into one; a pair requested from both
    sides counts as mutual. A proposal's score is kept even for a requested
    pair but only unrequested pairs count in criterion 3.
    """
    directions: dict[tuple[str, str], set[str]] = {}
    flags: dict[tuple[str, str], list[bool]] = {}
    for r in event.requests:
        key = (r.enterprise, r.institution)
        directions.setdefault(key, set()).add(r.requested_by)
        f = flags.setdefault(key, [False, False])
        f[0] |= bool(r.mutual)
        f[1] |= bool(r.accepted)
    out: dict[tuple[str, str], tuple[bool, int, float]] = {}
    for key, dirs in directions.items():
        mutual = flags[key][0] or len(dirs) > 1
        out[key] = (True, int(mutual) + int(flags[key][1]), 0.0)
    for p in event.proposals:
        key = (p.enterprise, p.institution)
        req, pref, old = out.get(key, (False, 0, -1.0))
        out[key] = (req, pref, max(old, float(p.score)))
    return out


def prepare(event: Event) -> Prepared:
    """Validate ``event`` and index it; raises ValueError on inconsistent input."""
    S = event.slots
    if S < 0 or event.tables < 0:
        raise ValueError("slots and tables must be non-negative")
    ent_ids = [p.id for p in event.enterprises]
    inst_ids = [p.id for p in event.institutions]
    e_idx = {x: k for k, x in enumerate(ent_ids)}
    i_idx = {x: k for k, x in enumerate(inst_ids)}
    if len(e_idx) != len(ent_ids) or len(i_idx) != len(inst_ids):
        raise ValueError("duplicate participant id")
    all_slots = frozenset(range(S))

    def window(p) -> frozenset[int]:
        if p.slots is None:
            return all_slots
        bad = [s for s in p.slots if not 0 <= s < S]
        if bad:
            raise ValueError(f"{p.id}: slots {bad} outside 0..{S - 1}")
        return p.slots

    def cap(p) -> int:
        c = S if p.max_meetings is None else min(S, p.max_meetings)
        if c < 0:
            raise ValueError(f"{p.id}: negative max_meetings")
        return c

    ent_window = [window(p) for p in event.enterprises]
    inst_window = [window(p) for p in event.institutions]
    ent_cap = [cap(p) for p in event.enterprises]
    inst_cap = [cap(p) for p in event.institutions]

    def lookup(e: str, i: str) -> tuple[int, int]:
        if e not in e_idx:
            raise ValueError(f"unknown enterprise {e!r}")
        if i not in i_idx:
            raise ValueError(f"unknown institution {i!r}")
        return e_idx[e], i_idx[i]

    pairs: dict[tuple[int, int], PairInfo] = {}
    for (e_id, i_id), (req, pref, score) in merged_pairs(event).items():
        e, i = lookup(e_id, i_id)
        if not req and not 0.0 <= score <= 1.0:
            raise ValueError(f"proposal score {score} outside [0, 1]")
        pairs[(e, i)] = PairInfo(e, i, req, pref, max(score, 0.0))

    ent_busy: list[set[int]] = [set() for _ in ent_ids]
    inst_busy: list[set[int]] = [set() for _ in inst_ids]
    locked_table: dict[int, int] = {}
    table_owner: dict[int, int] = {}
    locked_pairs: set[tuple[int, int]] = set()
    for lk in event.locked:
        e, i = lookup(lk.enterprise, lk.institution)
        if not 0 <= lk.slot < S:
            raise ValueError(f"locked meeting {lk}: slot outside 0..{S - 1}")
        if not 0 <= lk.table < event.tables:
            raise ValueError(f"locked meeting {lk}: table outside 0..{event.tables - 1}")
        if lk.slot not in ent_window[e] or lk.slot not in inst_window[i]:
            raise ValueError(f"locked meeting {lk}: outside a participant's window")
        if (e, i) in locked_pairs:
            raise ValueError(f"locked meeting {lk}: pair locked twice")
        if lk.slot in ent_busy[e] or lk.slot in inst_busy[i]:
            raise ValueError(f"locked meeting {lk}: participant double-booked")
        if locked_table.setdefault(i, lk.table) != lk.table:
            raise ValueError(f"locked meeting {lk}: institution at two tables")
        if table_owner.setdefault(lk.table, i) != i:
            raise ValueError(f"locked meeting {lk}: table shared by two institutions")
        ent_busy[e].add(lk.slot)
        inst_busy[i].add(lk.slot)
        locked_pairs.add((e, i))
    for k, busy in enumerate(ent_busy):
        ent_cap[k] -= len(busy)
        if ent_cap[k] < 0:
            raise ValueError(f"{ent_ids[k]}: more locked meetings than max_meetings")
    for k, busy in enumerate(inst_busy):
        inst_cap[k] -= len(busy)
        if inst_cap[k] < 0:
            raise ValueError(f"{inst_ids[k]}: more locked meetings than max_meetings")

    prep = Prepared(event, ent_ids, inst_ids, ent_window, inst_window, ent_cap, inst_cap,
                    ent_busy, inst_busy, locked_table, pairs, locked_pairs)
    # Tables are interchangeable, so only the count of free tables matters;
    # with no free table, unlocked institutions cannot meet at all.
    no_table = prep.free_tables <= 0
    for (e, i) in pairs:
        if (e, i) in locked_pairs or ent_cap[e] <= 0 or inst_cap[i] <= 0:
            continue
        if no_table and i not in locked_table:
            continue
        slots = (ent_window[e] & inst_window[i]) - ent_busy[e] - inst_busy[i]
        if slots:
            prep.candidates.append((e, i))
            prep.allowed.append(sorted(slots))
    return prep


def count_gaps(slots_by_participant: dict[object, list[int]],
               windows: dict[object, frozenset[int]]) -> int:
    """Idle slots inside each participant's window strictly between its first and last meeting."""
    total = 0
    for key, slots in slots_by_participant.items():
        if len(slots) < 2:
            continue
        lo, hi = min(slots), max(slots)
        taken = set(slots)
        win = windows[key]
        total += sum(1 for s in range(lo + 1, hi) if s not in taken and s in win)
    return total


def evaluate(event: Event, meetings: list[Meeting]) -> Objective:
    """Objective tuple of a list of meetings (locked ones included) for ``event``."""
    info = merged_pairs(event)
    requested = preferred = score = 0
    seen: set[tuple[str, str]] = set()
    by_part: dict[object, list[int]] = {}
    for m in meetings:
        key = (m.enterprise, m.institution)
        by_part.setdefault(("e", m.enterprise), []).append(m.slot)
        by_part.setdefault(("i", m.institution), []).append(m.slot)
        if key in seen:
            continue
        seen.add(key)
        req, pref, sc = info.get(key, (False, 0, 0.0))
        if req:
            requested += 1
            preferred += pref
        else:
            score += round(max(sc, 0.0) * SCORE_SCALE)
    all_slots = frozenset(range(event.slots))
    windows: dict[object, frozenset[int]] = {}
    for p in event.enterprises:
        windows[("e", p.id)] = all_slots if p.slots is None else p.slots
    for p in event.institutions:
        windows[("i", p.id)] = all_slots if p.slots is None else p.slots
    gaps = count_gaps(by_part, windows)
    return Objective(requested, preferred, score, -gaps)
