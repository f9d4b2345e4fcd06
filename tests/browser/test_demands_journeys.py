"""Journey: project → demand → returned by the district bureau → corrected → published → found by a bank."""
from datetime import date, timedelta

from models import OrgKind
from tests import factories
from tests.browser.helpers import login, logout, screenshot


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_demand_from_project_to_the_pool(page, ctx):
    factories.make_user(factories.make_enterprise(name="滕州锂想新能源有限公司", district="滕州市", industry="锂电"),
                        username="dm-ent")
    factories.make_user(factories.make_org(OrgKind.BUREAU, district="滕州市"), username="dm-bureau")
    factories.make_user(factories.make_org(OrgKind.BANK, name="农业银行滕州支行"), username="dm-bank")

    login(page, "dm-ent", factories.PASSWORD)
    page.goto("/projects/new")
    page.fill("#name", "锂电池隔膜生产线智能化改造")
    page.select_option("#category", "smart_upgrade")
    page.fill("#total_investment", "5000")
    page.fill("#equipment_investment", "3200")
    page.fill("#start_on", date.today().isoformat())
    page.fill("#end_on", (date.today() + timedelta(days=400)).isoformat())
    submit(page, "button:has-text('保存')")
    assert "320" in page.content()  # the equipment subsidy estimate: 10% of 3,200 万元

    page.goto("/demands/new")
    page.fill("#title", "隔膜生产线设备更新贷款")
    page.select_option("#project", label="锂电池隔膜生产线智能化改造")
    page.fill("#description", "购置隔膜拉伸设备及在线检测系统")
    page.fill("#amount", "-5")  # a mistake the form must catch at its field
    page.fill("#term_months", "36")
    page.select_option("#purpose", "equipment")
    page.check("input[name=financing_types][value=loan]")
    page.check("input[name=collateral][value=equipment]")
    page.fill("#valid_until", (date.today() + timedelta(days=90)).isoformat())
    page.fill("#contact_name", "王经理")
    page.fill("#contact_phone", "13912345678")
    submit(page, "button:has-text('保存')")
    assert page.locator("[data-field=amount]").count() == 1
    assert page.input_value("#title") == "隔膜生产线设备更新贷款"  # nothing typed is lost
    page.fill("#amount", "2000")
    submit(page, "button:has-text('保存')")
    demand_url = page.url
    submit(page, "button:has-text('提交审核')")
    logout(page)

    # The district bureau returns it with a reason.
    login(page, "dm-bureau", factories.PASSWORD)
    page.goto("/demands/review")
    page.fill("input[name=note]", "请补充设备清单和报价")
    submit(page, "button:has-text('退回修改')")
    logout(page)

    # The enterprise sees the reason, corrects and resubmits.
    login(page, "dm-ent", factories.PASSWORD)
    page.goto(demand_url)
    assert "请补充设备清单和报价" in page.content()
    page.goto(demand_url + "/edit")
    page.fill("#description", "购置隔膜拉伸设备及在线检测系统；设备清单：双向拉伸机2台、在线测厚仪1套")
    submit(page, "button:has-text('保存')")
    submit(page, "button:has-text('提交审核')")
    logout(page)

    login(page, "dm-bureau", factories.PASSWORD)
    page.goto("/demands/review")
    submit(page, "button:has-text('审核发布')")
    logout(page)

    # A bank finds it in the pool, without the enterprise's name.
    login(page, "dm-bank", factories.PASSWORD)
    page.goto("/demands/pool")
    page.select_option("select[name=district]", "滕州市")
    page.select_option("select[name=purpose]", "equipment")
    submit(page, "button:has-text('筛选')")
    submit(page, "a:has-text('隔膜生产线设备更新贷款')")
    text = page.inner_text("main")
    assert "2,000" in text and "锂电" in text and "滕州市" in text
    assert "滕州锂想新能源有限公司" not in page.content() and "13912345678" not in page.content()
    screenshot(page, "demand-seen-by-bank")
