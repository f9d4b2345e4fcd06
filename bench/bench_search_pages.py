"""Benchmark of the demand pool's search page through the Flask test client: the whole request, p50/p95.

    python bench/bench_search_pages.py [--n 5000] [--runs 200] [--json]

Builds a SQLite database and an embedded index in a temporary directory with `n` published demands
(synthetic Chinese titles), logs a bank in, and times GET /demands/pool for four queries: text only,
text + two facets, facets only (newest first) and text on page 3. The target is p95 <= 50 ms.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import say, timed  # noqa: E402
from matchmaker import create_app  # noqa: E402
from matchmaker.migrate import upgrade  # noqa: E402
from search.synthetic import demands  # noqa: E402

TARGET_P95_MS = 50
QUERIES = {
    "text": {"q": "锂电池"},
    "text_two_facets": {"q": "设备", "district": "滕州市", "purpose": "equipment"},
    "facets_newest": {"cluster": "锂电", "financing_type": "loan", "sort": "newest"},
    "text_page_3": {"q": "贷款", "page": "3"},
}


def pool_app(directory: Path, n: int):
    """An app on a fresh SQLite database holding `n` published demands of synthetic enterprises (not indexed)."""
    from models import db_session
    from tests import factories

    url = f"sqlite:///{directory / 'bench.db'}"
    upgrade(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SEARCH_INDEX_DIR": str(directory / "search"),
                      "MODEL_DIR": str(directory / "models"), "SERVER_NAME": "localhost"})
    with app.app_context():
        app.config["SEARCH_QUEUE_CHANGES"] = False  # a bulk load: whoever needs the index builds it once
        orgs = {}
        for k, d in enumerate(demands(n, seed=20261126)):
            if d.org.ref not in orgs:
                orgs[d.org.ref] = factories.make_enterprise(commit=False, name=d.org.name, district=d.org.district,
                                                            industry=d.org.industry)
            factories.make_demand(orgs[d.org.ref], status="published", commit=False, title=d.title,
                                  description=d.description, amount=d.amount, term_months=d.term_months,
                                  purpose=d.purpose, financing_types=d.financing_types, collateral=d.collateral,
                                  published_at=d.created_at, created_at=d.created_at)
            if k % 10_000 == 9_999:
                db_session.commit()
        db_session.commit()
        db_session.remove()
    return app


def client_as(app, user_id: str):
    """A test client signed in as `user_id` (the bench measures pages, not the login form)."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_id
        sess["_fresh"] = True
    return client


def build(directory: Path, n: int):
    """An app on a fresh database holding `n` published demands, indexed; returns (app, bank client)."""
    from models import OrgKind, db_session
    from tests import factories

    app = pool_app(directory, n)
    with app.app_context():
        bank = factories.make_user(factories.make_org(OrgKind.BANK, commit=False, name="工商银行枣庄分行"))
        db_session.commit()
        app.config["SEARCH_QUEUE_CHANGES"] = True
        result = app.test_cli_runner().invoke(args=["search", "reindex"])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        user_id = bank.get_id()
    return app, client_as(app, user_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="published demands in the pool")
    parser.add_argument("--runs", type=int, default=200, help="requests per query")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        say(f"building {args.n} published demands and their index ...")
        app, client = build(Path(tmp), args.n)
        figures = {}
        for name, query in QUERIES.items():
            def get(_i, query=query, name=name):
                resp = client.get("/demands/pool", query_string=query)
                if resp.status_code != 200 or "pool-row" not in resp.text:
                    raise SystemExit(f"{name}: unexpected page ({resp.status_code})")
            figures[name] = timed(get, args.runs)
        from models import db_session

        with app.app_context():
            db_session.remove()
    worst = max(f["p95_ms"] for f in figures.values())
    report = {"demands": args.n, "pool_page": figures, "worst_p95_ms": worst, "target_p95_ms": TARGET_P95_MS,
              "meets_target": worst <= TARGET_P95_MS}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    say(f"{'query':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for name, f in figures.items():
        say(f"{name:<18}{f['p50_ms']:>10.2f}{f['p95_ms']:>10.2f}")
    say(f"worst p95 {worst:.2f} ms (target {TARGET_P95_MS} ms): {'met' if report['meets_target'] else 'NOT met'}")


if __name__ == "__main__":
    main()
