"""Benchmark of the bureau console at the issue's volume: 100,000 demands, 300,000 offers, 50,000 deals.

Generates the volume (plus projects, events, meetings and disbursements) with Core executemany into a
fresh SQLite file or a PostgreSQL database (`--url`; its public schema is dropped and rebuilt), then
times through the Flask test client, logged in as the city bureau, the city console's main page and a
district console (p50/p95 of repeated requests) and a drill-down list, and the `report monthly`
command. Targets: console p95 ≤ 300 ms, report ≤ 10 s.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DISTRICTS = ["市中区", "薛城区", "峄城区", "台儿庄区", "山亭区", "滕州市", "枣庄高新区"]
CLUSTERS = ["高端装备", "高端化工", "新型建材", "锂电", "光纤和新材料", "大数据", "医药健康", "机械机床", "食品饮料"]
PURPOSES = ["smart_upgrade", "equipment", "green", "new_product", "expansion", "rnd", "working_capital"]
STATUSES = ["submitted", "returned", "published", "published", "published", "matched", "signed", "funded",
            "expired", "closed", "draft", "withdrawn"]
COLLATERAL = [["none"], ["property"], ["equipment"], ["receivables"], ["ip"], ["none", "guarantee"]]
TYPES = [["loan"], ["loan"], ["loan", "leasing"], ["equity"], ["guarantee"]]


def _insert(c, table, rows: list[dict], size: int = 10_000) -> None:
    for i in range(0, len(rows), size):
        c.execute(table.insert(), rows[i:i + size])


def generate(url: str, seed: int, demands: int, enterprises: int, projects: int, events: int, meetings: int,
             offers: int = 0, deals: int = 0):
    from models.organizations import uscc_check_char

    rng = random.Random(seed)
    engine = sa.create_engine(url)
    md = sa.MetaData()
    md.reflect(engine)
    t = md.tables
    start = datetime(2025, 12, 1)
    span = (datetime(2026, 11, 30) - start).total_seconds()

    def when() -> datetime:
        return start + timedelta(seconds=rng.random() * span)

    with engine.begin() as c:
        c.execute(t["organizations"].insert(), [
            {"id": 1, "ref": "bureau-city", "kind": "bureau", "name": "市工信局", "status": "approved",
             "district": None, "tags": [], "created_at": start}])
        c.execute(t["users"].insert(), [
            {"id": 1, "ref": "u-city", "org_id": 1, "username": "bench-city", "password_hash": "x", "role": "admin",
             "name": "基准", "is_active": True, "failed_logins": 0, "session_version": 1, "created_at": start}])
        orgs = []
        for k in range(enterprises):
            body = f"91370400{k:09d}"
            orgs.append({"id": 100 + k, "ref": f"ent-{k:05d}", "kind": "enterprise", "name": f"企业{k:05d}",
                         "status": "approved", "district": rng.choice(DISTRICTS), "industry": rng.choice(CLUSTERS),
                         "size": rng.choice(["large", "medium", "small", "small", "micro"]),
                         "uscc": body + uscc_check_char(body), "tags": [], "created_at": start})
        c.execute(t["organizations"].insert(), orgs)
        insts = []
        for k in range(60):
            insts.append({"id": 50 + k if k < 50 else 100 + enterprises + k, "ref": f"inst-{k:02d}",
                         "kind": rng.choice(["bank", "bank", "fund", "guarantor"]), "name": f"金融机构{k:02d}",
                         "status": "approved", "district": rng.choice(DISTRICTS + [None]), "tags": [],
                         "created_at": start})
        c.execute(t["organizations"].insert(), insts)
        inst_ids = [o["id"] for o in insts]
        ent_ids = list(range(100, 100 + enterprises))

        rows = []
        for k in range(projects):
            total = Decimal(rng.randrange(100, 50000))
            rows.append({"id": k + 1, "ref": f"tp-{k:06d}", "org_id": rng.choice(ent_ids), "name": f"技改项目{k}",
                         "category": rng.choice(PURPOSES), "total_investment": total,
                         "equipment_investment": (total * Decimal("0.6")).quantize(Decimal(1)),
                         "district": None, "progress": rng.randrange(0, 101), "is_major": rng.random() < 0.1,
                         "created_at": when(), "updated_at": start})
        c.execute(t["tech_projects"].insert(), rows)
        c.execute(t["progress_updates"].insert(), [
            {"project_id": rng.randrange(1, projects + 1), "percent": 50, "done": "进展", "problems": "用地手续",
             "is_resolved": rng.random() < 0.5, "created_at": start} for _ in range(projects // 5)])

        batch, history, open_demands = [], [], []
        for k in range(demands):
            created = when()
            status = rng.choice(STATUSES)
            # Seven in ten went through the form (submitted later than created); the rest were imported.
            submitted = created + timedelta(hours=2) if status != "draft" and rng.random() < 0.7 else None
            published = created + timedelta(days=rng.randrange(1, 10)) if status not in (
                "draft", "withdrawn", "submitted", "returned") else None
            batch.append({"id": k + 1, "ref": f"dm-{k:06d}", "org_id": rng.choice(ent_ids),
                          "project_id": rng.randrange(1, projects + 1) if rng.random() < 0.5 else None,
                          "title": f"融资需求{k}", "description": "基准测试", "amount": Decimal(rng.randrange(50, 20000)),
                          "term_months": rng.choice([12, 24, 36, 60]), "purpose": rng.choice(PURPOSES),
                          "financing_types": rng.choice(TYPES), "collateral": rng.choice(COLLATERAL),
                          "max_rate": Decimal("4.5"), "valid_until": date(2027, 6, 30), "status": status,
                          "created_at": created, "updated_at": created, "published_at": published,
                          "submitted_at": submitted})
            if published:
                open_demands.append((k + 1, published, status))
            if submitted:
                history.append({"demand_id": k + 1, "at": submitted, "action": "submit",
                                "from_status": "draft", "to_status": "submitted"})
            if len(batch) == 10000:
                c.execute(t["demands"].insert(), batch)
                batch = []
        if batch:
            c.execute(t["demands"].insert(), batch)
        _insert(c, t["demand_history"], history)

        evs = [{"id": k + 1, "ref": f"ev-{k:04d}", "kind": "bank_enterprise_meeting", "title": f"对接会{k}",
                "status": rng.choice(["held", "closed", "published"]), "district": rng.choice(DISTRICTS + [None]),
                "date": (start + timedelta(days=rng.randrange(0, 360))).date(), "start_time": datetime(2026, 1, 1, 9).time(),
                "slots": 12, "slot_minutes": 15, "breaks": [], "break_minutes": 0, "tables": 30,
                "created_at": start} for k in range(events)]
        c.execute(t["events"].insert(), evs)
        ms, seen = [], set()
        while len(ms) < meetings:
            ev, slot, ent = rng.randrange(1, events + 1), rng.randrange(12), rng.choice(ent_ids)
            inst = rng.choice(inst_ids)
            if (ev, slot, ent) in seen or (ev, slot, inst) in seen or (ev, ent, inst) in seen:
                continue
            seen.update({(ev, slot, ent), (ev, slot, inst), (ev, ent, inst)})
            intent = Decimal(rng.randrange(0, 3000))
            ms.append({"event_id": ev, "slot": slot, "table_no": 1, "enterprise_id": ent, "institution_id": inst,
                       "is_requested": False, "score": 0, "is_locked": False, "is_held": rng.random() < 0.8,
                       "intent_amount": intent, "signed_amount": intent / 2 if rng.random() < 0.4 else None,
                       "disbursed_amount": intent / 4 if rng.random() < 0.2 else None})
        c.execute(t["meetings"].insert(), ms)
        _offers_and_deals(c, t, rng, open_demands, inst_ids, offers, deals)
        if engine.dialect.name == "postgresql":
            # The rows came with their ids: move the sequences past them for the writes that follow.
            for name, table in t.items():
                if "id" in table.c:
                    c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"))
    engine.dispose()


# What became of the offers: most bids wait or are turned down, one in five is accepted.
OFFER_FATES = ["submitted"] * 25 + ["accepted"] * 20 + ["declined"] * 30 + ["withdrawn"] * 10 + \
    ["expired"] * 10 + ["requested"] * 5
END = datetime(2026, 11, 30, 15, 0)


def _offers_and_deals(c, t, rng, open_demands, inst_ids, offers: int, deals: int) -> None:
    """Offers on the published demands (bids and applications), deals on accepted ones, disbursements."""
    if not offers:
        return
    kinds = {i: rng.choice(["loan", "loan", "loan", "equity", "guarantee", "leasing"]) for i in inst_ids}
    rows, accepted = [], []
    for k in range(offers):
        demand_id, published, _status = rng.choice(open_demands)
        inst = rng.choice(inst_ids)
        fate = rng.choice(OFFER_FATES)
        origin = "application" if rng.random() < 0.3 or fate == "requested" else "bid"
        created = min(published + timedelta(hours=rng.randrange(1, 24 * 40)), END)
        if fate == "requested":
            # Waiting for an answer: asked in the last three weeks (older ones were answered or expired).
            created = END - timedelta(hours=rng.randrange(1, 24 * 21))
        asked = deadline = answered = accepted_at = None
        amount = Decimal(rng.randrange(50, 15000))
        declined_by = reason = None
        if origin == "application":
            asked, deadline = created, created + timedelta(days=7)
            if fate == "requested":
                amount = None
            else:
                answered = min(asked + timedelta(hours=rng.randrange(1, 24 * 12)), END)
                if fate == "declined" and rng.random() < 0.5:
                    amount, declined_by = None, "institution"
                    reason = rng.choice(["不符合授信条件", "抵押物不足", "行业限制", None])
        if fate == "declined" and declined_by is None:
            declined_by = "enterprise"
        if fate == "accepted":
            accepted_at = min((answered or created) + timedelta(hours=rng.randrange(1, 24 * 10)), END)
        row = {"id": k + 1, "ref": f"of-{k:06d}", "demand_id": demand_id, "org_id": inst, "product_id": None,
               "origin": origin, "kind": kinds[inst], "status": fate, "amount": amount,
               "rate": Decimal("4.2") if amount is not None else None,
               "term_months": 36 if amount is not None else None, "collateral": [], "asked_at": asked,
               "deadline_at": deadline, "answered_at": answered, "accepted_at": accepted_at,
               "declined_by": declined_by, "decline_reason": reason, "created_at": created, "updated_at": created}
        rows.append(row)
        if accepted_at is not None:
            accepted.append(row)
    _insert(c, t["offers"], rows)
    deal_rows, pays = [], []
    for k, offer in enumerate(rng.sample(accepted, min(deals, len(accepted)))):
        signed = min(offer["accepted_at"] + timedelta(days=rng.randrange(0, 30)), END).date()
        amount = offer["amount"]
        deal_rows.append({"id": k + 1, "ref": f"deal-{k:06d}", "offer_id": offer["id"], "signed_amount": amount,
                          "signed_on": signed, "rate": Decimal("4.2"), "term_months": 36, "created_at": END})
        # Seven in ten deals have money paid out, some of them in two parts.
        if rng.random() < 0.7:
            parts = 2 if rng.random() < 0.3 else 1
            for p in range(parts):
                pays.append({"deal_id": k + 1, "amount": (amount / parts).quantize(Decimal("0.0001")),
                             "disbursed_on": min(signed + timedelta(days=rng.randrange(0, 40) + 30 * p), END.date()),
                             "created_at": END})
    _insert(c, t["deals"], deal_rows)
    _insert(c, t["disbursements"], pays)


def _reset(url: str) -> None:
    """An empty database at `url`: a fresh schema for PostgreSQL (a SQLite file is new anyway)."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(sa.text("DROP SCHEMA public CASCADE"))
            c.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(round(0.95 * len(times))) - 1)], 1)}


