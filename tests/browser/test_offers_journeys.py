"""Journeys of the offers: apply and answer, bid from the pool, compare and accept a package, sign and disburse,
and the bureau's list of overdue applications."""
from datetime import datetime
from decimal import Decimal

from matchmaker.offers import services
from models import OrgKind, db_session
from tests import factories
from tests.browser.helpers import login, logout, screenshot
from tests.offers.helpers import bid


def _people():
    ent = factories.make_enterprise(name="滕州华鑫智能装备有限公司", district="滕州市")
    factories.make_user(ent, username="huaxin")
    bank = factories.make_org(OrgKind.BANK, name="齐鲁银行滕州支行", district="滕州市")
    bank_user = factories.make_user(bank, username="qilu-tz")
    guarantor = factories.make_org(OrgKind.GUARANTOR, name="枣庄市融资担保有限公司", district=None)
    g_user = factories.make_user(guarantor, username="zz-danbao")
    return ent, bank, bank_user, guarantor, g_user


def test_an_enterprise_applies_to_a_product_and_the_bank_answers(page, ctx):
    ent, bank, *_ = _people()
    demand = factories.make_demand(ent, status="published", title="数控车间设备更新贷款", amount=Decimal(2000))
    product = factories.make_product(bank, name="滕州技改贷", amount_max=Decimal(3000))

    login(page, "huaxin", factories.PASSWORD)
    page.goto(f"/products/{product.ref}")
    with page.expect_navigation():
        page.click("#apply-product")
    page.select_option("#demand", demand.ref)
    page.fill("#note", "设备合同已签订，望尽快对接")
    with page.expect_navigation():
        page.click("#apply-form button[type=submit]")
    assert "已向齐鲁银行滕州支行提交申请" in page.inner_text(".alert-success")
    assert "个工作日" in page.inner_text(".deadline")
    logout(page)

    login(page, "qilu-tz", factories.PASSWORD)
    page.click("nav .dropdown-toggle:has-text('对接')")
    with page.expect_navigation():
        page.click("nav >> text=申请与方案")
    with page.expect_navigation():
        page.click("text=数控车间设备更新贷款")
    # The enterprise applied: the bank sees who it is.
    assert "滕州华鑫智能装备有限公司" in page.inner_text(".enterprise-card")
    page.fill("#amount", "2500")
    page.fill("#rate", "4.1")
    page.fill("#conditions", "设备抵押，按季付息")
    with page.expect_navigation():
        page.click("#answer-form button[type=submit]")
    assert "金额不能超过需求金额 2000 万元" in page.inner_text("[data-field=amount]")
    assert page.input_value("#conditions") == "设备抵押，按季付息"
    page.fill("#amount", "1800")
    with page.expect_navigation():
        page.click("#answer-form button[type=submit]")
    assert "方案已提交" in page.inner_text(".alert-success")
    assert "待企业确认" in page.inner_text("h1")


def test_a_bank_bids_from_the_pool(page, ctx):
    ent, bank, *_ = _people()
    factories.make_demand(ent, status="published", title="锂电隔膜产线扩能融资", amount=Decimal(3000))
    login(page, "qilu-tz", factories.PASSWORD)
    page.goto("/demands/pool")
    assert "还可报价 3 家" in page.inner_text(".pool-row")
    with page.expect_navigation():
        page.click("text=锂电隔膜产线扩能融资")
    assert "滕州华鑫" not in page.inner_text(".enterprise-card")  # anonymous until applied or accepted
    with page.expect_navigation():
        page.click("#bid")
    page.fill("#amount", "2000")
    page.fill("#rate", "3.95")
    page.fill("#term_months", "36")
    page.check("input[name=collateral][value=property]")
    with page.expect_navigation():
        page.click("#offer-form button[type=submit]")
    assert "方案已提交" in page.inner_text(".alert-success")
    page.goto("/demands/pool")
    assert "还可报价 2 家" in page.inner_text(".pool-row")


