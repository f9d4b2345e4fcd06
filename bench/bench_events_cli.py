"""Benchmark of `flask events schedule EVENT --json` end to end on an imported 300 × 60 × 16 event."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.organizations import uscc_check_char  # noqa: E402

DISTRICTS = ["市中区", "薛城区", "峄城区", "台儿庄区", "山亭区", "滕州市", "枣庄高新区"]
CLUSTERS = ["高端装备", "高端化工", "新型建材", "锂电", "光纤和新材料", "大数据", "医药健康", "机械机床", "食品饮料"]


def generate(seed: int, n_ent: int, n_inst: int, slots: int, n_requests: int, tables: int) -> list[dict]:
    """JSON Lines objects: organisations, one event, registrations with windows, skewed requests."""
    rng = random.Random(seed)
    lines: list[dict] = [{"type": "organization", "ref": "bench-bureau", "kind": "bureau", "name": "市工信局",
                          "district": None}]
    kinds = ["bank"] * 40 + ["fund"] * 12 + ["guarantor"] * 8
    for k in range(n_inst):
        lines.append({"type": "organization", "ref": f"inst-{k:02d}", "kind": kinds[k % len(kinds)],
                      "name": f"金融机构{k:02d}", "district": rng.choice(DISTRICTS + [None])})
    for k in range(n_ent):
        body = f"91370400{k:09d}"
        lines.append({"type": "organization", "ref": f"ent-{k:04d}", "kind": "enterprise", "name": f"企业{k:04d}",
                      "uscc": body + uscc_check_char(body), "district": rng.choice(DISTRICTS),
                      "industry": rng.choice(CLUSTERS), "size": rng.choice(["medium", "small", "small", "micro"])})
    lines.append({"type": "event", "ref": "ev-bench", "title": "基准测试对接会", "kind": "bank_enterprise_meeting",
                  "date": "2026-12-10", "district": None, "slots": slots, "slot_minutes": 15, "tables": tables})
    half = slots // 2
    for k in range(n_ent):
        line = {"type": "registration", "event": "ev-bench", "org": f"ent-{k:04d}"}
        r = rng.random()
        # A fifth of the enterprises come for half a day only.
        if r < 0.1:
            line["available_slots"] = list(range(half))
        elif r < 0.2:
            line["available_slots"] = list(range(half, slots))
        if rng.random() < 0.3:
            line["max_meetings"] = rng.choice([3, 4, 5, 6])
        lines.append(line)
    for k in range(n_inst):
        line = {"type": "registration", "event": "ev-bench", "org": f"inst-{k:02d}"}
        if rng.random() < 0.15:
            gone = rng.randrange(slots - 2)
            line["available_slots"] = [s for s in range(slots) if s not in (gone, gone + 1)]
        lines.append(line)
    popularity = [1.0 / (k + 1) ** 0.8 for k in range(n_inst)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_requests:
        pairs.add((rng.randrange(n_ent), rng.choices(range(n_inst), weights=popularity)[0]))
    for e, i in sorted(pairs):
        src, dst = f"ent-{e:04d}", f"inst-{i:02d}"
        if rng.random() < 0.15:
            src, dst = dst, src
        lines.append({"type": "meeting_request", "event": "ev-bench", "from": src, "to": dst})
    return lines


def flask(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=20261210)
    ap.add_argument("--enterprises", type=int, default=300)
    ap.add_argument("--institutions", type=int, default=60)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--tables", type=int, default=60)
    ap.add_argument("--target", type=float, default=10.0, help="seconds the schedule command may take")
    ap.add_argument("--time-limit", type=float, default=None, help="passed on to `events schedule`")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"}
        data = Path(tmp) / "event.jsonl"
        lines = generate(args.seed, args.enterprises, args.institutions, args.slots, args.requests, args.tables)
        data.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        t0 = time.perf_counter()
        up = flask(["db", "upgrade"], env)
        t1 = time.perf_counter()
        imp = flask(["data", "import", str(data)], env)
        t2 = time.perf_counter()
        if up.returncode or imp.returncode:
            print(up.stderr[-2000:], imp.stderr[-2000:], file=sys.stderr)
            return 1
        cmd = ["events", "schedule", "ev-bench", "--json"]
        if args.time_limit is not None:
            cmd += ["--time-limit", str(args.time_limit)]
        t3 = time.perf_counter()
        run = flask(cmd, env)
        wall = time.perf_counter() - t3
        if run.returncode:
            print(run.stderr[-2000:], file=sys.stderr)
            return 1
        out = json.loads(run.stdout)
    figures = {
        "enterprises": args.enterprises, "institutions": args.institutions, "slots": args.slots,
        "requests_lines": args.requests, "requested_total": out["requested_total"],
        "requested_scheduled": out["requested_scheduled"], "bound": out["bound"], "status": out["status"],
        "meetings": len(out["meetings"]), "db_upgrade_s": round(t1 - t0, 2), "import_s": round(t2 - t1, 2),
        "schedule_command_s": round(wall, 2), "target_s": args.target, "within_target": wall <= args.target,
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0 if wall <= args.target else 2


if __name__ == "__main__":
    sys.exit(main())