def _timed_pages(client, path: str, query: dict, n: int) -> dict:
    assert client.get(path, query_string=query).status_code == 200  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path, query_string=query)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    return _percentiles(times)


def _timed_writes(n: int) -> dict:
    """The cost the summary adds to a write: committing one new offer, with its upkeep and without it."""
    from sqlalchemy import event

    from matchmaker.console import summary
    from models import Offer, db_session

    demand_ids = list(db_session.scalars(sa.select(sa.text("id")).select_from(sa.text("demands"))
                                         .where(sa.text("published_at IS NOT NULL")).limit(n)))
    out = {}
    for label, hooked in (("with_summary", True), ("without_summary", False)):
        if not hooked:
            event.remove(db_session, "before_flush", summary._before_flush)
            event.remove(db_session, "before_commit", summary._before_commit)
        times = []
        for i, demand_id in enumerate(demand_ids):
            t = time.perf_counter()
            db_session.add(Offer(ref=f"bench-{label}-{i}", demand_id=demand_id, org_id=50, origin="bid", kind="loan",
                                 status="submitted", amount=Decimal(100), rate=Decimal("4.0"), term_months=12))
            db_session.commit()
            times.append((time.perf_counter() - t) * 1000)
        out[label] = _percentiles(times)
    # The offers written without the upkeep are not in the summary: remove them, and put the upkeep back.
    db_session.execute(sa.text("DELETE FROM offers WHERE ref LIKE 'bench-without_summary-%'"))
    db_session.commit()
    event.listen(db_session, "before_flush", summary._before_flush)
    event.listen(db_session, "before_commit", summary._before_commit)
    return out


