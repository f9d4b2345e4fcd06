"""Journeys: a stale sign-in asks for the password before API tokens; the city bureau reads the jobs page."""
import time

from flask import Flask

from matchmaker.jobs import runner
from matchmaker.jobs.registry import JOBS
from models import OrgKind
from tests import factories
from tests.browser.helpers import login, screenshot


def _age_sign_in(page, live_server, minutes):
    """Move the signed session's last password entry back in time (the live server signs with this key)."""
    app = Flask("sign")
    app.secret_key = "browser-tests"
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    data = serializer.loads(cookie["value"])
    data["auth_at"] = time.time() - minutes * 60
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


def test_a_stale_sign_in_confirms_the_password_and_returns_to_the_tokens(page, ctx, live_server):
    factories.make_user(factories.make_org(OrgKind.BANK, district="市中区"), username="reauth-bank")
    login(page, "reauth-bank", factories.PASSWORD)
    # The browser's own requests after the page (its favicon) must not replace the aged cookie.
    page.wait_for_load_state("networkidle")
    _age_sign_in(page, live_server, 20)
    with page.expect_navigation():
        page.click("nav >> text=API 令牌")
    assert "/reauth" in page.url
    assert "请再次输入密码确认身份" in page.inner_text("h1")
    page.fill("#password", "wrong-pass1")
    with page.expect_navigation():
        page.click("button:has-text('确认')")
    assert "密码不正确" in page.inner_text("main form")
    page.fill("#password", factories.PASSWORD)
    screenshot(page, "reauth")
    with page.expect_navigation():
        page.click("button:has-text('确认')")
    assert page.url.endswith("/account/api-tokens/")
    page.fill("#name", "信贷系统")
    with page.expect_navigation():
        page.click("button:has-text('创建')")
    assert page.inner_text("#new-token").strip().startswith("mm_")


def test_the_city_bureau_reads_the_background_jobs(page, ctx, live_server):
    bureau = factories.make_org(OrgKind.BUREAU, district=None, name="枣庄市工业和信息化局")
    factories.make_user(bureau, username="jobs-city")
    runner.run_due()
    login(page, "jobs-city", factories.PASSWORD)
    page.goto("/bureau/organizations")
    with page.expect_navigation():
        page.click("text=后台任务")
    rows = page.locator("#jobs-table tbody tr[data-job]")
    assert rows.count() == len(JOBS)
    assert "成功" in page.inner_text("tr[data-job=demands-expire]")
    screenshot(page, "bureau-jobs")
