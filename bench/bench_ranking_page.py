"""Benchmark of the institution's 为您推荐 page on a database pool: cold start, cached, after a publish and a withdrawal.

    python bench/bench_ranking_page.py [--n 100000] [--json]

Builds a SQLite database in a temporary directory with `n` published demands and a bank with ten
loans, logs the bank in and times GET /recommended through the Flask test client: the worker's first
request (the pool read and encoded), repeated requests (the fingerprint read, the institution's cached
list), the request after a demand is published and after one is withdrawn (the pool refreshed with only
those demands, the bank's list scored again), and the request with the institution's list dropped
(the whole pool scored for the bank). It also times the pool fingerprint and the column loader
against the ORM loader. No model is trained here: the rule score ranks (bench_ranking.py times the
model on the synthetic pool).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import say  # noqa: E402
from bench.bench_search_pages import client_as, pool_app  # noqa: E402


def build(directory: Path, n: int):
    """An app on a fresh database with `n` published demands and a bank with ten loans; returns (app, client)."""
    from models import OrgKind, db_session
    from tests import factories

    app = pool_app(directory, n)
    with app.app_context():
        bank = factories.make_org(OrgKind.BANK, commit=False, name="工商银行枣庄分行")
        for j in range(10):
            factories.make_product(bank, commit=False, amount_min=Decimal(50 * j), amount_max=Decimal(1000 + 800 * j),
                                   term_min=6, term_max=24 + 6 * j,
                                   collateral=["none"] if j % 2 else ["equipment", "property"],
                                   purposes=[] if j % 3 else ["equipment"], description="设备购置贷款 流动资金周转")
        user = factories.make_user(bank)
        db_session.commit()
        user_id = user.get_id()
        db_session.remove()
    return app, client_as(app, user_id)


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return round((time.perf_counter() - t) * 1000, 1)


def run(n: int) -> dict:
    """Build the database and time the page; returns the figures."""
    import matchmaker.ranking.data as data
    from models import DemandStatus, db_session
    from tests import factories

    with tempfile.TemporaryDirectory() as tmp:
        say(f"building {n} published demands ...")
        app, client = build(Path(tmp), n)

        def page():
            resp = client.get("/recommended")
            if resp.status_code != 200 or "为您推荐" not in resp.text:
                raise SystemExit(f"unexpected page ({resp.status_code})")

        out: dict = {"demands": n}
        with app.app_context():
            out["fingerprint_ms"] = [_ms(data.pool_version) for _ in range(5)]
            out["load_pool_columns_ms"] = _ms(data.load_pool)
            out["load_pool_orm_ms"] = _ms(lambda: data.load_demands(published_only=True))
            db_session.remove()
        out["first_request_ms"] = _ms(page)
        cached = [_ms(page) for _ in range(20)]
        out["cached_p50_ms"], out["cached_p95_ms"] = (float(np.percentile(cached, q)) for q in (50, 95))
        # The demands were all written in the last minute: in service the look-back re-reads only the
        # few changed in its window, here it would re-read the whole build.
        data.POOL_LOOKBACK = timedelta(0)
        with app.app_context():
            demand = factories.make_demand(factories.make_enterprise(), status="published", title="新发布的设备购置需求")
            ref = demand.ref
            db_session.remove()
        out["after_publish_ms"] = _ms(page)
        with app.app_context():
            data.serving(app)  # the same worker state the page uses
            demand = db_session.scalars(data.sa.select(data.Demand).where(data.Demand.ref == ref)).one()
            demand.status = DemandStatus.WITHDRAWN
            db_session.commit()
            db_session.remove()
        out["after_withdrawal_ms"] = _ms(page)
        with app.app_context():
            app.extensions["ranking"]._institutions.clear()
        out["uncached_institution_ms"] = _ms(page)
        with app.app_context():
            db_session.remove()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="published demands in the pool")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args()
    figures = run(args.n)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    for key, value in figures.items():
        say(f"{key}: {value}")


if __name__ == "__main__":
    main()