def test_the_enterprise_compares_and_accepts_a_loan_with_a_guarantee_then_the_bank_signs_and_disburses(page, ctx):
    ent, bank, bank_user, guarantor, g_user = _people()
    other = factories.make_org(OrgKind.BANK, name="日照银行枣庄分行", district="市中区")
    other_user = factories.make_user(other, username="rizhao")
    demand = factories.make_demand(ent, status="published", title="智能产线技改融资", amount=Decimal(2000))
    loan = bid(bank_user, demand, amount=Decimal(1500), rate=Decimal("3.85"), conditions="设备抵押")
    bid(g_user, demand, amount=Decimal(1500), rate=Decimal("1.2"), kind="guarantee", conditions="反担保：股权质押")
    bid(other_user, demand, amount=Decimal(2000), rate=Decimal("4.6"), conditions="不动产抵押")
    page.on("dialog", lambda d: d.accept())

    login(page, "huaxin", factories.PASSWORD)
    page.goto(f"/demands/{demand.ref}")
    with page.expect_navigation():
        page.click("text=比较方案")
    table = page.inner_text(".compare-table")
    assert "齐鲁银行滕州支行" in table and "枣庄市融资担保有限公司" in table and "贷款贴息估算" in table
    screenshot(page, "offers-compare")
    col = page.locator("th.offer-col").all_inner_texts()
    loan_i = next(i for i, t in enumerate(col) if "齐鲁银行" in t)
    g_i = next(i for i, t in enumerate(col) if "担保" in t)
    with page.expect_navigation():
        page.locator("button.accept").nth(loan_i).click()
    assert "已接受该方案" in page.inner_text(".alert-success")
    # The accepted offer no longer has buttons: the guarantee's are now first among the remaining ones.
    with page.expect_navigation():
        page.locator("button.accept").nth(0 if g_i < loan_i else g_i - 1).click()
    page.locator("input[name=reason]").first.fill("利率较高，已足额")
    with page.expect_navigation():
        page.locator("button.reject").first.click()
    assert "已接受融资 1,500" in page.inner_text("#coverage")
    screenshot(page, "offers-compare-accepted")
    logout(page)

    login(page, "qilu-tz", factories.PASSWORD)
    page.goto(f"/offers/{loan.ref}")
    assert "滕州华鑫智能装备有限公司" in page.inner_text(".enterprise-card")  # revealed on acceptance
    page.fill("#signed_amount", "1500")
    page.fill("#signed_on", "2026-11-02")
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    assert "签约已登记" in page.inner_text(".alert-success")
    for amount, day in (("1000", "2026-11-05"), ("500", "2026-11-12")):
        page.fill("#amount", amount)
        page.fill("#disbursed_on", day)
        with page.expect_navigation():
            page.click("#disburse-form button[type=submit]")
    assert page.locator(".disbursement-row").count() == 2
    assert "1,500" in page.inner_text(".disbursed-amount")
    assert "贷款贴息" in page.inner_text("#deal")
    screenshot(page, "offers-deal")
    db_session.expire_all()
    db_session.refresh(demand)
    assert demand.status == "funded"


def test_the_bureau_sees_an_overdue_application(page, ctx):
    ent, bank, *_ = _people()
    bureau = factories.make_org(OrgKind.BUREAU, district="滕州市", name="滕州市工业和信息化局")
    factories.make_user(bureau, username="bureau-tz")
    demand = factories.make_demand(ent, status="published", title="绿色工厂改造贷款")
    product = factories.make_product(bank)
    services.apply(ent.users[0], demand, product, now=datetime(2026, 10, 12, 2))
    login(page, "bureau-tz", factories.PASSWORD)
    page.click("nav .dropdown-toggle:has-text('审核')")
    with page.expect_navigation():
        page.click("nav .dropdown-item:has-text('逾期未答复')")
    row = page.inner_text(".overdue-row")
    assert "齐鲁银行滕州支行" in row and "绿色工厂改造贷款" in row and "个工作日" in row
    screenshot(page, "offers-overdue")
