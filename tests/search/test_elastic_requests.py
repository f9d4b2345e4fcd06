"""The Elasticsearch backend, tested by the exact requests its client sends (a recording node, canned answers)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from search import make_backend
from search.backend import SearchUnavailable
from search.elastic import ElasticBackend, mappings
from search.query import SearchQuery
from tests.search.recording import RecordingNode, answer, recording_backend

V = "mm-demand-v1700000000000000000"
DOC = {"type": "demand", "ref": "dm-1", "title": "锂电池隔膜生产线", "description": "", "keywords": ["锂电", "滕州市"],
       "district": "滕州市", "collateral": ["none", "ip"], "amount_min": Decimal("1500.5"),
       "amount_max": Decimal("1500.5"), "term_min": 36, "term_max": 36, "rate_min": None, "tag": [],
       "created_at": "2026-03-01T09:00:00"}
SOURCE = {"type": "demand", "ref": "dm-1", "title": "锂电池隔膜生产线", "description": "", "keywords": ["锂电", "滕州市"],
          "district": "滕州市", "collateral": ["none", "ip"], "amount_min": 1500.5, "amount_max": 1500.5,
          "term_min": 36, "term_max": 36, "created_at": "2026-03-01T09:00:00"}
BULK_OK = {"errors": False, "took": 1, "items": []}


def test_mappings_are_explicit():
    m = mappings()
    assert m["dynamic"] == "strict"
    assert m["properties"]["title"] == {"type": "text", "analyzer": "cjk"}
    assert m["properties"]["district"] == {"type": "keyword"} and m["properties"]["financing_type"] == {"type": "keyword"}
    assert m["properties"]["amount_min"] == {"type": "scaled_float", "scaling_factor": 10000}
    assert m["properties"]["term_max"] == {"type": "integer"} and m["properties"]["created_at"] == {"type": "date"}
    assert mappings("smartcn")["properties"]["description"]["analyzer"] == "smartcn"


def test_rebuild_fills_a_new_version_and_swaps_the_alias_atomically():
    backend = recording_backend()
    answer((200, {"acknowledged": True, "index": V}), (200, BULK_OK), (200, {"_shards": {"successful": 1}}),
           (200, {"mm-demand-v1": {"aliases": {"mm-demand": {}}}, V: {"aliases": {}}}),
           (200, {"acknowledged": True}),
           (200, {"mm-demand-v1": {"aliases": {}}, V: {"aliases": {"mm-demand": {}}}}),
           (200, {"acknowledged": True}))
    progress = []
    assert backend.rebuild("demand", [DOC], progress=progress.append) == 1
    assert progress == [1]
    assert RecordingNode.requests == [
        ("PUT", f"/{V}", {"mappings": mappings(), "settings": {"number_of_shards": 1, "max_result_window": 10000}}),
        ("PUT", "/_bulk?refresh=false", [{"create": {"_index": V, "_id": "dm-1"}}, SOURCE]),
        ("POST", f"/{V}/_refresh", None),
        ("GET", "/mm-demand-v*/_alias", None),
        ("POST", "/_aliases", {"actions": [{"remove": {"index": "mm-demand-v1", "alias": "mm-demand"}},
                                           {"add": {"index": V, "alias": "mm-demand"}}]}),
        ("GET", "/mm-demand-v*/_alias", None),
        ("DELETE", "/mm-demand-v1", None),
    ]


def test_rebuild_sends_bulk_in_chunks_and_tolerates_newer_documents():
    backend = recording_backend()
    docs = [dict(DOC, ref=f"dm-{i}") for i in range(1200)]
    conflict = {"errors": True, "items": [{"create": {"_id": "dm-3", "status": 409, "error": {
        "type": "version_conflict_engine_exception", "reason": "document already exists"}}}]}
    answer((200, {"acknowledged": True}), (200, conflict), (200, BULK_OK), (200, BULK_OK), (200, {}),
           (404, {"error": "no such index", "status": 404}), (200, {"acknowledged": True}),
           (200, {V: {"aliases": {"mm-demand": {}}}}))
    assert backend.rebuild("demand", docs) == 1200
    bulks = [body for method, path, body in RecordingNode.requests if path.startswith("/_bulk")]
    assert [len(b) // 2 for b in bulks] == [500, 500, 200]
    assert RecordingNode.requests[-1] == ("GET", "/mm-demand-v*/_alias", None)  # nothing old to delete


def test_the_first_write_creates_a_version_behind_the_alias():
    backend = recording_backend()
    answer((404, {"error": "no such index", "status": 404}), (200, {"acknowledged": True}),
           (200, {"acknowledged": True}), (200, BULK_OK))
    assert backend.index("demand", [DOC]) == 1
    assert RecordingNode.requests == [
        ("GET", "/mm-demand-v*/_alias", None),
        ("PUT", f"/{V}", {"mappings": mappings(), "settings": {"number_of_shards": 1, "max_result_window": 10000}}),
        ("POST", "/_aliases", {"actions": [{"add": {"index": V, "alias": "mm-demand"}}]}),
        ("PUT", "/_bulk?refresh=false", [{"index": {"_index": V, "_id": "dm-1"}}, SOURCE]),
    ]


def test_writes_during_a_rebuild_reach_both_versions_in_one_bulk():
    backend = recording_backend(refresh=True)
    answer((200, {"mm-demand-v1": {"aliases": {"mm-demand": {}}}, V: {"aliases": {}}}), (200, BULK_OK))
    loader = lambda doc_type, refs: {"dm-1": DOC, "dm-2": None}  # noqa: E731
    assert backend.apply("demand", ["dm-1", "dm-2"], loader) == (1, 1)
    assert RecordingNode.requests[1] == ("PUT", "/_bulk?refresh=true", [
        {"delete": {"_index": "mm-demand-v1", "_id": "dm-2"}}, {"index": {"_index": "mm-demand-v1", "_id": "dm-1"}},
        SOURCE,
        {"delete": {"_index": V, "_id": "dm-2"}}, {"index": {"_index": V, "_id": "dm-1"}}, SOURCE,
    ])


def test_search_request_is_phrases_filters_ranges_facets_sort_and_highlight():
    backend = recording_backend(synonyms=[["技改", "技术改造"]])
    answer((200, {"hits": {"total": {"value": 42, "relation": "eq"}, "hits": [
        {"_id": "dm-7", "_score": 3.5, "highlight": {"title": ["<em>技改</em>项目"]}},
        {"_id": "dm-9", "_score": 1.25}]},
        "aggregations": {"district": {"buckets": [{"key": "市中区", "doc_count": 3}, {"key": "滕州市", "doc_count": 9}]}}}))
    query = SearchQuery(text="技改 锂", filters={"district": ["滕州市", "市中区"], "status": "published"},
                        ranges={"amount": (100, None), "rate": (None, Decimal("4.35"))}, page=3, per_page=10,
                        facets=["district"])
    result = backend.search(query)
    phrase = lambda text, field, boost: {"match_phrase": {field: {"query": text, "boost": boost}}}  # noqa: E731
    regexp = lambda field, boost: {"regexp": {field: {"value": ".?锂.?", "boost": boost}}}  # noqa: E731
    assert RecordingNode.requests == [("POST", "/mm-demand/_search", {
        "query": {"bool": {
            "must": [
                {"bool": {"should": [phrase("技改", "title", 2.0), phrase("技改", "description", 1.0),
                                     phrase("技改", "keywords", 1.0), phrase("技术改造", "title", 2.0),
                                     phrase("技术改造", "description", 1.0), phrase("技术改造", "keywords", 1.0)],
                          "minimum_should_match": 1}},
                {"bool": {"should": [regexp("title", 2.0), regexp("description", 1.0), regexp("keywords", 1.0)],
                          "minimum_should_match": 1}},
            ],
            "filter": [{"terms": {"district": ["滕州市", "市中区"]}}, {"term": {"status": "published"}},
                       {"range": {"amount_max": {"gte": 100}}}, {"range": {"rate_min": {"lte": 4.35}}}],
        }},
        "from": 20, "size": 10, "track_total_hits": True, "_source": False,
        "sort": ["_score", {"ref": "asc"}],
        "aggs": {"district": {"terms": {"field": "district", "size": 1000}}},
        "highlight": {"pre_tags": ["<em>"], "post_tags": ["</em>"], "encoder": "html",
                      "fields": {"title": {"number_of_fragments": 1, "fragment_size": 100},
                                 "description": {"number_of_fragments": 1, "fragment_size": 100}}},
    })]
    assert result.total == 42 and result.refs == ["dm-7", "dm-9"] and result.hits[0].score == 3.5
    assert result.hits[0].highlights == {"title": ["<em>技改</em>项目"]}
    assert result.facets == {"district": {"滕州市": 9, "市中区": 3}}


def test_a_query_without_text_lists_newest_first_over_everything():
    backend = recording_backend()
    empty = (200, {"hits": {"total": {"value": 0}, "hits": []}})
    answer(empty, empty)
    backend.search(SearchQuery(doc_type="product", sort="amount"))
    backend.search(SearchQuery(doc_type="organization"))
    bodies = [body for _, _, body in RecordingNode.requests]
    assert RecordingNode.requests[0][1] == "/mm-product/_search"
    assert bodies[0] == {"query": {"match_all": {}}, "from": 0, "size": 20, "track_total_hits": True, "_source": False,
                         "sort": [{"amount_max": {"order": "desc"}}, {"ref": "asc"}]}
    assert bodies[1]["sort"] == [{"created_at": {"order": "desc"}}, {"ref": "asc"}]


def test_failures_become_search_unavailable_and_a_missing_index_is_empty():
    backend = recording_backend()
    answer((404, {"error": {"type": "index_not_found_exception"}, "status": 404}))
    assert backend.search(SearchQuery(text="锂电", facets=["status"])).total == 0
    answer((503, {"error": "unavailable", "status": 503}))
    with pytest.raises(SearchUnavailable):
        backend.search(SearchQuery(text="锂电"))
    answer((200, {V: {"aliases": {"mm-demand": {}}}}), (200, {"errors": True, "items": [
        {"index": {"_id": "dm-1", "status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}}]}))
    with pytest.raises(SearchUnavailable, match="mapper_parsing_exception"):
        backend.index("demand", [DOC])
    answer((200, {V: {"aliases": {"mm-demand": {}}}}), (500, {"error": "boom", "status": 500}))
    with pytest.raises(SearchUnavailable):
        backend.delete("demand", ["dm-1"])


def test_ping_count_and_the_factory():
    backend = recording_backend()
    answer((200, {"count": 7}))
    assert backend.count("demand") == 7 and RecordingNode.requests[-1][:2] == ("POST", "/mm-demand/_count")
    answer((200, {}))
    assert backend.ping() is True
    answer((500, {}))
    assert backend.ping() is False
    es = make_backend({"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": "http://es.test:9200",
                       "SEARCH_ANALYZER": "smartcn"}, synonyms=[["a", "b"]])
    assert isinstance(es, ElasticBackend) and es.analyzer == "smartcn" and es.synonyms == (("a", "b"),)
    with pytest.raises(ValueError):
        make_backend({"SEARCH_BACKEND": "elasticsearch"})
    with pytest.raises(ValueError):
        make_backend({"SEARCH_BACKEND": "solr"})
