"""The response record computed on a constructed history, and shown as 暂无记录 without one."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from matchmaker.catalog import records
from matchmaker.catalog.records import ResponseHistoryRow, response_figures, response_record
from models import OrgKind
from tests import factories

T0 = datetime(2026, 3, 2, 9, 0)
NOW = datetime(2026, 6, 1, 0, 0)


def row(asked_day, answer_hours, deadline_days, offered=False, accepted=False, funded=None):
    asked = T0 + timedelta(days=asked_day)
    answered = asked + timedelta(hours=answer_hours) if answer_hours is not None else None
    return ResponseHistoryRow(asked, answered, asked + timedelta(days=deadline_days), offered, accepted,
                              Decimal(funded) if funded is not None else None)


HISTORY = [
    row(0, 24, 14, offered=True, accepted=True, funded="1500"),   # 1 day, on time
    row(1, 72, 14, offered=True),                                  # 3 days, on time
    row(2, 400, 14),                                               # 16.7 days, late decline
    row(3, 48, 14, offered=True, accepted=True, funded="800.5"),   # 2 days, on time
    row(4, None, 14),                                              # never answered, deadline passed: late
    (NOW - timedelta(days=1), None, NOW + timedelta(days=5), False, False, None),  # still open, not due
]


def test_figures_on_a_constructed_history():
    r = response_figures(HISTORY, now=NOW)
    assert r.requests == 6 and r.answered == 4
    # Waits 24, 48, 72, 400 hours: the median is (48 + 72) / 2 = 60 hours = 2.5 days.
    assert r.median_answer_time == timedelta(hours=60) and r.median_answer_days == 2.5
    # Due: four answered + one unanswered past its deadline; three answered in time.
    assert r.on_time_share == pytest.approx(3 / 5)
    assert r.offers == 3 and r.accepted == 2 and r.funded_amount == Decimal("2300.5")
    assert not r.empty


def test_plain_tuples_are_accepted():
    r = response_figures([tuple(HISTORY[0])], now=NOW)
    assert r.requests == 1 and r.on_time_share == 1.0 and r.funded_amount == Decimal(1500)


def test_an_answer_exactly_at_the_deadline_is_in_time():
    asked = T0
    r = response_figures([(asked, asked + timedelta(days=14), asked + timedelta(days=14), False, False, None)], now=NOW)
    assert r.on_time_share == 1.0


def test_no_history_is_an_empty_record():
    r = response_figures([], now=NOW)
    assert r.empty and r.median_answer_time is None and r.on_time_share is None and r.funded_amount == 0


def test_registered_sources_feed_the_product_page(ctx, client, monkeypatch):
    bank = factories.make_org(OrgKind.BANK)
    product = factories.make_product(bank, name="首贷通")
    assert "暂无记录" in client.get(f"/products/{product.ref}").text
    monkeypatch.setattr(records, "HISTORY_SOURCES", [lambda org: HISTORY if org.id == bank.id else []])
    assert response_record(bank, now=NOW).requests == 6
    text = client.get(f"/products/{product.ref}").text
    assert "暂无记录" not in text and "2,300.5" in text and "2.5" in text
