"""Journeys: register → approve by the right bureau → log in, for each kind of organisation."""
import pytest

from models import OrgKind
from tests import factories
from tests.browser.helpers import login, logout, screenshot


def fill_registration(page, *, kind: str, name: str, username: str, district: str | None = None):
    page.goto("/register")
    page.select_option("#kind", kind)
    page.fill("#org_name", name)
    if kind == "enterprise":
        page.select_option("#district", district)
        page.fill("#uscc", factories.valid_uscc())
        page.select_option("#industry", "锂电")
        page.select_option("#size", "small")
        page.fill("#revenue", "6800")
        page.check("input[name=tags][value=专精特新]")
    page.fill("#contact_name", "王经理")
    page.fill("#contact_phone", "13912345678")
    page.fill("#name", "王强")
    page.fill("#username", username)
    page.fill("#password", "secret123")
    page.fill("#confirm", "secret123")
    with page.expect_navigation():
        page.click("button:has-text('提交注册申请')")


def test_enterprise_registers_district_bureau_approves_enterprise_logs_in(page, ctx):
    factories.make_user(factories.make_org(OrgKind.BUREAU, district="滕州市"), username="tz-bureau")
    factories.make_user(factories.make_org(OrgKind.BUREAU, district="薛城区"), username="xc-bureau")

    fill_registration(page, kind="enterprise", name="滕州锂想新能源有限公司", username="lixiang", district="滕州市")
    assert "等待" in page.inner_text("#review-state")
    screenshot(page, "registration-pending")
    logout(page)

    # Another district's bureau does not see it in its queue.
    login(page, "xc-bureau", factories.PASSWORD)
    page.click("nav .dropdown-toggle:has-text('审核')")
    with page.expect_navigation():
        page.click("nav .dropdown-item:has-text('注册审核')")
    assert "滕州锂想新能源有限公司" not in page.content()
    logout(page)

    login(page, "tz-bureau", factories.PASSWORD)
    page.click("nav .dropdown-toggle:has-text('审核')")
    with page.expect_navigation():
        page.click("nav .dropdown-item:has-text('注册审核')")
    with page.expect_navigation():
        page.click("tr:has-text('滕州锂想新能源有限公司') >> text=审核")
    with page.expect_navigation():
        page.click("button:has-text('审核通过')")
    assert "已通过" in page.inner_text(".alert-success")
    logout(page)

    login(page, "lixiang", "secret123")
    assert "发布技改项目融资需求" in page.content()
    screenshot(page, "enterprise-home")


@pytest.mark.parametrize("kind", ["bank", "fund", "guarantor"])
def test_institution_registers_city_bureau_approves_institution_logs_in(page, ctx, kind):
    factories.make_user(factories.make_org(OrgKind.BUREAU, district=None), username="city-bureau")
    fill_registration(page, kind=kind, name=f"测试{kind}机构", username=f"new-{kind}")
    assert "市工信局审核" in page.inner_text("#review-state")
    # The enterprise-only fields were hidden for an institution.
    logout(page)

    login(page, "city-bureau", factories.PASSWORD)
    page.goto("/bureau/reviews")
    with page.expect_navigation():
        page.click(f"tr:has-text('测试{kind}机构') >> text=审核")
    with page.expect_navigation():
        page.click("button:has-text('审核通过')")
    logout(page)

    login(page, f"new-{kind}", "secret123")
    expected = {"bank": "浏览融资需求项目库", "fund": "股权投资意向", "guarantor": "担保产品"}[kind]
    assert expected in page.content()


def test_wrong_passwords_lock_the_account_with_a_clear_message(page, ctx):
    factories.make_user(factories.make_enterprise(), username="careless")
    for _ in range(5):
        login(page, "careless", "wrong-password")
    assert "已被锁定" in page.inner_text("#login-error")


def test_demo_roles_log_in_to_their_homes(page, app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "30"])
    assert result.exit_code == 0, result.output
    for username, text in [("city", "审核注册申请"), ("bureau-tengzhou", "审核注册申请"), ("bank", "浏览融资需求项目库"),
                           ("fund", "股权投资意向"), ("guarantor", "担保产品"), ("enterprise", "发布技改项目融资需求")]:
        login(page, username, "demo2026")
        assert text in page.content(), username
        screenshot(page, f"home-{username}")
        logout(page)


def test_site_is_usable_on_a_phone(browser, live_server, ctx):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto("/")
    # The navigation collapses behind a toggler on a narrow screen.
    assert page.is_visible(".navbar-toggler")
    page.click(".navbar-toggler")
    page.click("text=登录")
    assert page.is_visible("#username")
    screenshot(page, "phone-login")
    context.close()


def test_main_pages_raise_no_csp_violation(page, ctx):
    # Any CSP violation is reported on the console, which the page fixture turns into a failure.
    factories.make_user(factories.make_org(OrgKind.BUREAU, district=None), username="csp-city")
    for url in ("/", "/login", "/register"):
        page.goto(url)
    login(page, "csp-city", factories.PASSWORD)
    for url in ("/", "/bureau/reviews", "/bureau/organizations", "/bureau/institutions/new", "/account/"):
        page.goto(url)
        assert page.locator("h1").count() >= 1, url
