"""Journey: a bank publishes a product; an anonymous visitor finds it in the supermarket by filtering."""
from models import OrgKind
from tests import factories
from tests.browser.helpers import login, logout, screenshot


def test_bank_publishes_a_product_and_a_visitor_finds_it(page, ctx):
    bank = factories.make_org(OrgKind.BANK, name="齐鲁银行滕州支行", district="滕州市")
    factories.make_user(bank, username="qilu-tz")
    other = factories.make_org(OrgKind.BANK, name="日照银行枣庄分行", district="市中区")
    factories.make_product(other, name="山亭专属贷", districts=["山亭区"], purposes=["equipment"])

    login(page, "qilu-tz", factories.PASSWORD)
    page.click("nav .dropdown-toggle:has-text('金融产品')")
    with page.expect_navigation():
        page.click("nav .dropdown-item:has-text('我的产品')")
    with page.expect_navigation():
        page.click("text=发布产品")
    page.select_option("#kind", "loan")
    page.fill("#name", "滕州技改设备贷")
    page.fill("#description", "支持滕州市企业购置智能化设备，可叠加贷款贴息。")
    page.fill("#amount_min", "3000")
    page.fill("#amount_max", "1000")
    page.fill("#term_min", "12")
    page.fill("#term_max", "60")
    page.fill("#rate_min", "3.6")
    page.fill("#rate_max", "4.9")
    page.check("input[name=collateral][value=equipment]")
    page.check("input[name=districts][value=滕州市]")
    page.check("input[name=purposes][value=equipment]")
    page.fill("#tags", "技改贷 设备贷")
    with page.expect_navigation():
        page.click("button:has-text('发布')")
    # Min above max: the message sits at the field and everything typed is still there.
    assert "最高金额不能小于最低金额" in page.inner_text("[data-field=amount_max]")
    assert page.input_value("#name") == "滕州技改设备贷"
    assert page.is_checked("input[name=districts][value=滕州市]")
    screenshot(page, "product-form-errors")
    page.fill("#amount_min", "100")
    with page.expect_navigation():
        page.click("button:has-text('发布')")
    assert "已发布产品" in page.inner_text(".alert-success")
    assert "滕州技改设备贷" in page.inner_text("h1")
    # The institution's other pages load without a script-policy violation (console errors fail the test).
    for url in ("/my-products", "/saved-searches", "/inbox", "/"):
        page.goto(url)
        assert page.locator("h1").count() >= 1, url
    logout(page)

    # An anonymous visitor, from the front page.
    page.goto("/")
    with page.expect_navigation():
        page.click("nav >> text=金融产品超市")
    page.select_option("#f-district", "滕州市")
    page.select_option("#f-purpose", "equipment")
    page.fill("#f-amount", "800")
    with page.expect_navigation():
        page.click("#product-filters button[type=submit]")
    listing = page.inner_text("#product-list")
    assert "滕州技改设备贷" in listing and "山亭专属贷" not in listing
    assert "district=" in page.url and "amount=800" in page.url
    screenshot(page, "supermarket-filtered")
    with page.expect_navigation():
        page.click("#product-list >> text=滕州技改设备贷")
    assert "齐鲁银行滕州支行" in page.inner_text("#institution")
    assert "暂无记录" in page.inner_text("#response-record")
    assert page.locator("text=修改").count() == 0
    screenshot(page, "product-page")

    # Another district's filter leaves it out.
    page.goto("/products/?district=山亭区")
    assert "滕州技改设备贷" not in page.inner_text("#product-list")
