"""The searchable list pages: text, facets, sort, highlights, bookmarkable URLs, the reveal rule and the fallback."""
from __future__ import annotations

import re
import socket
from decimal import Decimal

import pytest

from models import OrgKind, OrgStatus
from search.backend import make_backend
from tests import factories

SCRIPT = "<script>alert(1)</script>"


def refs_on(text: str) -> list[str]:
    return re.findall(r'<tr class="pool-row" data-ref="([^"]+)"', text)


@pytest.fixture
def pool(world):
    """Published demands of two enterprises, a submitted one and a draft."""
    from datetime import datetime, timedelta

    ent, ent_b = world.enterprise.org, world.enterprise_b.org
    ent.name = "枣庄鲁南锂电科技有限公司"
    at = iter(datetime(2026, 11, 1, 9) + timedelta(hours=i) for i in range(10))
    d = {
        "lithium": factories.make_demand(ent, status="published", title="锂电池生产线智能化改造融资",
                                         description="新建锂电池模组产线，购置激光焊接设备", amount=Decimal(3000),
                                         purpose="smart_upgrade", published_at=next(at)),
        "lithium_green": factories.make_demand(ent_b, status="published", title="锂电回收绿色化改造",
                                               description="废旧锂电回收", amount=Decimal(800), purpose="green",
                                               published_at=next(at)),
        "cement": factories.make_demand(ent_b, status="published", title="水泥窑协同处置项目",
                                        description="设备更新", amount=Decimal(5000), purpose="equipment",
                                        published_at=next(at)),
        "xss": factories.make_demand(ent, status="published", title=f"{SCRIPT}锂电材料项目",
                                     description=f"描述{SCRIPT}<b>锂电</b>", amount=Decimal(120),
                                     published_at=next(at)),
        "submitted": factories.make_demand(ent, status="submitted", title="锂电待审需求"),
        "draft": factories.make_demand(ent, status="draft", title="锂电草稿需求"),
    }
    return d


def test_text_search_finds_published_demands_only_with_counts_beside_the_filters(world, pool, login_as):
    bank = login_as(world.bank)
    text = bank.get("/demands/pool?q=锂电").text
    assert set(refs_on(text)) == {pool["lithium"].ref, pool["lithium_green"].ref, pool["xss"].ref}
    assert "共 3 项" in text
    # Facet counts sit in the filter options: 滕州市 has two of the hits, 薛城区 one.
    assert "滕州市（2）" in text and "薛城区（1）" in text and "绿色化改造（1）" in text
    assert "<mark>锂电</mark>" in text


def test_two_facets_narrow_and_the_url_keeps_the_whole_query(world, pool, login_as):
    bank = login_as(world.bank)
    text = bank.get("/demands/pool?q=锂电&district=滕州市&purpose=smart_upgrade&sort=amount").text
    assert refs_on(text) == [pool["lithium"].ref, pool["xss"].ref]
    # The form shows the query back, so the bookmarked page is the same page.
    assert 'value="锂电"' in text and re.search(r'<option value="滕州市" selected>', text)
    assert re.search(r'<option value="amount" selected>', text)


def test_sort_by_amount_and_newest(world, pool, login_as):
    bank = login_as(world.bank)
    by_amount = refs_on(bank.get("/demands/pool?sort=amount").text)
    assert by_amount == [pool[k].ref for k in ("cement", "lithium", "lithium_green", "xss")]
    newest = refs_on(bank.get("/demands/pool?sort=newest").text)
    assert newest[0] == pool["xss"].ref and len(newest) == 4


