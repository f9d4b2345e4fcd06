"""Query validation: every bad input is a QueryError with a Chinese message, never a crash."""
import re

import pytest

from search.query import QueryError, SearchQuery, SearchResult, parse_filter_args

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"text": '"锂电池'}, "text"),
    ({"text": "锂电 “设备"}, "text"),
    ({"text": "锂" * 10_000}, "text"),
    ({"text": "？？"}, "text"),
    ({"text": " ".join("锂电" for _ in range(21))}, "text"),
    ({"page": -1}, "page"),
    ({"page": 0}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": True}, "page"),
    ({"page": 10_000}, "page"),
    ({"per_page": 0}, "per_page"),
    ({"per_page": 101}, "per_page"),
    ({"filters": {"colour": "red"}}, "filter.colour"),
    ({"filters": {"district": ""}}, "filter.district"),
    ({"filters": {"district": []}}, "filter.district"),
    ({"filters": {"district": [None]}}, "filter.district"),
    ({"filters": {"district": "区" * 500}}, "filter.district"),
    ({"ranges": {"weight": (1, 2)}}, "range.weight"),
    ({"ranges": {"amount": (500, 100)}}, "range.amount"),
    ({"ranges": {"amount": ("many", None)}}, "range.amount"),
    ({"ranges": {"amount": ("NaN", None)}}, "range.amount"),
    ({"ranges": {"amount": 5}}, "range.amount"),
    ({"sort": "random"}, "sort"),
    ({"facets": ["colour"]}, "facets"),
    ({"doc_type": "user"}, "type"),
])
def test_bad_queries_raise_query_error_in_chinese(kwargs, field):
    with pytest.raises(QueryError) as info:
        SearchQuery(**kwargs)
    assert info.value.field == field
    assert CHINESE.search(info.value.message)
    assert info.value.as_json() == {"field": field, "message": info.value.message}


def test_long_text_message_says_the_limit_and_the_length():
    with pytest.raises(QueryError) as info:
        SearchQuery(text="锂" * 10_000)
    assert "200" in info.value.message and "10000" in info.value.message


def test_good_query_is_normalised():
    q = SearchQuery(text="  锂电 ", filters={"district": "滕州市", "collateral": ["none", "ip", "none"]},
                    ranges={"amount": ("100", None), "term": (None, None)}, page="2", per_page="10",
                    facets=["district", "district"])
    assert q.text == "锂电" and q.page == 2 and q.per_page == 10 and q.offset == 10
    assert q.filters == {"district": ("滕州市",), "collateral": ("none", "ip")}
    assert list(q.ranges) == ["amount"] and q.facets == ("district",)
    assert SearchQuery().effective_sort == "newest" and SearchQuery("锂电").effective_sort == "relevance"


def test_filter_args_and_result_json():
    assert parse_filter_args(["district=滕州市", "district=市中区", "purpose=green"]) == {
        "district": ["滕州市", "市中区"], "purpose": ["green"]}
    with pytest.raises(QueryError):
        parse_filter_args(["district"])
    result = SearchResult(total=1, hits=[], facets={"district": {"滕州市": 1}}, per_page=20)
    assert result.as_json() == {"total": 1, "hits": [], "facets": {"district": {"滕州市": 1}}}
    assert result.pages == 1
