"""First-come greedy baseline: requests in given order, each at the first free common slot."""

from __future__ import annotations

import time

from .model import HEURISTIC, Event, Timetable
from .prepare import prepare
from .result import build_timetable


def greedy_schedule(event: Event) -> Timetable:
    """Schedule requests in their given order, then proposals, each at the earliest free slot.

    Locked meetings are placed first. An institution takes a table at its
    first meeting while tables remain. This is what organisers do by hand and
    serves as the benchmark baseline; it gives no bound.
    """
    t0 = time.perf_counter()
    prep = prepare(event)
    index = {pair: k for k, pair in enumerate(prep.candidates)}
    e_of = {x: k for k, x in enumerate(prep.ent_ids)}
    i_of = {x: k for k, x in enumerate(prep.inst_ids)}
    order: list[int] = []
    seen: set[int] = set()
    for item in list(event.requests) + list(event.proposals):
        k = index.get((e_of[item.enterprise], i_of[item.institution]))
        if k is not None and k not in seen:
            seen.add(k)
            order.append(k)
    ent_busy = [set(b) for b in prep.ent_busy]
    inst_busy = [set(b) for b in prep.inst_busy]
    ent_left = list(prep.ent_cap)
    inst_left = list(prep.inst_cap)
    has_table = set(prep.locked_table)
    tables_left = prep.free_tables
    placed: list[tuple[int, int]] = []
    for k in order:
        e, i = prep.candidates[k]
        if ent_left[e] <= 0 or inst_left[i] <= 0:
            continue
        if i not in has_table and tables_left <= 0:
            continue
        for s in prep.allowed[k]:
            if s not in ent_busy[e] and s not in inst_busy[i]:
                placed.append((k, s))
                ent_busy[e].add(s)
                inst_busy[i].add(s)
                ent_left[e] -= 1
                inst_left[i] -= 1
                if i not in has_table:
                    has_table.add(i)
                    tables_left -= 1
                break
    return build_timetable(prep, placed, HEURISTIC, None,
                           {"wall_time": time.perf_counter() - t0})
