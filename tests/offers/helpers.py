"""Helpers for the offers tests: a published demand, standard terms, an answered or accepted offer."""
from datetime import timedelta
from decimal import Decimal

from matchmaker.demands.services import local_today
from matchmaker.offers import services
from tests import factories


def published(world, **kw):
    return factories.make_demand(world.enterprise.org, status="published", **kw)


def terms(**kw) -> dict:
    values = {"amount": Decimal(1000), "rate": Decimal("4.2"), "term_months": 36, "collateral": ["equipment"],
              "conditions": "设备抵押", "valid_until": local_today() + timedelta(days=30), "rate_reason": None,
              "stake_percent": None, "valuation_min": None, "valuation_max": None}
    values.update(kw)
    return values


def bid(user, demand, **kw):
    product = kw.pop("product", None)
    kind = kw.pop("kind", None)
    return services.bid(user, demand, terms(**kw), product=product, kind=kind)


def accepted(world, demand=None, user=None, **kw):
    demand = demand or published(world)
    offer = bid(user or world.bank, demand, **kw)
    return services.accept(world.enterprise, offer)
