"""The answer deadline in use: working days left, reminders once, overdue to the bureau, the response record."""
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.catalog.records import response_record
from matchmaker.demands.services import local_today
from matchmaker.offers import services
from models import Notification, db_session
from tests import factories
from tests.offers.helpers import published, terms

# Monday 2 Nov 2026, 10:00 in 枣庄; the deadline is the end of Monday 16 Nov.
ASKED = datetime(2026, 11, 2, 2)


def apply(world, demand=None, product=None, at=ASKED):
    demand = demand or published(world)
    return services.apply(world.enterprise, demand, product or factories.make_product(world.bank.org), now=at)


def kinds(user) -> list[str]:
    return list(db_session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def test_working_days_left_skip_weekends(world):
    offer = apply(world)
    assert offer.deadline_at == datetime(2026, 11, 16, 15, 59, 59, 999999)
    assert services.days_left(offer, datetime(2026, 11, 2, 3)) == 10
    assert services.days_left(offer, datetime(2026, 11, 6, 3)) == 6      # Friday
    assert services.days_left(offer, datetime(2026, 11, 8, 3)) == 6      # Sunday: nothing used up
    assert services.days_left(offer, datetime(2026, 11, 16, 3)) == 0     # the last day
    assert services.days_left(offer, datetime(2026, 11, 16, 17)) == -1   # past midnight in 枣庄
    assert not services.is_overdue(offer, datetime(2026, 11, 16, 15))
    assert services.is_overdue(offer, datetime(2026, 11, 16, 16))
    assert services.overdue_working_days(offer, datetime(2026, 11, 20, 3)) == 4


def test_reminders_go_out_once_and_overdue_notices_once(world):
    offer = apply(world)
    assert kinds(world.bank) == ["offer.applied"]
    assert services.send_deadline_reminders(datetime(2026, 11, 9, 3)) == {"reminders": 0, "overdue": 0}
    assert services.send_deadline_reminders(datetime(2026, 11, 12, 3)) == {"reminders": 1, "overdue": 0}
    assert services.send_deadline_reminders(datetime(2026, 11, 13, 3)) == {"reminders": 0, "overdue": 0}
    assert services.send_deadline_reminders(datetime(2026, 11, 17, 3)) == {"reminders": 0, "overdue": 1}
    assert services.send_deadline_reminders(datetime(2026, 11, 18, 3)) == {"reminders": 0, "overdue": 0}
    assert kinds(world.bank) == ["offer.applied", "offer.due_soon", "offer.overdue"]
    assert offer.reminder_sent_at is not None and offer.overdue_sent_at is not None


def test_an_answered_application_gets_no_reminder(world, app):
    offer = apply(world)
    services.answer(world.bank, offer, terms())
    result = app.test_cli_runner().invoke(args=["offers", "remind", "--json"])
    assert result.exit_code == 0 and '"overdue": 0' in result.output
    assert kinds(world.bank) == ["offer.applied"]


def test_each_step_notifies_the_other_party(world):
    demand = published(world)
    offer = apply(world, demand)
    assert kinds(world.bank) == ["offer.applied"]
    services.answer(world.bank, offer, terms())
    assert kinds(world.enterprise) == ["offer.submitted"]
    services.accept(world.enterprise, offer)
    assert kinds(world.bank)[-1] == "offer.accepted"
    other = services.bid(world.other_bank, demand, terms(amount=Decimal(500)))
    assert kinds(world.enterprise)[-1] == "offer.submitted"
    services.reject(world.enterprise, other, "已足额")
    assert kinds(world.other_bank) == ["offer.declined"]
    deal = services.sign(world.bank, offer, signed_amount=Decimal(1000), signed_on=local_today(), rate=Decimal(4),
                         term_months=36)
    services.disburse(world.bank, deal, amount=Decimal(1000), disbursed_on=local_today())
    assert kinds(world.enterprise)[-2:] == ["deal.signed", "deal.disbursed"]


def test_a_declined_application_notifies_the_enterprise_with_the_reason(world):
    offer = apply(world)
    services.decline(world.bank, offer, "不符合准入条件")
    n = db_session.scalars(sa.select(Notification).where(Notification.user_id == world.enterprise.id)).one()
    assert n.kind == "offer.declined" and "不符合准入条件" in n.body


def test_the_response_record_is_computed_from_the_offers(world):
    bank = world.bank.org
    product = factories.make_product(bank)
    # 1: answered with an offer after 2 days, accepted, 600 disbursed.
    a = apply(world, product=product, at=ASKED)
    a.answered_at = ASKED + timedelta(days=2)
    a.status, a.amount, a.rate, a.term_months = "submitted", Decimal(1000), Decimal(4), 36
    a.valid_until = local_today() + timedelta(days=10)
    db_session.commit()
    services.accept(world.enterprise, a)
    deal = services.sign(world.bank, a, signed_amount=Decimal(800), signed_on=local_today(), rate=Decimal(4),
                         term_months=36)
    services.disburse(world.bank, deal, amount=Decimal(600), disbursed_on=local_today())
    # 2: declined after 4 days.
    b = apply(world, product=product, at=ASKED)
    services.decline(world.bank, b, "额度不足")
    b.answered_at = ASKED + timedelta(days=4)
    # 3: answered 20 days late.
    c = apply(world, product=product, at=ASKED)
    c.answered_at, c.status = ASKED + timedelta(days=20), "submitted"
    c.amount, c.rate, c.term_months, c.valid_until = Decimal(100), Decimal(4), 12, local_today()
    # 4: never answered, overdue by now.
    apply(world, product=product, at=ASKED)
    # A bid from the pool is not a request to the institution: it does not count.
    services.bid(world.bank, published(world), terms())
    db_session.commit()
    r = response_record(bank, now=datetime(2026, 12, 31))
    assert (r.requests, r.answered, r.offers, r.accepted) == (4, 3, 2, 1)
    assert r.median_answer_days == 4.0
    assert r.on_time_share == 2 / 4
    assert r.funded_amount == Decimal(600)
    assert response_record(world.other_bank.org).empty
