"""Behaviour every backend shares, checked against a Python oracle on 400 synthetic Chinese demands."""
from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

import pytest

from search.query import QueryError, SearchQuery
from tests.search.conftest import SYNONYMS
from tests.search.oracle import facet_counts, in_range, matches, values

HANDPICKED = ["锂电", "产线", "生产线", "锂电池隔膜", "设备更新", "智能化改造", "流动资金", "隔膜", "技术改造",
              "首贷", "光纤", "数据中心", "液压元件", "滕州市", "贷款", "融资租赁", "设备抵押", "专精特新",
              "重大项目", "正极材料", "锂电 设备", "锂", "池", "车间 贷款", "不存在的词", "高新区", "信用"]


def _random_substrings(docs, n=60, seed=11):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        title = rng.choice(docs)["title"]
        length = rng.randint(2, 5)
        start = rng.randint(0, max(0, len(title) - length))
        out.append(title[start:start + length])
    return out


def _all_refs(backend, **kwargs) -> list[str]:
    refs, page = [], 1
    while True:
        result = backend.search(SearchQuery(per_page=100, page=page, **kwargs))
        refs += result.refs
        if page * 100 >= result.total:
            return refs
        page += 1


def test_text_total_equals_substring_count(corpus, corpus_docs):
    queries = HANDPICKED + _random_substrings(corpus_docs)
    for text in queries:
        expected = {d["ref"] for d in corpus_docs if matches(d, text, SYNONYMS)}
        result = corpus.search(SearchQuery(text=text, per_page=100))
        assert result.total == len(expected), text
        assert set(result.refs) <= expected, text
    # The oracle is not vacuous: most queries find something and some find nothing.
    assert sum(any(matches(d, q, SYNONYMS) for d in corpus_docs) for q in queries) > len(queries) - 5


def test_lithium_finds_lithium_battery_separators_and_production_line_finds_lines(corpus, corpus_docs):
    result = corpus.search(SearchQuery(text="锂电", per_page=100))
    titles = {d["ref"]: d["title"] for d in corpus_docs}
    assert any("锂电池隔膜" in titles[r] for r in _all_refs(corpus, text="锂电"))
    assert result.total > 0
    lines = _all_refs(corpus, text="产线")
    assert any("生产线" in titles[r] for r in lines)
    hit = corpus.search(SearchQuery(text="锂电池隔膜", per_page=1)).hits[0]
    assert "<em>锂电池隔膜</em>" in hit.highlights["title"][0]


def test_a_configured_synonym_widens(corpus, corpus_docs, make_backend):
    plain = make_backend(synonyms=())
    plain.rebuild("demand", corpus_docs)
    narrow = plain.search(SearchQuery(text="技改")).total
    wide = corpus.search(SearchQuery(text="技改")).total
    assert narrow == sum(matches(d, "技改") for d in corpus_docs)
    assert wide == sum(matches(d, "技改") or matches(d, "技术改造") for d in corpus_docs)
    assert wide > narrow > 0


@pytest.mark.parametrize("filters", [
    {"district": "滕州市"},
    {"district": ["滕州市", "薛城区"], "purpose": "equipment"},
    {"collateral": "none", "status": "published"},
    {"cluster": "锂电", "financing_type": ["loan", "leasing"]},
    {"amount_band": "100-500万元", "size": "small"},
])
def test_filters_and_facet_counts_agree_with_counting(corpus, corpus_docs, filters):
    facets = ["district", "cluster", "purpose", "financing_type", "collateral", "status", "amount_band"]
    result = corpus.search(SearchQuery(filters=filters, facets=facets, per_page=5))
    wanted = [d for d in corpus_docs
              if all(set(values(d, k)) & ({v} if isinstance(v, str) else set(v)) for k, v in filters.items())]
    assert result.total == len(wanted) > 0
    for facet in facets:
        assert result.facets[facet] == facet_counts(wanted, facet), facet
    # Facet order: largest count first.
    counts = list(result.facets["district"].values())
    assert counts == sorted(counts, reverse=True)


def test_text_filters_and_facets_together(corpus, corpus_docs):
    result = corpus.search(SearchQuery(text="设备", filters={"district": "市中区"}, facets=["collateral"]))
    wanted = [d for d in corpus_docs if matches(d, "设备", SYNONYMS) and d["district"] == "市中区"]
    assert result.total == len(wanted) > 0
    assert result.facets["collateral"] == facet_counts(wanted, "collateral")


