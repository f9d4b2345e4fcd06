"""Against a real Elasticsearch (only when ELASTICSEARCH_URL is set): alias swaps and the cjk analyzer."""
from __future__ import annotations

import os
import uuid

import pytest

from search.elastic import ElasticBackend
from search.query import SearchQuery

pytestmark = pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason="ELASTICSEARCH_URL is not set")


@pytest.fixture
def live():
    backend = ElasticBackend.from_url(os.environ["ELASTICSEARCH_URL"], prefix=f"mmlive-{uuid.uuid4().hex[:8]}",
                                      refresh=True)
    yield backend
    backend.drop_all()


def _doc(ref, title):
    return {"type": "demand", "ref": ref, "title": title, "description": "", "keywords": [], "status": "published",
            "created_at": "2026-03-01T09:00:00"}


def test_the_cluster_answers_and_cjk_bigrams_find_substrings(live):
    assert live.ping()
    live.index("demand", [_doc("dm-1", "锂电池隔膜生产线设备更新贷款"), _doc("dm-2", "智能化改造项目流动资金")])
    for text, refs in [("锂电", ["dm-1"]), ("产线", ["dm-1"]), ("改造项目", ["dm-2"]), ("池隔膜", ["dm-1"]),
                       ("隔膜锂电", [])]:
        assert live.search(SearchQuery(text=text)).refs == refs, text


def test_rebuild_swaps_the_alias_and_drops_the_old_version(live):
    live.rebuild("demand", [_doc("dm-1", "旧标题")])
    live.rebuild("demand", [_doc("dm-2", "新标题")])
    versions = live._versions("demand")
    assert len(versions) == 1 and all(versions.values())
    assert live.search(SearchQuery(text="标题")).refs == ["dm-2"]
    assert live.count("demand") == 1
