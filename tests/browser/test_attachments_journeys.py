"""Journey: an enterprise attaches its business licence to a demand (a disguised file first), the bureau reads the log."""
from models import OrgKind
from tests import factories
from tests.attachments import files
from tests.browser.helpers import login, logout, screenshot


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_enterprise_uploads_a_pdf_and_sees_it_listed(page, ctx):
    ent = factories.make_enterprise(name="滕州锂想新能源有限公司", district="滕州市")
    factories.make_user(ent, username="att-ent")
    factories.make_user(factories.make_org(OrgKind.BUREAU, district="滕州市"), username="att-bureau")
    demand = factories.make_demand(ent, title="隔膜生产线设备更新贷款")

    login(page, "att-ent", factories.PASSWORD)
    page.goto(f"/demands/{demand.ref}")
    assert page.locator("#attachments").is_visible() and "还没有附件" in page.inner_text("#attachments")

    # A web page renamed to .pdf is refused with the reason at the file field; the chosen kind is kept.
    page.select_option("#attachment-kind", "business_licence")
    page.set_input_files("#attachment-file", files={"name": "营业执照.pdf", "mimeType": "application/pdf",
                                                    "buffer": files.HTML})
    submit(page, ".attachment-upload button[type=submit]")
    error = page.locator("[data-field=file]").first
    assert "内容是网页或脚本" in error.inner_text()
    assert page.input_value("#kind") == "business_licence"

    page.set_input_files("#file", files={"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": files.pdf()})
    submit(page, ".attachment-upload button[type=submit]")
    assert page.url.endswith(f"/demands/{demand.ref}#attachments")
    row = page.locator(".attachment-row")
    assert row.count() == 1 and "营业执照" in row.inner_text() and "营业执照.pdf" in row.inner_text()
    page.locator("#attachments").scroll_into_view_if_needed()
    screenshot(page, "attachments-demand")

    with page.expect_download() as got:
        page.click(".attachment-link")
    assert got.value.suggested_filename == "营业执照.pdf"
    logout(page)

    # The district bureau finds the upload and the download in its audit log.
    login(page, "att-bureau", factories.PASSWORD)
    page.click("nav a.dropdown-toggle:has-text('审核')")
    submit(page, "nav .dropdown-menu a:has-text('审计日志')")
    page.fill("#object_ref", demand.ref)
    submit(page, "#audit-filters button[type=submit]")
    text = page.inner_text("#audit-table")
    assert "attachment.uploaded" in text and "attachment.downloaded" in text and "营业执照.pdf" in text
    screenshot(page, "audit-log")
