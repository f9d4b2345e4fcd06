"""Benchmark of the embedded search backend against SQL LIKE on SQLite: reindex speed and query latency.

    python bench/bench_search.py [--n 100000] [--products 5000] [--json]

Generates `n` synthetic demands and the products, rebuilds the embedded index, then times four kinds
of query against the same data in SQLite (LIKE '%…%' with the same filters, GROUP BY for facets):
(a) two Chinese words, (b) filters only, (c) text + 2 filters + 5 facets + top 20, (d) a word found in
nearly every document. Figures go to stderr as a table, or to stdout as JSON with --json.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.analysis import analyzed, expand, tokens  # noqa: E402
from search.documents import demand_document, product_document  # noqa: E402
from search.embedded import EmbeddedBackend  # noqa: E402
from search.query import SearchQuery  # noqa: E402
from search.synthetic import DISTRICTS, demands, products  # noqa: E402

FACETS = ["district", "cluster", "purpose", "financing_type", "collateral"]
WORD_PAIRS = [("锂电池", "设备"), ("智能化", "贷款"), ("生产线", "融资"), ("技术改造", "项目"), ("光纤", "资金"),
              ("数控机床", "车间"), ("储能", "基地"), ("流动资金", "工厂")]
TEXTS = ["设备", "贷款", "锂电池", "改造", "融资", "生产线", "资金", "智能化"]
PURPOSES = ["smart_upgrade", "equipment", "green", "working_capital", "expansion"]
COMMON = ["项目", "本项目", "位于", "建设"]
SYNONYMS = [["技改", "技术改造"], ["信用贷", "信用贷款"], ["首贷", "首次贷款"], ["设备贷", "设备贷款"], ["锂电", "锂电池"]]


def say(*parts) -> None:
    """Progress and the table go to stderr, so stdout holds only the JSON."""
    print(*parts, file=sys.stderr)


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples`, in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def timed(fn, runs: int) -> dict[str, float]:
    """p50/p95 latency of `fn(i)` over `runs` calls, after a few warm-up calls."""
    for i in range(3):
        fn(i)
    samples = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t)
    return {"p50_ms": round(percentile(samples, 50), 3), "p95_ms": round(percentile(samples, 95), 3),
            "mean_ms": round(statistics.mean(samples) * 1000, 3), "runs": runs}


# -- the SQLite LIKE baseline ---------------------------------------------------------------------

def build_sqlite(docs: list[dict], path: Path) -> sqlite3.Connection:
    """The demands as a plain table (plus one table per multi-valued field), indexed on the filter columns."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE demands (ref TEXT PRIMARY KEY, title TEXT, description TEXT, keywords TEXT, district TEXT,
                              cluster TEXT, purpose TEXT, status TEXT, amount REAL, created_at TEXT);
        CREATE TABLE demand_financing (ref TEXT, value TEXT);
        CREATE TABLE demand_collateral (ref TEXT, value TEXT);
    """)
    db.executemany("INSERT INTO demands VALUES (?,?,?,?,?,?,?,?,?,?)", [
        (d["ref"], d["title"], d["description"], "\n".join(d["keywords"]), d["district"], d["cluster"], d["purpose"],
         d["status"], float(d["amount_min"]), d["created_at"]) for d in docs])
    db.executemany("INSERT INTO demand_financing VALUES (?,?)",
                   [(d["ref"], v) for d in docs for v in d["financing_type"]])
    db.executemany("INSERT INTO demand_collateral VALUES (?,?)", [(d["ref"], v) for d in docs for v in d["collateral"]])
    db.executescript("""
        CREATE INDEX ix_d_district ON demands(district); CREATE INDEX ix_d_status ON demands(status);
        CREATE INDEX ix_d_purpose ON demands(purpose); CREATE INDEX ix_d_created ON demands(created_at);
        CREATE INDEX ix_f_ref ON demand_financing(ref); CREATE INDEX ix_c_ref ON demand_collateral(ref);
    """)
    db.commit()
    return db


def add_fts5(db: sqlite3.Connection, docs: list[dict]) -> None:
    """The alternative considered: SQLite FTS5 over the same pre-analyzed bigrams (a gap token between values)."""
    db.execute("CREATE VIRTUAL TABLE demand_fts USING fts5(text, tokenize='unicode61 remove_diacritics 0')")
    rows = db.execute("SELECT rowid, ref FROM demands").fetchall()
    by_ref = {d["ref"]: d for d in docs}
    db.executemany("INSERT INTO demand_fts(rowid, text) VALUES (?, ?)", [
        (rowid, " zzgap ".join(analyzed([by_ref[ref]["title"], by_ref[ref]["description"], *by_ref[ref]["keywords"]])))
        for rowid, ref in rows])
    db.commit()


def fts_match(words: list[str]) -> str:
    """An FTS5 MATCH expression: every word (or a synonym) as a phrase of bigrams."""
    return " AND ".join("(" + " OR ".join('"' + " ".join(tokens(v)) + '"' for v in expand(w, SYNONYMS)) + ")"
                        for w in words)


def sql_search(db: sqlite3.Connection, words: list[str], filters: dict[str, str], facets: list[str],
               fts: bool = False) -> tuple:
    """Top 20 newest, the total and facet counts, the way a site without a search engine would do it."""
    where, params = [], []
    if fts and words:
        where.append("demands.rowid IN (SELECT rowid FROM demand_fts WHERE demand_fts MATCH ?)")
        params.append(fts_match(words))
        words = []
    for w in words:
        # The same synonym widening as the index, or the two would not count the same documents.
        variants = expand(w, SYNONYMS)
        where.append("(" + " OR ".join(["title LIKE ? OR description LIKE ? OR keywords LIKE ?"] * len(variants)) + ")")
        params += [f"%{v}%" for v in variants for _ in range(3)]
    for key, value in filters.items():
        where.append(f"{key} = ?")
        params.append(value)
    cond = " AND ".join(where) or "1=1"
    top = db.execute(f"SELECT ref FROM demands WHERE {cond} ORDER BY created_at DESC LIMIT 20", params).fetchall()
    total = db.execute(f"SELECT count(*) FROM demands WHERE {cond}", params).fetchone()[0]
    counts = {}
    for facet in facets:
        if facet in ("financing_type", "collateral"):
            table = "demand_financing" if facet == "financing_type" else "demand_collateral"
            sql = (f"SELECT t.value, count(*) FROM {table} t JOIN demands ON demands.ref = t.ref "
                   f"WHERE {cond} GROUP BY t.value")
        else:
            sql = f"SELECT {facet}, count(*) FROM demands WHERE {cond} GROUP BY {facet}"
        counts[facet] = dict(db.execute(sql, params).fetchall())
    return top, total, counts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of demands")
    parser.add_argument("--products", type=int, default=5_000, help="number of products")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per embedded query kind")
    parser.add_argument("--baseline-runs", type=int, default=20, help="timed runs per SQLite query kind")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args(argv)
    out: dict = {"n_demands": args.n, "n_products": args.products}

    t = time.perf_counter()
    demand_docs = [demand_document(d) for d in demands(args.n, seed=2026)]
    product_docs = [product_document(p) for p in products(args.products)]
    out["build_documents_s"] = round(time.perf_counter() - t, 2)
    say(f"generated {args.n} demands and {args.products} products in {out['build_documents_s']} s")

    with tempfile.TemporaryDirectory() as tmp:
        backend = EmbeddedBackend(Path(tmp) / "index", synonyms=SYNONYMS)
        t = time.perf_counter()
        backend.rebuild("demand", demand_docs)
        backend.rebuild("product", product_docs)
        seconds = time.perf_counter() - t
        total_docs = args.n + args.products
        out["reindex"] = {"seconds": round(seconds, 2), "docs_per_s": round(total_docs / seconds)}
        say(f"reindex: {total_docs} documents in {seconds:.2f} s = {total_docs / seconds:,.0f} docs/s")

        districts = list(DISTRICTS)

        def q_a(i):
            a, b = WORD_PAIRS[i % len(WORD_PAIRS)]
            return backend.search(SearchQuery(text=f"{a} {b}"))

        def q_b(i):
            return backend.search(SearchQuery(filters={"district": districts[i % 7], "purpose": PURPOSES[i % 5]}))

        def q_c(i):
            return backend.search(SearchQuery(text=TEXTS[i % len(TEXTS)], facets=FACETS,
                                              filters={"district": districts[i % 7], "status": "published"}))

        def q_d(i):
            return backend.search(SearchQuery(text=COMMON[i % len(COMMON)]))

        embedded = {"a_two_words": timed(q_a, args.runs), "b_filters_only": timed(q_b, args.runs),
                    "c_text_2_filters_5_facets": timed(q_c, args.runs), "d_common_word": timed(q_d, args.runs)}
        out["embedded"] = embedded
        out["d_common_word_total"] = q_d(0).total
        out["c_example_total"] = q_c(0).total
        # A product search with facets, for the record.
        out["embedded_products"] = timed(lambda i: backend.search(SearchQuery(
            text="贷", doc_type="product", facets=["kind", "collateral"])), args.runs)

        t = time.perf_counter()
        db = build_sqlite(demand_docs, Path(tmp) / "baseline.db")
        out["sqlite_load_s"] = round(time.perf_counter() - t, 2)

        def s_a(i):
            a, b = WORD_PAIRS[i % len(WORD_PAIRS)]
            return sql_search(db, [a, b], {}, [])

        def s_b(i):
            return sql_search(db, [], {"district": districts[i % 7], "purpose": PURPOSES[i % 5]}, [])

        def s_c(i):
            return sql_search(db, [TEXTS[i % len(TEXTS)]], {"district": districts[i % 7], "status": "published"},
                              FACETS)

        def s_d(i):
            return sql_search(db, [COMMON[i % len(COMMON)]], {}, [])

        # Same answers first: the baseline is only a yardstick if it finds what the index finds.
        for i in range(len(TEXTS)):
            _, total, counts = s_c(i)
            result = q_c(i)
            assert total == result.total, (i, total, result.total)
            for facet in FACETS:
                assert {k: v for k, v in counts[facet].items() if v} == result.facets[facet], facet
        baseline = {"a_two_words": timed(s_a, args.baseline_runs), "b_filters_only": timed(s_b, args.baseline_runs),
                    "c_text_2_filters_5_facets": timed(s_c, args.baseline_runs),
                    "d_common_word": timed(s_d, args.baseline_runs)}
        out["sqlite_like"] = baseline

        t = time.perf_counter()
        add_fts5(db, demand_docs)
        out["fts5_load_s"] = round(time.perf_counter() - t, 2)
        for i in range(len(TEXTS)):
            assert sql_search(db, [TEXTS[i]], {"district": districts[i % 7], "status": "published"}, FACETS,
                              fts=True)[1] == q_c(i).total
        out["sqlite_fts5"] = {
            "a_two_words": timed(lambda i: sql_search(db, list(WORD_PAIRS[i % len(WORD_PAIRS)]), {}, [], fts=True),
                                 args.baseline_runs),
            "c_text_2_filters_5_facets": timed(lambda i: sql_search(
                db, [TEXTS[i % len(TEXTS)]], {"district": districts[i % 7], "status": "published"}, FACETS, fts=True),
                args.baseline_runs),
            "d_common_word": timed(lambda i: sql_search(db, [COMMON[i % len(COMMON)]], {}, [], fts=True),
                                   args.baseline_runs),
        }
        db.close()

    out["speedup_p95"] = {k: round(baseline[k]["p95_ms"] / max(embedded[k]["p95_ms"], 1e-6), 1) for k in embedded}
    out["targets"] = {
        "reindex_ge_5000_docs_s": out["reindex"]["docs_per_s"] >= 5000,
        "c_p95_le_5ms": embedded["c_text_2_filters_5_facets"]["p95_ms"] <= 5,
        "c_ge_30x_baseline": out["speedup_p95"]["c_text_2_filters_5_facets"] >= 30,
        "d_p95_le_20ms": embedded["d_common_word"]["p95_ms"] <= 20,
    }
    say(f"{'query':28} {'embedded p50/p95 ms':>22} {'sqlite LIKE p50/p95 ms':>24} {'x (p95)':>8}")
    for k in embedded:
        e, b = embedded[k], baseline[k]
        say(f"{k:28} {e['p50_ms']:>10.2f}/{e['p95_ms']:<10.2f} {b['p50_ms']:>11.2f}/{b['p95_ms']:<11.2f}"
            f" {out['speedup_p95'][k]:>7}")
    say("sqlite FTS5 (bigrams) p50/p95 ms: " + ", ".join(
        f"{k} {v['p50_ms']:.2f}/{v['p95_ms']:.2f}" for k, v in out["sqlite_fts5"].items()))
    say("targets: " + ", ".join(f"{k}={'ok' if v else 'MISSED'}" for k, v in out["targets"].items()))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
