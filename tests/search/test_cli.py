"""`flask search reindex|query|sync|status`, and the index following a bureau's approval after the request."""
from __future__ import annotations

import json

import pytest

from matchmaker.search_cli import get_backend
from models import OrgKind, OrgStatus, db_session, enqueue
from search.query import SearchQuery
from search.sync import pending_count
from tests import factories


@pytest.fixture
def empty_index(app, ctx):
    backend = get_backend(app)
    backend.rebuild("organization", [])
    return backend


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["search", *args], catch_exceptions=False)


def test_reindex_then_query_as_json(app, empty_index):
    banks = [factories.make_org(OrgKind.BANK, district=d, name=f"枣庄银行{d}支行") for d in ("滕州市", "滕州市", "市中区")]
    factories.make_org(OrgKind.BUREAU, name="工信局")
    result = _run(app, "reindex", "--type", "organization")
    assert result.exit_code == 0 and result.stdout == ""
    assert "organization：已索引 3 条" in result.stderr
    assert json.loads(_run(app, "reindex", "--json").stdout) == {"indexed": {"organization": 3, "demand": 0,
                                                                          "product": 0}}

    result = _run(app, "query", "枣庄银行", "--type", "organization", "--filter", "district=滕州市", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert set(out) == {"total", "hits", "facets"} and out["total"] == 2
    assert {h["ref"] for h in out["hits"]} == {banks[0].ref, banks[1].ref}
    assert all(set(h) == {"ref", "score"} and h["score"] > 0 for h in out["hits"])
    assert out["facets"]["district"] == {"滕州市": 2} and out["facets"]["kind"] == {"bank": 2}
    assert result.stdout.count("\n") == 1

    human = _run(app, "query", "枣庄银行", "--type", "organization")
    assert human.exit_code == 0 and "共 3 条" in human.stdout


@pytest.mark.parametrize("args", [["query", '"锂电', "--json"], ["query", "锂电", "--filter", "colour=red", "--json"],
                                  ["query", "锂电", "--filter", "district", "--json"],
                                  ["query", "x" * 300, "--json"], ["query", "锂电", "--page", "-1", "--json"]])
def test_bad_queries_exit_2_with_a_chinese_message_and_empty_stdout(app, empty_index, args):
    result = _run(app, *args)
    assert result.exit_code == 2 and result.stdout == "" and "查询有误" in result.stderr


def test_sync_and_status(app, empty_index):
    org = factories.make_org(OrgKind.FUND, name="枣庄产业引导基金")
    enqueue("organization", org.ref)
    db_session.commit()
    status = json.loads(_run(app, "status", "--json").stdout)
    assert status["ok"] and status["pending"] == 1 and status["backend"] == "embedded"
    result = _run(app, "sync", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["applied"] == 1 and pending_count() == 0
    assert get_backend(app).search(SearchQuery(text="引导基金", doc_type="organization")).refs == [org.ref]


def test_an_approval_reaches_the_index_after_the_request(app, world, login_as, empty_index):
    pending = factories.make_enterprise(district="滕州市", status=OrgStatus.PENDING, name="枣庄鲁南锂电科技有限公司")
    client = login_as(world.district_bureau)
    resp = client.post(f"/bureau/organizations/{pending.ref}", data={"decision": "approve"})
    assert resp.status_code == 302
    assert pending_count() == 0
    found = get_backend(app).search(SearchQuery(text="鲁南锂电", doc_type="organization"))
    assert found.refs == [pending.ref]
