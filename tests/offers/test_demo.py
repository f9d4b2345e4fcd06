"""The demo world's offers: a believable year, consistent with each demand's state; deterministic and idempotent."""
import io
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from models import ACTIVE_STATUSES, Deal, Demand, DemandDisclosure, Offer, Organization, db_session
from models.types import utcnow


def offers_table():
    return db_session.execute(sa.select(Offer.ref, Offer.status, Offer.amount, Organization.ref)
                              .join(Offer.org).order_by(Offer.ref)).all()


def test_demo_offers_keep_every_rule(app, city):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--enterprises", "60"], catch_exceptions=False).exit_code == 0
    offers = db_session.scalars(sa.select(Offer)).all()
    assert {o.status.value for o in offers} >= {"requested", "submitted", "accepted", "declined", "expired"}
    by_demand = defaultdict(list)
    for o in offers:
        by_demand[o.demand_id].append(o)
    limit = int(city.policy["active_offer_limit"])
    for demand_id, rows in by_demand.items():
        demand = db_session.get(Demand, demand_id)
        assert len({o.org_id for o in rows if o.status in ACTIVE_STATUSES}) <= limit
        accepted = [o for o in rows if o.status == "accepted"]
        assert sum((o.amount for o in accepted if o.is_funding), Decimal(0)) <= demand.amount
        if demand.status in ("matched", "signed", "funded"):
            assert accepted, demand.ref
        disclosed = set(db_session.scalars(sa.select(DemandDisclosure.org_id)
                                           .where(DemandDisclosure.demand_id == demand_id)))
        assert {o.org_id for o in accepted} <= disclosed
        assert {o.org_id for o in rows if o.origin == "application"} <= disclosed
        deals = [o.deal for o in accepted if o.deal]
        for deal in deals:
            assert deal.disbursed_amount <= deal.signed_amount <= deal.offer.amount
        funding = [d for d in deals if d.offer.is_funding]
        if demand.status == "funded":
            assert funding and all(d.disbursed_amount == d.signed_amount for d in funding)
        if demand.status == "signed":
            assert deals and sum(d.disbursed_amount for d in funding) < sum(d.signed_amount for d in funding)
        if demand.status == "matched":
            assert not deals
    now = utcnow()
    assert any(o.status == "requested" and o.deadline_at < now for o in offers)      # overdue now
    assert any(o.answered_at and o.answered_at > o.deadline_at for o in offers if o.deadline_at)  # answered late
    assert any(len(o.deal.disbursements) > 1 for o in offers if o.deal)
    assert any(o.kind == "guarantee" and o.status == "accepted" for o in offers)      # loan + guarantee packages

    first = offers_table()
    assert runner.invoke(args=["seed-demo"], catch_exceptions=False).exit_code == 0
    assert offers_table() == first  # idempotent

    text = io.StringIO()
    export_lines(text, city=city)
    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(text.getvalue().splitlines(), city=city)
    assert report.ok, report.errors[:3]
    assert db_session.scalar(sa.select(sa.func.count(Deal.id))) > 0

    _clear_tables()
    runner.invoke(args=["seed-demo", "--enterprises", "60"], catch_exceptions=False)
    assert offers_table() == first  # deterministic for a seed
