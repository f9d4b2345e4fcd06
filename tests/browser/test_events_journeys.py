"""Journey: the bureau runs a matching event from creation to outcomes, seen through Chromium."""
from datetime import date, timedelta

from models import OrgKind
from tests import factories
from tests.browser.helpers import login, logout, screenshot


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_bureau_event_from_creation_to_outcome(page, ctx):
    factories.make_user(factories.make_org(OrgKind.BUREAU, district=None), username="ev-city")
    ent = factories.make_user(factories.make_enterprise(name="滕州锂想新能源有限公司"), username="ev-ent")
    factories.make_user(factories.make_org(OrgKind.BANK, name="工商银行枣庄分行"), username="ev-bank")

    # The bureau creates the event and opens registration.
    login(page, "ev-city", factories.PASSWORD)
    page.goto("/events/new")
    page.select_option("#kind", "bank_enterprise_meeting")
    page.fill("#title", "锂电产业银企对接会")
    page.fill("#date", (date.today() + timedelta(days=14)).isoformat())
    page.fill("#start_time", "09:00")
    page.fill("#venue", "枣庄市民中心")
    page.fill("#slots", "4")
    page.fill("#tables", "3")
    submit(page, "button:has-text('保存')")
    event_url = page.url
    submit(page, "button:has-text('开放报名')")
    logout(page)

    # The enterprise and the bank register.
    login(page, "ev-ent", factories.PASSWORD)
    page.goto(event_url)
    page.fill("#attendees", "王强")
    submit(page, "button:has-text('提交报名')")
    logout(page)
    login(page, "ev-bank", factories.PASSWORD)
    page.goto(event_url)
    page.fill("#attendees", "刘行长")
    submit(page, "button:has-text('提交报名')")
    logout(page)

    # The bureau confirms both registrations; only confirmed participants ask for meetings.
    login(page, "ev-city", factories.PASSWORD)
    page.goto(event_url)
    while page.locator("button:has-text('确认')").count():
        submit(page, "button:has-text('确认') >> nth=0")
    logout(page)

    login(page, "ev-ent", factories.PASSWORD)
    page.goto(event_url)
    page.select_option("#to_org", label="工商银行枣庄分行")
    submit(page, "button:has-text('发起约见')")  # the enterprise asks to meet the bank
    assert "待回复" in page.content()
    logout(page)
    login(page, "ev-bank", factories.PASSWORD)
    page.goto(event_url)
    submit(page, "button:has-text('接受')")
    logout(page)

    # The bureau closes registration, schedules and publishes the agenda.
    login(page, "ev-city", factories.PASSWORD)
    page.goto(event_url)
    submit(page, "button:has-text('截止报名，开始排期')")
    submit(page, "button:has-text('生成议程')")
    # Scheduling leads to the preliminary per-table agenda.
    assert "已安排 1 对" in page.content() and "初步议程" in page.content()
    screenshot(page, "event-tables-preliminary")
    page.goto(event_url)
    submit(page, "button:has-text('发布议程')")
    screenshot(page, "event-published")
    logout(page)

    # The enterprise opens its printable agenda: the bank at a table in a slot.
    login(page, "ev-ent", factories.PASSWORD)
    page.goto(event_url)
    submit(page, "a:has-text('议程') >> nth=0")
    assert "正式议程" in page.content() and "工商银行枣庄分行" in page.inner_text(".agenda-table")
    page.emulate_media(media="print")
    assert not page.is_visible("button:has-text('打印')")  # the print stylesheet hides the buttons
    screenshot(page, "event-agenda-print")
    page.emulate_media(media="screen")
    logout(page)

    # The bank records the outcome of the meeting; the bureau's report counts it.
    login(page, "ev-bank", factories.PASSWORD)
    page.goto(event_url)
    submit(page, "a:has-text('登记结果')")
    page.check("#held")
    page.fill("#intent_amount", "1500")
    page.fill("#signed_amount", "1000")
    page.fill("#disbursed_amount", "600")
    submit(page, "button:has-text('保存')")
    logout(page)
    login(page, "ev-city", factories.PASSWORD)
    page.goto(event_url + "/report")
    text = page.inner_text("main")
    assert "1,500" in text and "1,000" in text and "600" in text
    assert ent.org.name in page.content() or "滕州市" in text
