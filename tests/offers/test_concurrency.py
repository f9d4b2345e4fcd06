"""Truly concurrent offers on PostgreSQL: the limit holds, no double acceptance, accepted money within the amount."""
import os
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.demands import services as demands
from matchmaker.offers import services
from models import Demand, DemandHistory, Offer, User, db_session
from tests import factories
from tests.offers.helpers import bid, published, terms

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="row locks need PostgreSQL"),
]


def race(app, jobs):
    """Run each job(user, ...) in its own thread with its own session, all starting at a barrier."""
    db_session.remove()
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(fn, args):
        with app.app_context():
            try:
                loaded = [db_session.get(User, a.id) if isinstance(a, User) else a for a in args]
                loaded = [db_session.scalar(sa.select(type(a)).where(type(a).ref == a.ref))
                          if isinstance(a, (Demand, Offer)) else a for a in loaded]
                barrier.wait()
                fn(*loaded)
                outcomes.append("ok")
            except (services.OfferError, demands.DemandError):
                db_session.rollback()
                outcomes.append("refused")
            finally:
                db_session.remove()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_institutions_bidding_at_once_never_exceed_the_limit(app, world):
    demand = published(world, amount=Decimal(5000))
    extra = [factories.make_user(factories.make_org("bank", district="市中区")) for _ in range(3)]
    bidders = [world.bank, world.other_bank, world.guarantor, *extra]
    jobs = [(lambda u, d: services.bid(u, d, terms(), kind="guarantee" if u.org.kind == "guarantor" else None),
             (u, demand)) for u in bidders]
    outcomes = race(app, jobs)
    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 3, outcomes
    with app.app_context():
        active = db_session.scalar(sa.select(sa.func.count(Offer.id)).where(Offer.status == "submitted"))
        assert active == 3


def test_the_same_institution_twice_at_once_gets_one_offer(app, world):
    demand = published(world)
    outcomes = race(app, [(lambda u, d: services.bid(u, d, terms()), (world.bank, demand))] * 2)
    assert sorted(outcomes) == ["ok", "refused"]


def test_accepting_twice_at_once_accepts_once(app, world):
    offer = bid(world.bank, published(world))
    outcomes = race(app, [(services.accept, (world.enterprise, offer))] * 2)
    assert sorted(outcomes) == ["ok", "refused"]
    with app.app_context():
        assert db_session.scalars(sa.select(DemandHistory.action)).all() == ["match"]


def test_accepted_money_stays_within_the_amount_under_concurrency(app, world):
    demand = published(world, amount=Decimal(2000))
    a = bid(world.bank, demand, amount=Decimal(1500))
    b = bid(world.other_bank, demand, amount=Decimal(1500))
    outcomes = race(app, [(services.accept, (world.enterprise, a)), (services.accept, (world.enterprise, b))])
    assert sorted(outcomes) == ["ok", "refused"]
    with app.app_context():
        accepted = db_session.scalars(sa.select(Offer.amount).where(Offer.status == "accepted")).all()
        assert sum(accepted) == Decimal(1500)
        assert db_session.scalar(sa.select(Demand.status).where(Demand.ref == demand.ref)) == "matched"


def test_accepting_while_the_institution_withdraws_is_consistent(app, world):
    for _ in range(3):
        offer = bid(world.bank, published(world))
        outcomes = race(app, [(services.accept, (world.enterprise, offer)),
                              (lambda u, o: services.withdraw(u, o, "撤回"), (world.bank, offer))])
        assert sorted(outcomes) == ["ok", "refused"]
        with app.app_context():
            o = db_session.scalar(sa.select(Offer).where(Offer.ref == offer.ref))
            if o.status == "accepted":
                assert o.demand.status == "matched"
            else:
                assert o.status == "withdrawn" and o.demand.status == "published"
            db_session.remove()


def test_accepting_while_the_demand_is_withdrawn_is_consistent(app, world):
    for _ in range(3):
        demand = published(world)
        offer = bid(world.bank, demand)
        outcomes = race(app, [(services.accept, (world.enterprise, offer)),
                              (lambda u, d: demands.act(u, d, "withdraw"), (world.enterprise, demand))])
        assert sorted(outcomes) == ["ok", "refused"]
        with app.app_context():
            d = db_session.scalar(sa.select(Demand).where(Demand.ref == demand.ref))
            o = db_session.scalar(sa.select(Offer).where(Offer.ref == offer.ref))
            assert (d.status, o.status) in {("matched", "accepted"), ("withdrawn", "submitted")}
            db_session.remove()