@pytest.mark.parametrize(("key", "lo", "hi"), [
    ("amount", 100, 1000), ("amount", None, 80), ("amount", 5000, None), ("term", 24, 36),
    ("rate", Decimal("3.65"), Decimal("4.35")), ("amount", Decimal("99.9999"), Decimal("100.0001")),
])
def test_ranges(corpus, corpus_docs, key, lo, hi):
    refs = _all_refs(corpus, ranges={key: (lo, hi)})
    expected = {d["ref"] for d in corpus_docs if in_range(d, key, lo, hi)}
    assert set(refs) == expected and len(refs) == len(expected) > 0


def test_sorts(corpus, corpus_docs):
    by_ref = {d["ref"]: d for d in corpus_docs}
    newest = _all_refs(corpus, filters={"status": "published"}, sort="newest")
    times = [datetime.fromisoformat(by_ref[r]["created_at"]) for r in newest]
    assert times == sorted(times, reverse=True) and len(newest) == sum(d["status"] == "published" for d in corpus_docs)
    amounts = [by_ref[r]["amount_max"] for r in _all_refs(corpus, text="贷款", sort="amount")]
    assert amounts == sorted(amounts, reverse=True)
    ascending = [by_ref[r]["amount_min"] for r in _all_refs(corpus, sort="amount_asc")]
    assert ascending == sorted(ascending)
    scores = [h.score for h in corpus.search(SearchQuery(text="锂电池", per_page=50)).hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


@pytest.mark.parametrize("sort", ["relevance", "newest", "amount"])
def test_pagination_is_stable_and_complete(corpus, corpus_docs, sort):
    whole = corpus.search(SearchQuery(text="贷款", sort=sort, per_page=100)).refs
    total = corpus.search(SearchQuery(text="贷款", sort=sort)).total
    paged = []
    for page in range(1, total // 7 + 2):
        paged += corpus.search(SearchQuery(text="贷款", sort=sort, per_page=7, page=page)).refs
    assert len(paged) == len(set(paged)) == total
    assert paged[:len(whole)] == whole
    assert corpus.search(SearchQuery(text="贷款", page=total // 20 + 5)).hits == []


def test_bad_queries_are_query_errors_never_crashes(corpus):
    for kwargs in ({"text": '"锂电'}, {"text": "x" * 10_000}, {"page": -1}, {"filters": {"colour": "red"}},
                   {"text": "()[]{}^~*?:\\/"}):
        with pytest.raises(QueryError):
            corpus.search(SearchQuery(**kwargs))
    # Odd but valid input is searched, not rejected.
    for text in ("锂电(池)*", "AND OR NOT", "-锂电", "a" * 200, "锂电~2"):
        assert corpus.search(SearchQuery(text=text)).total >= 0


def test_upsert_replaces_and_delete_removes(make_backend, corpus_docs):
    backend = make_backend()
    assert backend.search(SearchQuery(text="锂电")).total == 0  # an empty index answers, it does not fail
    backend.index("demand", corpus_docs[:10])
    changed = dict(corpus_docs[0], title="全新的标题氢能源", keywords=[])
    backend.index("demand", [changed, changed])
    assert backend.count("demand") == 10
    assert backend.search(SearchQuery(text="氢能源")).refs == [changed["ref"]]
    backend.delete("demand", [changed["ref"], "dm-missing"])
    assert backend.count("demand") == 9 and backend.search(SearchQuery(text="氢能源")).total == 0
    progress = []
    assert backend.rebuild("demand", corpus_docs[:25], progress=progress.append) == 25
    assert sum(progress) == 25 and backend.count("demand") == 25
    assert backend.ping() and backend.health()["documents"]["demand"] == 25


def test_products_match_by_range_overlap_and_open_targets(make_backend):
    from search.documents import ANY, product_document
    from search.synthetic import products

    docs = [product_document(p) for p in products(300, seed=3)]
    backend = make_backend()
    backend.rebuild("product", docs)
    # "Which products can lend 800 万元 for 36 months to a 滕州市 enterprise?"
    query = SearchQuery(doc_type="product", filters={"district": ["滕州市", ANY]},
                        ranges={"amount": (800, 800), "term": (36, 36)}, facets=["kind"], per_page=100)
    result = backend.search(query)
    wanted = [d for d in docs if in_range(d, "amount", 800, 800) and in_range(d, "term", 36, 36)
              and {"滕州市", ANY} & set(d["district"])]
    assert result.total == len(wanted) > 0 and set(result.refs) == {d["ref"] for d in wanted}
    assert result.facets["kind"] == facet_counts(wanted, "kind")
    loans = backend.search(SearchQuery(text="技改贷", doc_type="product", filters={"kind": "loan"}, per_page=100))
    assert loans.total == sum(matches(d, "技改贷", SYNONYMS) and d["kind"] == "loan" for d in docs) > 0
