"""Journey: a bank searches the pool, narrows by two facets, opens a hit and comes back to the same page."""
import re
from decimal import Decimal

from matchmaker.search_cli import sync_all
from models import OrgKind, db_session
from tests import factories
from tests.browser.helpers import login, screenshot


def hits(page) -> list[str]:
    return page.eval_on_selector_all("tr.pool-row", "rows => rows.map(r => r.dataset.ref)")


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_bank_searches_narrows_opens_a_hit_and_comes_back(page, ctx):
    factories.make_user(factories.make_org(OrgKind.BANK, name="工商银行枣庄分行"), username="sj-bank")
    tengzhou = factories.make_enterprise(name="滕州锂想新能源有限公司", district="滕州市", industry="锂电")
    xuecheng = factories.make_enterprise(name="薛城锂源材料有限公司", district="薛城区", industry="锂电")
    for i in range(23):
        factories.make_demand(tengzhou, status="published", title=f"锂电池模组产线设备更新{i:02d}",
                              purpose="equipment", amount=Decimal(500 + 10 * i), commit=False)
    for i in range(4):
        factories.make_demand(tengzhou, status="published", title=f"锂电储能绿色化改造{i}", purpose="green",
                              commit=False)
        factories.make_demand(xuecheng, status="published", title=f"锂电正极材料扩产{i}", purpose="equipment",
                              commit=False)
        factories.make_demand(xuecheng, status="published", title=f"水泥窑协同处置{i}", commit=False)
    db_session.commit()
    assert sync_all().failed == 0  # the factories' rows reach the index the live site reads

    login(page, "sj-bank", factories.PASSWORD)
    page.goto("/demands/pool")
    page.fill("#f-q", "锂电")
    submit(page, "#search-submit")
    assert "共 35 项" in page.inner_text("#result-count")  # 水泥 too: its enterprise is in 锂电
    assert "滕州市（27）" in page.inner_text("#f-district")
    page.select_option("#f-district", "滕州市")
    submit(page, "#search-submit")
    page.select_option("#f-purpose", "equipment")
    submit(page, "#search-submit")
    assert "共 23 项" in page.inner_text("#result-count")
    assert page.locator("tr.pool-row mark").first.inner_text() in ("锂电", "锂电池")  # 锂电池 is a synonym

    submit(page, "a[rel=next]")
    results_url, results = page.url, hits(page)
    assert len(results) == 3 and "page=2" in results_url
    # The address holds the whole query and nothing empty: it can be bookmarked and shared.
    assert re.search(r"q=%E9%94%82%E7%94%B5", results_url) and "purpose=equipment" in results_url
    assert "district=%E6%BB%95" in results_url and "cluster=" not in results_url

    submit(page, "tr.pool-row a.hit-title")
    assert f"/demands/{results[0]}" in page.url
    with page.expect_navigation():
        page.go_back()
    assert page.url == results_url and hits(page) == results
    assert page.input_value("#f-q") == "锂电" and page.input_value("#f-district") == "滕州市"
    screenshot(page, "search-pool-back-to-results")
