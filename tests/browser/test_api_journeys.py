"""Journey: a bank admin creates an API token in the UI, reads the API docs, and calls the API with the token."""
from models import OrgKind
from tests import factories
from tests.browser.helpers import login, screenshot


def test_bank_admin_creates_a_token_and_the_docs_load_under_the_csp(page, ctx):
    factories.make_user(factories.make_org(OrgKind.BANK, district="市中区"), username="api-bank")
    factories.make_demand(factories.make_enterprise(district="滕州市"), status="published")
    login(page, "api-bank", factories.PASSWORD)
    page.click("nav >> text=API 令牌")
    page.fill("#name", "信贷系统")
    page.check("input[name=scopes][value=offers]")
    with page.expect_navigation():
        page.click("button:has-text('创建')")
    secret = page.inner_text("#new-token").strip()
    assert secret.startswith("mm_")
    screenshot(page, "api-token-created")

    r = page.request.get("/api/v1/demands", headers={"Authorization": f"Bearer {secret}"})
    assert r.status == 200 and r.json()["total"] == 1
    # The logged-in browser's session cookie is no token.
    assert page.request.get("/api/v1/demands").status == 401

    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "政银企基金对接平台" in page.inner_text(".swagger-ui .info .title")
    page.locator(".opblock-summary-path", has_text="/api/v1/demands/{ref}/offers").first.wait_for()
