"""Each main page, opened by each main role in Chromium, runs without a Content-Security-Policy violation.

Violations are caught twice: the page fixture fails on console errors (Chromium reports a blocked
script or style there), and an init script (Playwright's, not the page's) records every
`securitypolicyviolation` event, which the test reads after each page. A first test proves the
listener hears a violation when there is one.
"""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import login
from tests.security import world as W

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI || 'inline'} ${e.sourceFile || ''}:${e.lineNumber || 0}`);
});
"""


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def _open(page, path: str) -> list[str]:
    """Open `path`, wait until the page's own scripts ran, and return its violations."""
    resp = page.goto(path, wait_until="networkidle")
    assert resp is not None and resp.status == 200, f"{path}: {resp and resp.status}"
    return [f"{path}: {v}" for v in _violations(page)]


@pytest.fixture
def csp_world(ctx):
    world = W.build()
    from matchmaker.search_cli import sync_now

    sync_now(ctx)
    return world


def _pages(world) -> dict[str, list[str]]:
    o = world.obj
    search = "/demands/pool?q=%E8%AE%BE%E5%A4%87&district=" + W.A_DISTRICT
    return {
        "anonymous": ["/", "/products/", f"/products/{o['product_bank']}", "/notices/", f"/notices/{o['notice_public']}",
                      "/products/?q=%E6%B5%8B%E8%AF%95", "/login", "/register", "/scorecard", "/api/v1/docs"],
        "ent_a": ["/", f"/demands/{o['demand_a_published']}", "/demands/mine", "/demands/new", "/products/",
                  "/offers/", f"/offers/compare/{o['demand_a_published']}", f"/offers/{o['offer_bid_a']}", "/events/",
                  f"/events/{o['event_a']}", "/notices/", f"/projects/{o['project_a']}", "/inbox"],
        "bank": ["/", "/demands/pool", search, f"/demands/{o['demand_b']}", "/products/", "/my-products",
                 "/offers/", f"/offers/new/{o['demand_b']}", "/events/", f"/events/{o['event_a']}", "/notices/",
                 "/account/api-tokens/", "/account/api-tokens/webhooks", "/recommended", "/saved-searches"],
        "city": ["/", "/console/", "/console/service", "/console/list?metric=demands_posted", "/demands/pool",
                 search, f"/demands/{o['demand_a_published']}", "/demands/review", "/events/",
                 f"/events/{o['event_a']}", f"/events/{o['event_a']}/agenda", "/notices/", "/notices/new",
                 "/bureau/organizations?q=%E4%BC%81%E4%B8%9A", "/projects/ledger"],
    }


def test_the_listener_hears_a_violation(browser, live_server):
    """The check can fail: an inline script added to a page is blocked, and the listener records it."""
    context = browser.new_context(base_url=live_server)
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto("/login", wait_until="networkidle")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                      document.body.appendChild(s); }""")
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in _violations(page)), _violations(page)
    # Chromium also reports it as a console error, which the page fixture of every test fails on.
    assert any("Content Security Policy" in m for m in console), console
    context.close()


@pytest.mark.parametrize("role", ["anonymous", "ent_a", "bank", "city"])
def test_main_pages_have_no_csp_violation(page, csp_world, role):
    page.context.add_init_script(LISTEN)
    if role != "anonymous":
        login(page, csp_world.usernames[role], factories.PASSWORD)
    problems = []
    for path in _pages(csp_world)[role]:
        problems += _open(page, path)
    if role == "city":
        ARTIFACTS.mkdir(exist_ok=True)
        page.goto("/console/", wait_until="networkidle")
        page.screenshot(path=str(ARTIFACTS / "csp-console-city.png"), full_page=False)
    assert not problems, problems