def test_pages_keep_the_query_in_their_links(world, login_as):
    for i in range(23):
        factories.make_demand(world.enterprise.org, status="published", title=f"锂电设备需求{i}", commit=False)
    from models import db_session

    db_session.commit()
    bank = login_as(world.bank)
    first = bank.get("/demands/pool?q=锂电&district=滕州市").text
    link = re.search(r'href="([^"]*page=2[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "q=%E9%94%82%E7%94%B5" in link and "district=" in link
    second = bank.get(link).text
    assert len(refs_on(first)) == 20 and len(refs_on(second)) == 3
    assert not set(refs_on(first)) & set(refs_on(second))


def test_highlights_escape_everything_but_the_marks(world, pool, login_as):
    text = login_as(world.bank).get("/demands/pool?q=锂电").text
    assert SCRIPT not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>锂电</mark>" in text
    assert "&lt;b&gt;<mark>锂电</mark>&lt;/b&gt;" in text


@pytest.mark.parametrize("role", ["bank", "fund", "guarantor"])
def test_institutions_never_find_a_demand_by_the_enterprise_name_or_credit_code(world, pool, login_as, role):
    client = login_as(getattr(world, role))
    ent = world.enterprise.org
    for text in (ent.name, "鲁南锂电科技", ent.uscc, ent.contact_name):
        page = client.get("/demands/pool", query_string={"q": text}).text
        assert refs_on(page) == [], text
        results = page.split('id="pool-search"', 1)[1].split("</form>", 1)[1]  # the search box shows back what was typed
        assert ent.name not in results and ent.uscc not in results
    # The same demands are found by what they are about.
    assert pool["lithium"].ref in refs_on(client.get("/demands/pool?q=激光焊接").text)


@pytest.mark.parametrize("path", ["/demands/pool", "/products/", "/bureau/organizations"])
@pytest.mark.parametrize("args, message", [
    ({"q": '"锂电'}, "引号"),
    ({"q": "锂" * 10_000}, "搜索词过长"),
    ({"page": "-1"}, "页码必须是大于或等于1的整数"),
    ({"page": "abc"}, "页码必须是大于或等于1的整数"),
    ({"colour": "red"}, "不支持的筛选条件：colour"),
    ({"sort": "price"}, "不支持的排序方式"),
])
def test_bad_queries_get_a_chinese_message_at_the_search_field(world, login_as, path, args, message):
    resp = login_as(world.city_bureau).get(path, query_string=args)
    assert resp.status_code == 200
    error = re.search(r'<div class="invalid-feedback d-block" id="search-error"[^>]*>([^<]*)</div>', resp.text)
    assert error and message in error.group(1), error and error.group(1)


def test_the_pool_range_filters_still_apply(world, pool, login_as):
    bank = login_as(world.bank)
    assert set(refs_on(bank.get("/demands/pool?amount_min=1000").text)) == {pool["lithium"].ref, pool["cement"].ref}
    assert refs_on(bank.get("/demands/pool?amount_min=1000&amount_max=4000").text) == [pool["lithium"].ref]
    text = bank.get("/demands/pool?amount_min=6000&amount_max=1000").text
    assert "金额的下限不能大于上限" in text


# --- the fallback ---------------------------------------------------------------------------------


def test_pool_falls_back_to_database_filters_and_says_so(world, pool, login_as, search_down):
    text = login_as(world.bank).get("/demands/pool?q=锂电&district=薛城区").text
    assert "搜索服务暂时不可用，以下为按条件筛选的结果" in text
    # The filters still hold (the text cannot be searched without the index).
    assert set(refs_on(text)) == {pool["lithium_green"].ref, pool["cement"].ref}


def test_supermarket_and_directory_fall_back_too(world, login_as, client, search_down):
    bank = world.bank.org
    factories.make_product(bank, name="锂电设备贷")
    text = client.get("/products/?q=锂电").text
    assert "搜索服务暂时不可用" in text and "共 1 个产品" in text
    text = login_as(world.district_bureau).get("/bureau/organizations").text
    assert "搜索服务暂时不可用" in text and world.enterprise.org.name in text
    assert world.enterprise_b.org.name not in text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_elasticsearch_at_a_closed_port_means_the_fallback_not_a_500(app, world, pool, login_as):
    app.extensions["search"] = make_backend({"SEARCH_BACKEND": "elasticsearch",
                                             "ELASTICSEARCH_URL": f"http://127.0.0.1:{_closed_port()}"})
    bank = login_as(world.bank)
    for path in ("/demands/pool?q=锂电", "/products/?q=锂电"):
        resp = bank.get(path)
        assert resp.status_code == 200 and "搜索服务暂时不可用" in resp.text
    resp = login_as(world.city_bureau).get("/bureau/organizations?q=锂电")
    assert resp.status_code == 200 and "搜索服务暂时不可用" in resp.text


# --- the supermarket and the directory ------------------------------------------------------------


def test_supermarket_searches_text_and_counts_products_serving_all_districts(world, client):
    bank = world.bank.org
    everywhere = factories.make_product(bank, name="技改设备贷", districts=[])
    tengzhou = factories.make_product(bank, name="滕州技改贷", districts=["滕州市"])
    elsewhere = factories.make_product(bank, name="山亭技改贷", districts=["山亭区"])
    factories.make_product(bank, name="流动资金贷", districts=[])
    text = client.get("/products/?q=技改&district=滕州市").text
    shown = re.findall(r'data-ref="([^"]+)"', text)
    assert set(shown) == {everywhere.ref, tengzhou.ref} and elsewhere.ref not in shown
    assert "共 2 个产品" in text and "<mark>技改</mark>" in text
    # 滕州市's count includes the product that serves every district.
    assert "滕州市（2）" in client.get("/products/?q=技改").text


def test_directory_searches_names_within_the_bureaus_scope(world, login_as):
    pending = factories.make_enterprise(district="滕州市", status=OrgStatus.PENDING, name="滕州华泰锂电新材料有限公司")
    factories.make_enterprise(district="薛城区", name="薛城锂电储能有限公司")
    factories.make_org(OrgKind.BANK, district="滕州市", name="锂电产业银行")
    text = login_as(world.district_bureau).get("/bureau/organizations?q=锂电").text
    assert re.findall(r'<tr data-ref="([^"]+)"', text) == [pending.ref]
    assert "待审核（1）" in text and "<mark>锂电</mark>" in text
    city = login_as(world.city_bureau).get("/bureau/organizations?q=锂电&kind=enterprise").text
    assert len(re.findall(r'<tr data-ref="([^"]+)"', city)) == 2
    assert "企业（2）" in city


def test_pool_filters_can_be_saved_as_a_subscription(world, pool, login_as):
    bank = login_as(world.bank)
    text = bank.get("/demands/pool?q=锂电&district=滕州市&purpose=equipment").text
    link = re.search(r'id="save-search" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    assert "q=" not in link
    form = bank.get(link).text
    assert re.search(r'<option selected value="滕州市">|<option value="滕州市" selected>', form)
    assert re.search(r'<option selected value="equipment">|<option value="equipment" selected>', form)
