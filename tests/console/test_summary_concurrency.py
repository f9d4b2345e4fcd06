"""Writers of one enterprise's figures at once on PostgreSQL: the summary lines still equal a recount."""
import os

import pytest

from matchmaker.console import summary
from matchmaker.offers import services
from models import db_session
from tests import factories
from tests.console.test_summary import lines
from tests.offers.helpers import published, terms
from tests.offers.test_concurrency import race

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="row locks need PostgreSQL"),
]


def test_bids_on_several_demands_of_one_enterprise_at_once_are_all_counted_once(app, world):
    # Different demands: no demand lock orders these writers, only the enterprise's own.
    demands = [published(world) for _ in range(5)]
    banks = [factories.make_user(factories.make_org("bank", district="市中区")) for _ in demands]
    outcomes = race(app, [(lambda u, d: services.bid(u, d, terms()), (u, d)) for u, d in zip(banks, demands,
                                                                                          strict=True)])
    assert outcomes == ["ok"] * 5
    with app.app_context():
        kept = lines()
        assert kept[("offers_made", "", *next(k[2:4] for k in kept if k[0] == "offers_made"), "")][0] == 5
        summary.rebuild()
        assert lines() == kept
        db_session.rollback()
