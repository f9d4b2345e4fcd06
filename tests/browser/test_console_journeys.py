"""Journey: the city bureau's console and a district bureau's console draw their charts and drill down."""
from __future__ import annotations

from tests import factories
from tests.browser.helpers import login, screenshot
from tests.console import history as H

PERIOD = f"start={H.PERIOD[0]}&end={H.PERIOD[1]}"


def charts_drawn(page) -> None:
    # Every chart container holds what ECharts drew (SVG renderer; a canvas would do as well).
    page.wait_for_selector(".chart svg")
    containers = page.locator(".chart")
    assert containers.count() >= 3
    for i in range(containers.count()):
        assert containers.nth(i).locator("svg, canvas").count() >= 1, containers.nth(i).get_attribute("id")


def test_city_and_district_consoles(page, ctx):
    H.build()
    login(page, "c-city", factories.PASSWORD)
    page.goto(f"/console/?{PERIOD}")
    charts_drawn(page)
    assert page.inner_text("#kpi-demands_posted .kpi").strip() == "4"
    assert page.inner_text("#kpi-signed_amount .kpi").strip() == "1,100"
    assert page.inner_text("#kpi-disbursed_amount .kpi").strip() == "100"
    assert page.locator("#breakdown-district").count() == 1
    screenshot(page, "console-city")

    # A figure in the district table opens the list of the demands it counts.
    with page.expect_navigation():
        page.click("#breakdown-district tr:has-text('薛城区') a.drill >> nth=0")
    rows = page.locator("#drill-rows tbody tr[data-ref]")
    assert [rows.nth(i).get_attribute("data-ref") for i in range(rows.count())] == ["dm-d5"]

    page.goto("/")
    with page.expect_navigation():
        page.click("nav form button:has-text('退出')")
    login(page, "c-tz", factories.PASSWORD)
    page.goto(f"/console/?{PERIOD}")
    charts_drawn(page)
    assert page.inner_text("#console-scope").strip() == "滕州市"
    assert page.inner_text("#kpi-demands_posted .kpi").strip() == "3"
    assert page.locator("#breakdown-district").count() == 0
    assert page.locator("#f-district").count() == 0
    screenshot(page, "console-district")
    with page.expect_navigation():
        page.click("#kpi-credit_loan a.drill")
    rows = page.locator("#drill-rows tbody tr[data-ref]")
    assert sorted(rows.nth(i).get_attribute("data-ref") for i in range(rows.count())) == ["dm-d1", "dm-d4"]


def test_the_console_on_a_phone(page, ctx):
    H.build()
    login(page, "c-city", factories.PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/console/?{PERIOD}")
    charts_drawn(page)
    # Nothing wider than the screen: the charts fit, the tables scroll inside their own boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "console-phone")
