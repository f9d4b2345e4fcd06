"""Lexicographic timetable optimiser: flow bound and hint, then two CP-SAT stages."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .colouring import list_edge_colouring
from .flow import max_b_matching, max_weight_b_matching
from .model import FEASIBLE, Event, Objective, Timetable
from .prepare import Prepared, prepare
from .result import build_timetable

#: Above this many (pair, slot) variables the gap stage keeps the chosen pairs fixed.
FULL_GAP_MODEL_VARS = 4000


@dataclass
class _Weights:
    """Integer weights that make one linear objective order solutions like criteria 1-3."""

    w1: int  # per requested pair
    w2: int  # per unit of mutual + accepted
    per_candidate: list[int]

    def decode(self, value: int) -> tuple[int, int, int]:
        """Split a weighted value back into (requested, preferred, score units)."""
        c1, rest = divmod(value, self.w1)
        c2, c3 = divmod(rest, self.w2)
        return c1, c2, c3


def _weights(prep: Prepared) -> _Weights:
    infos = [prep.pairs[c] for c in prep.candidates]
    # Each level's weight exceeds the largest possible total of all lower
    # levels, so the weighted optimum is the lexicographic optimum.
    w2 = sum(p.score_units for p in infos) + 1
    w1 = w2 * (sum(p.preferred for p in infos if p.requested) + 1)
    per = [(w1 + w2 * p.preferred) if p.requested else p.score_units for p in infos]
    return _Weights(w1, w2, per)


def _locked_contribution(prep: Prepared) -> tuple[int, int, int]:
    c1 = c2 = c3 = 0
    for key in prep.locked_pairs:
        info = prep.pairs.get(key)
        if info is None:
            continue
        if info.requested:
            c1 += 1
            c2 += info.preferred
        else:
            c3 += info.score_units
    return c1, c2, c3


def _relaxed_caps(prep: Prepared) -> tuple[list[int], list[int]]:
    # Windows and locks shrink how many slots are usable at all; the flow
    # ignores which slots, so this is a relaxation (hence an upper bound).
    ent = [min(c, len(w - b)) for c, w, b in zip(prep.ent_cap, prep.ent_window, prep.ent_busy, strict=False)]
    inst = [min(c, len(w - b)) for c, w, b in zip(prep.inst_cap, prep.inst_window, prep.inst_busy, strict=False)]
    return ent, inst


def requested_upper_bound(event: Event) -> int:
    """Maximum number of requested meetings by max-flow, ignoring which slot and table.

    Exact (the optimum of criterion 1) when there are no windows, no locked
    meetings and tables are not scarce; an upper bound otherwise.
    """
    prep = prepare(event)
    ent_cap, inst_cap = _relaxed_caps(prep)
    req = [c for c in prep.candidates if prep.pairs[c].requested]
    return len(max_b_matching(ent_cap, inst_cap, req)) + _locked_contribution(prep)[0]


def _hint(prep: Prepared, selected: list[int], weights: list[int]) -> list[tuple[int, int]]:
    """Feasible placements from a flow selection: König colouring, then repair and greedy fill."""
    S = prep.event.slots
    chosen = list(selected)
    if prep.tables_limit():
        load: dict[int, int] = {}
        for k in chosen:
            i = prep.candidates[k][1]
            if i not in prep.locked_table:
                load[i] = load.get(i, 0) + weights[k]
        keep = set(sorted(load, key=lambda i: -load[i])[: max(prep.free_tables, 0)])
        keep |= set(prep.locked_table)
        chosen = [k for k in chosen if prep.candidates[k][1] in keep]
    else:
        keep = None
    edges = [prep.candidates[k] for k in chosen]
    # With full windows this is exactly König's alternating-path colouring and
    # always succeeds; windows make it a heuristic that rarely leaves edges.
    colours = list_edge_colouring(len(prep.ent_ids), len(prep.inst_ids), edges,
                                  [prep.allowed[k] for k in chosen], S)
    ent_busy = [set(b) for b in prep.ent_busy]
    inst_busy = [set(b) for b in prep.inst_busy]
    ent_left = list(prep.ent_cap)
    inst_left = list(prep.inst_cap)
    placed: list[tuple[int, int]] = []
    done: set[int] = set()

    def put(k: int, s: int) -> None:
        e, i = prep.candidates[k]
        placed.append((k, s))
        done.add(k)
        ent_busy[e].add(s)
        inst_busy[i].add(s)
        ent_left[e] -= 1
        inst_left[i] -= 1

    allowed_sets = [set(a) for a in prep.allowed]
    for k, s in zip(chosen, colours, strict=False):
        # A proper colouring never clashes with itself; only windows and
        # locks (absent from the flow) can invalidate a colour.
        if s >= 0 and s in allowed_sets[k]:
            put(k, s)
    used_inst = {prep.candidates[k][1] for k, _ in placed} | set(prep.locked_table)
    order = sorted(range(len(prep.candidates)), key=lambda k: -weights[k])
    for k in order:
        if k in done or weights[k] <= 0:
            continue
        e, i = prep.candidates[k]
        if ent_left[e] <= 0 or inst_left[i] <= 0:
            continue
        if (keep is not None and i not in used_inst
                and len(used_inst - set(prep.locked_table)) >= prep.free_tables):
            continue
        for s in prep.allowed[k]:
            if s not in ent_busy[e] and s not in inst_busy[i]:
                put(k, s)
                used_inst.add(i)
                break
    return placed


class _Model:
    """CP-SAT model: x[k, s] = candidate k meets in slot s."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        m = self.m = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        S = prep.event.slots
        ent_slot: dict[tuple[int, int], list] = {}
        inst_slot: dict[tuple[int, int], list] = {}
        ent_all: dict[int, list] = {}
        inst_all: dict[int, list] = {}
        self.z: list = []
        for k, (e, i) in enumerate(prep.candidates):
            row = []
            for s in prep.allowed[k]:
                v = m.new_bool_var(f"x{k}_{s}")
                self.x[k, s] = v
                row.append(v)
                ent_slot.setdefault((e, s), []).append(v)
                inst_slot.setdefault((i, s), []).append(v)
            m.add_at_most_one(row)
            z = sum(row)
            self.z.append(z)
            ent_all.setdefault(e, []).extend(row)
            inst_all.setdefault(i, []).extend(row)
        for group in list(ent_slot.values()) + list(inst_slot.values()):
            if len(group) > 1:
                m.add_at_most_one(group)
        for e, vs in ent_all.items():
            if prep.ent_cap[e] < len(vs):
                m.add(sum(vs) <= prep.ent_cap[e])
        for i, vs in inst_all.items():
            if prep.inst_cap[i] < len(vs):
                m.add(sum(vs) <= prep.inst_cap[i])
        self.y: dict[int, cp_model.IntVar] = {}
        if prep.tables_limit():
            for i in sorted(prep.candidate_institutions()):
                self.y[i] = m.new_bool_var(f"y{i}")
                for v in inst_all[i]:
                    m.add_implication(v, self.y[i])
            m.add(sum(self.y.values()) <= prep.free_tables)
        self.occ: dict[tuple[str, int], dict[int, object]] = {}
        for (e, s), vs in ent_slot.items():
            self.occ.setdefault(("e", e), {})[s] = sum(vs)
        for (i, s), vs in inst_slot.items():
            self.occ.setdefault(("i", i), {})[s] = sum(vs)
        self.S = S
        self.gap_vars: list = []
        self.aux: list[tuple[str, int, str, object]] = []

    def add_gaps(self) -> None:
        """Add gap indicators: g[q, s] >= started-before(s) + continues-after(s) - 1 - occupied(s)."""
        prep, m, S = self.prep, self.m, self.S
        parts = [("e", e) for e in range(len(prep.ent_ids))] + [("i", i) for i in range(len(prep.inst_ids))]
        for q in parts:
            kind, idx = q
            busy = prep.ent_busy[idx] if kind == "e" else prep.inst_busy[idx]
            window = prep.ent_window[idx] if kind == "e" else prep.inst_window[idx]
            occ_var = self.occ.get(q, {})
            if len(occ_var) + len(busy) < 2:
                continue
            occ = [1 if s in busy else occ_var.get(s, 0) for s in range(S)]
            active = [s for s in range(S) if not (isinstance(occ[s], int) and occ[s] == 0)]
            lo, hi = active[0], active[-1]
            # Only slots strictly between the first and last possible
            # meeting can be gaps, so the chains span [lo, hi].
            before: dict[int, object] = {}
            after: dict[int, object] = {}
            for s in range(lo, hi + 1):
                b = m.new_bool_var("")
                if s > lo:
                    m.add_implication(before[s - 1], b)
                if not isinstance(occ[s], int):
                    m.add(b >= occ[s])
                elif occ[s] == 1:
                    m.add(b == 1)
                before[s] = b
                self.aux.append((kind, idx, "b", (s, b)))
            for s in range(hi, lo - 1, -1):
                a = m.new_bool_var("")
                if s < hi:
                    m.add_implication(after[s + 1], a)
                if not isinstance(occ[s], int):
                    m.add(a >= occ[s])
                elif occ[s] == 1:
                    m.add(a == 1)
                after[s] = a
                self.aux.append((kind, idx, "a", (s, a)))
            for s in range(lo + 1, hi):
                if s not in window or (isinstance(occ[s], int) and occ[s] == 1):
                    continue
                g = m.new_bool_var("")
                m.add(g >= before[s - 1] + after[s + 1] - 1 - occ[s])
                self.gap_vars.append(g)
                self.aux.append((kind, idx, "g", (s, g)))

    def hint(self, placed: list[tuple[int, int]]) -> None:
        """Hint a complete solution (decision and auxiliary variables) from placements."""
        m, prep = self.m, self.prep
        m.clear_hints()
        on = set(placed)
        for key, v in self.x.items():
            m.add_hint(v, key in on)
        used_inst = {prep.candidates[k][1] for k, _ in placed}
        for i, v in self.y.items():
            m.add_hint(v, i in used_inst)
        if not self.aux:
            return
        slots: dict[tuple[str, int], set[int]] = {}
        for k, s in placed:
            e, i = prep.candidates[k]
            slots.setdefault(("e", e), set()).add(s)
            slots.setdefault(("i", i), set()).add(s)
        for e, busy in enumerate(prep.ent_busy):
            slots.setdefault(("e", e), set()).update(busy)
        for i, busy in enumerate(prep.inst_busy):
            slots.setdefault(("i", i), set()).update(busy)
        for kind, idx, what, (s, v) in self.aux:
            mine = slots.get((kind, idx), set())
            first = min(mine, default=self.S)
            last = max(mine, default=-1)
            if what == "b":
                m.add_hint(v, first <= s)
            elif what == "a":
                m.add_hint(v, last >= s)
            else:
                m.add_hint(v, first < s < last and s not in mine)

    def solve(self, time_limit: float, workers: int, seed: int):
        """Run CP-SAT; returns (status, placements or None, objective value, bound)."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, time_limit)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        status = solver.solve(self.m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return status, None, None, None
        placed = [key for key, v in self.x.items() if solver.boolean_value(v)]
        return status, placed, solver.objective_value, solver.best_objective_bound


def _value(placed: list[tuple[int, int]], weights: list[int]) -> int:
    return sum(weights[k] for k, _ in placed)


def schedule(event: Event, time_limit: float = 8.0, workers: int = 2, seed: int = 0) -> Timetable:
    """Optimise the 1:1 meeting timetable of ``event`` lexicographically.

    Criteria, in order: requested meetings, their mutual + accepted flags,
    proposal scores, then fewest idle gaps (see ``Objective``). Stage 0 solves
    the slot-free relaxation exactly as a maximum-weight b-matching (min-cost
    flow), which is a proven bound and, coloured by König's theorem, a hint.
    Stage A maximises criteria 1-3 with CP-SAT unless the hint already meets
    the flow bound; stage B minimises gaps while keeping criteria 1-3. The
    result carries ``bound`` (a lexicographic upper bound) and the status.
    ``time_limit`` (seconds) is shared by the CP-SAT stages.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    prep = prepare(event)
    w = _weights(prep)
    base = _locked_contribution(prep)
    ent_cap, inst_cap = _relaxed_caps(prep)
    req_idx = [k for k, c in enumerate(prep.candidates) if prep.pairs[c].requested]
    ub1 = len(max_b_matching(ent_cap, inst_cap, [prep.candidates[k] for k in req_idx]))
    selected = max_weight_b_matching(ent_cap, inst_cap, prep.candidates, w.per_candidate)
    flow_bound = _value([(k, 0) for k in selected], w.per_candidate)
    placed = _hint(prep, selected, w.per_candidate)
    hint_value = _value(placed, w.per_candidate)
    stats: dict = {"flow_requested_bound": ub1 + base[0], "candidates": len(prep.candidates),
                   "hint_value": w.decode(hint_value), "flow_time": time.perf_counter() - t0}
    weighted_bound = flow_bound
    model: _Model | None = None
    if hint_value < weighted_bound:
        model = _Model(prep)
        model.m.maximize(sum(wt * z for wt, z in zip(w.per_candidate, model.z, strict=False) if wt))
        model.hint(placed)
        budget = min(time_limit * 0.5, deadline - time.perf_counter())
        status, sol, _, bnd = model.solve(budget, workers, seed)
        stats["stage_a_status"] = status.name
        if sol is not None and _value(sol, w.per_candidate) >= hint_value:
            placed, hint_value = sol, _value(sol, w.per_candidate)
        if bnd is not None:
            weighted_bound = min(weighted_bound, math.floor(bnd + 1e-6))
    stats["stage_a_time"] = time.perf_counter() - t0
    proven = hint_value >= weighted_bound
    c = w.decode(hint_value)
    b = w.decode(weighted_bound)
    gap_lb = 0
    full = sum(len(a) for a in prep.allowed) <= FULL_GAP_MODEL_VARS
    stats["stage_b_mode"] = "all pairs" if full else "fixed pairs"
    if full:
        # Small event: keep the pair choice open so ties in criteria 1-3 can
        # be used to cut gaps, which makes the gap bound a true bound.
        model = model or _Model(prep)
        model.add_gaps()
        if model.gap_vars:
            if proven:
                infos = [prep.pairs[cand] for cand in prep.candidates]
                model.m.add(sum(z for z, p in zip(model.z, infos, strict=False) if p.requested) == c[0])
                model.m.add(sum(p.preferred * z for z, p in zip(model.z, infos, strict=False)
                                if p.requested and p.preferred) == c[1])
                model.m.add(sum(p.score_units * z for z, p in zip(model.z, infos, strict=False)
                                if p.score_units) == c[2])
            else:
                model.m.add(sum(wt * z for wt, z in zip(w.per_candidate, model.z, strict=False) if wt)
                            >= hint_value)
            model.m.minimize(sum(model.gap_vars))
            model.hint(placed)
            status, sol, _, bnd = model.solve(deadline - time.perf_counter(), workers, seed)
            stats["stage_b_status"] = status.name
            if sol is not None and _value(sol, w.per_candidate) >= hint_value:
                placed, hint_value = sol, _value(sol, w.per_candidate)
                c = w.decode(hint_value)
                if proven:
                    gap_lb = max(0, math.ceil(bnd - 1e-6))
    else:
        # Large event: re-slot the chosen pairs only. This is far easier for
        # CP-SAT, but its gap bound holds for this pair set only, so the
        # reported gap bound stays the trivial 0.
        fixed = copy.copy(prep)
        keys = [k for k, _ in placed]
        fixed.candidates = [prep.candidates[k] for k in keys]
        fixed.allowed = [prep.allowed[k] for k in keys]
        sub = _Model(fixed)
        sub.add_gaps()
        if sub.gap_vars:
            for z in sub.z:
                sub.m.add(z == 1)
            sub.m.minimize(sum(sub.gap_vars))
            sub.hint([(j, s) for j, (_, s) in enumerate(placed)])
            status, sol, _, _ = sub.solve(deadline - time.perf_counter(), workers, seed)
            stats["stage_b_status"] = status.name
            if sol is not None and len(sol) == len(keys):
                placed = [(keys[j], s) for j, s in sol]
    if proven:
        bound = Objective(c[0] + base[0], c[1] + base[1], c[2] + base[2], -gap_lb)
    else:
        bound = Objective(b[0] + base[0], b[1] + base[1], b[2] + base[2], 0)
    stats["wall_time"] = time.perf_counter() - t0
    return build_timetable(prep, placed, FEASIBLE, bound, stats)