def run(url: str, args, tmp: str) -> dict:
    from matchmaker import create_app
    from matchmaker.migrate import upgrade
    from models import User, db_session

    _reset(url)
    upgrade(url)
    t0 = time.perf_counter()
    generate(url, args.seed, args.demands, args.enterprises, args.projects, args.events, args.meetings,
             args.offers, args.deals)
    gen_s = time.perf_counter() - t0
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SERVER_NAME": "localhost",
                      "RATELIMIT_ENABLED": False, "SEARCH_INDEX_DIR": f"{tmp}/search"})
    runner = app.test_cli_runner()
    t0 = time.perf_counter()
    rebuilt = runner.invoke(args=["report", "rebuild-summary"])
    assert rebuilt.exit_code == 0, rebuilt.output
    rebuild_s = time.perf_counter() - t0
    print(f"{url.split(':')[0]}: generated in {gen_s:.1f} s, summary rebuilt in {rebuild_s:.1f} s", file=sys.stderr)
    with app.app_context():
        engine = db_session.get_bind()
        if engine.dialect.name == "postgresql":
            with engine.begin() as c:
                c.execute(sa.text("ANALYZE"))
        counts = {name: db_session.scalar(sa.text(f"SELECT count(*) FROM {name}"))
                  for name in ("demands", "offers", "deals", "disbursements", "tech_projects", "meetings")}
        user = db_session.get(User, 1)
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = user.get_id()
            s["_fresh"] = True
        period = {"start": "2025-12", "end": "2026-11"}
        city = _timed_pages(client, "/console/", period, args.requests)
        district = _timed_pages(client, "/console/", {**period, "district": "滕州市"}, args.requests)
        drill = _timed_pages(client, "/console/list", {**period, "metric": "amount_offered", "dim": "cluster",
                                                       "value": "锂电", "page": 3}, args.requests)
        writes = _timed_writes(args.requests)
        db_session.remove()
    t0 = time.perf_counter()
    out = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--out", f"{tmp}/report.xlsx"])
    report_s = time.perf_counter() - t0
    assert out.exit_code == 0, out.output
    return {"database": url.split(":")[0].split("+")[0], "rows": counts, "generate_s": round(gen_s, 1),
            "rebuild_summary_s": round(rebuild_s, 1), "city_console": city, "district_console": district,
            "drill_down": drill, "offer_commit": writes, "report_s": round(report_s, 2),
            "report_bytes": Path(f"{tmp}/report.xlsx").stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", action="append",
                    help="a database to fill (repeatable; PostgreSQL's public schema is dropped first); "
                         "default a fresh SQLite file")
    ap.add_argument("--demands", type=int, default=100_000)
    ap.add_argument("--offers", type=int, default=300_000)
    ap.add_argument("--deals", type=int, default=50_000)
    ap.add_argument("--enterprises", type=int, default=5_000)
    ap.add_argument("--projects", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--meetings", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for url in args.url or [f"sqlite:///{tmp}/bench.db"]:
            results.append(run(url, args, tmp))
    if args.json:
        print(json.dumps({"targets": {"console_p95_ms": 300, "report_s": 10}, "results": results},
                         ensure_ascii=False))
        return
    for r in results:
        print(f"{r['database']}: {r['rows']}; generated in {r['generate_s']} s, summary rebuilt in "
              f"{r['rebuild_summary_s']} s\n"
              f"  city console p50 {r['city_console']['p50_ms']} ms, p95 {r['city_console']['p95_ms']} ms "
              f"(target ≤ 300); district console p50 {r['district_console']['p50_ms']} ms, "
              f"p95 {r['district_console']['p95_ms']} ms; drill-down page 3 p95 {r['drill_down']['p95_ms']} ms; "
              f"committing an offer p50 {r['offer_commit']['with_summary']['p50_ms']} ms "
              f"({r['offer_commit']['without_summary']['p50_ms']} ms without the summary's upkeep); "
              f"monthly report {r['report_s']} s (target ≤ 10)")


if __name__ == "__main__":
    main()
