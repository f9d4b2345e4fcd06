"""Benchmark of the meeting timetable optimiser against the first-come greedy baseline."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from matchmaker.scheduling import (
    Event,
    LockedMeeting,
    Participant,
    ProposedPair,
    Request,
    greedy_schedule,
    schedule,
)


def generate(seed: int = 20240601, n_ent: int = 300, n_inst: int = 60, slots: int = 16,
             n_requests: int = 1500, tables: int = 60) -> Event:
    """A reproducible event with skewed institution popularity, windows, caps and a few locks."""
    rng = random.Random(seed)
    half = slots // 2
    morning, afternoon = frozenset(range(half)), frozenset(range(half, slots))
    enterprises = []
    for k in range(n_ent):
        r = rng.random()
        # Roughly a fifth of enterprises only come for half a day.
        win = morning if r < 0.1 else afternoon if r < 0.2 else None
        cap = rng.choice([3, 4, 5, 6]) if rng.random() < 0.3 else None
        enterprises.append(Participant(f"E{k:03d}", win, cap))
    institutions = []
    for k in range(n_inst):
        win = None
        if rng.random() < 0.15:
            # Some institution desks leave for one hour-long block.
            start = rng.randrange(slots - 2)
            win = frozenset(range(slots)) - {start, start + 1}
        institutions.append(Participant(f"I{k:02d}", win))
    # Zipf-like popularity: big banks attract many more requests.
    popularity = [1.0 / (k + 1) ** 0.8 for k in range(n_inst)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_requests:
        e = rng.randrange(n_ent)
        i = rng.choices(range(n_inst), weights=popularity)[0]
        pairs.add((e, i))
    requests = []
    for e, i in sorted(pairs, key=lambda p: rng.random()):
        by = "institution" if rng.random() < 0.15 else "enterprise"
        mutual = rng.random() < 0.15
        accepted = rng.random() < 0.35
        requests.append(Request(f"E{e:03d}", f"I{i:02d}", by, mutual, accepted))
    count = [0] * n_ent
    for e, _ in pairs:
        count[e] += 1
    proposals = []
    for e in range(n_ent):
        if count[e] <= 2:
            for i in rng.sample(range(n_inst), 4):
                if (e, i) not in pairs:
                    proposals.append(ProposedPair(f"E{e:03d}", f"I{i:02d}", round(rng.random(), 3)))
    locked = []
    used_e: set[int] = set()
    for k in range(8):
        e = rng.randrange(n_ent)
        if e in used_e or enterprises[e].slots is not None:
            continue
        used_e.add(e)
        i = n_inst - 1 - k  # unpopular desks, so locks do not clash
        if institutions[i].slots is not None:
            continue
        locked.append(LockedMeeting(f"E{e:03d}", f"I{i:02d}", rng.randrange(slots), i))
    return Event(slots, tables, enterprises, institutions, requests, proposals, locked)


def _ratio(a: float, b: float) -> float:
    return 1.0 if b == 0 else a / b


def run(time_limit: float, seed: int) -> dict:
    """Run greedy and optimiser on the benchmark instance and collect the figures."""
    event = generate()
    t0 = time.perf_counter()
    greedy = greedy_schedule(event)
    greedy_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    best = schedule(event, time_limit=time_limit, workers=2, seed=seed)
    opt_time = time.perf_counter() - t0
    b = best.bound
    out = {
        "instance": {"enterprises": len(event.enterprises), "institutions": len(event.institutions),
                     "slots": event.slots, "tables": event.tables,
                     "requests": best.requested_total, "proposals": len(event.proposals),
                     "locked": len(event.locked)},
        "bound": b._asdict(),
        "optimiser": {
            "status": best.status, "wall_time_s": round(opt_time, 3),
            "meetings": len(best.meetings), "objective": best.objective._asdict(),
            "requested_ratio": _ratio(best.requested_scheduled, b.requested),
            "preferred_ratio": _ratio(best.objective.preferred, b.preferred),
            "score_ratio": _ratio(best.objective.proposal_score, b.proposal_score),
            "gaps": best.objective.gaps, "gaps_lower_bound": b.gaps,
            "stats": {k: v for k, v in best.stats.items()},
        },
        "greedy": {
            "wall_time_s": round(greedy_time, 3), "meetings": len(greedy.meetings),
            "objective": greedy.objective._asdict(),
            "requested_ratio": _ratio(greedy.requested_scheduled, b.requested),
            "preferred_ratio": _ratio(greedy.objective.preferred, b.preferred),
            "score_ratio": _ratio(greedy.objective.proposal_score, b.proposal_score),
            "gaps": greedy.objective.gaps,
        },
    }
    return out


def main() -> None:
    """Print the benchmark table (or JSON with --json)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--time-limit", type=float, default=8.0, help="CP-SAT time budget (s)")
    ap.add_argument("--seed", type=int, default=0, help="CP-SAT random seed")
    args = ap.parse_args()
    res = run(args.time_limit, args.seed)
    if args.json:
        print(json.dumps(res, indent=2, default=str))
        return
    inst, o, g, b = res["instance"], res["optimiser"], res["greedy"], res["bound"]
    print("instance: {enterprises} enterprises, {institutions} institutions, {slots} slots, "
          "{tables} tables, {requests} requested pairs, {proposals} proposals, "
          "{locked} locked".format(**inst))
    print(f"{'':28}{'optimiser':>14}{'greedy':>14}{'bound':>14}")
    rows = [
        ("wall time (s)", o["wall_time_s"], g["wall_time_s"], ""),
        ("meetings", o["meetings"], g["meetings"], ""),
        ("1 requested scheduled", o["objective"]["requested"], g["objective"]["requested"],
         b["requested"]),
        ("  ratio to bound", f"{o['requested_ratio']:.2%}", f"{g['requested_ratio']:.2%}", ""),
        ("2 mutual+accepted", o["objective"]["preferred"], g["objective"]["preferred"],
         b["preferred"]),
        ("  ratio to bound", f"{o['preferred_ratio']:.2%}", f"{g['preferred_ratio']:.2%}", ""),
        ("3 proposal score (x1000)", o["objective"]["proposal_score"],
         g["objective"]["proposal_score"], b["proposal_score"]),
        ("  ratio to bound", f"{o['score_ratio']:.2%}", f"{g['score_ratio']:.2%}", ""),
        ("4 idle gaps (lower bound)", o["gaps"], g["gaps"], o["gaps_lower_bound"]),
    ]
    for name, a, c, d in rows:
        print(f"{name:28}{a!s:>14}{c!s:>14}{d!s:>14}")
    print(f"status: {o['status']}; criteria 1-3 proven optimal: "
          f"{o['objective']['requested'] == b['requested'] and o['objective']['preferred'] == b['preferred'] and o['objective']['proposal_score'] == b['proposal_score']}")
    print("note: the bound is lexicographic, so a lower criterion's ratio is only meaningful when "
          "all higher criteria reach their bound (greedy's score ratio > 100% comes from fewer "
          "requested meetings); the gap bound is the trivial 0 on events this large.")


if __name__ == "__main__":
    main()
