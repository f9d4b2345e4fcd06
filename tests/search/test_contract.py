"""The contract every backend keeps, Elasticsearch through the recording node included."""
from __future__ import annotations

import pytest

from search.backend import SearchBackend
from search.query import QueryError, SearchQuery, SearchResult


def test_an_empty_index_answers_with_an_empty_result(any_backend):
    assert isinstance(any_backend, SearchBackend)
    result = any_backend.search(SearchQuery(text="锂电 设备", facets=["district", "collateral"], doc_type="product"))
    assert isinstance(result, SearchResult)
    assert result.total == 0 and result.hits == [] and result.facets == {"district": {}, "collateral": {}}
    assert result.as_json() == {"total": 0, "hits": [], "facets": {"district": {}, "collateral": {}}}


@pytest.mark.parametrize("kwargs", [{"text": '"锂电'}, {"text": "锂" * 10_000}, {"page": -1},
                                    {"filters": {"colour": "red"}}, {"per_page": 1000}, {"sort": "random"}])
def test_bad_queries_fail_before_reaching_any_backend(any_backend, kwargs):
    with pytest.raises(QueryError) as info:
        any_backend.search(SearchQuery(**kwargs))
    assert info.value.message


def test_health_names_the_backend(any_backend):
    health = any_backend.health()
    assert health["backend"] in ("embedded", "elasticsearch") and isinstance(health["ok"], bool)
