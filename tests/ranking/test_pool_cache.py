"""The worker's cached pool: new, edited and withdrawn demands are seen on the next request, read incrementally."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from matchmaker.ranking.data import demand_record, load_demands, load_pool, serving
from models import DemandStatus, db_session
from tests.factories import make_demand, make_enterprise, make_org, make_product, make_user


@pytest.fixture
def pool(ctx, model_dir):
    """A bank with one loan and three published demands that fit it."""
    bank = make_org("bank", district=None, name="丙银行")
    make_product(bank, name="设备贷", amount_max=Decimal(5000), collateral=["equipment"])
    demands = [make_demand(make_enterprise(), status="published", title=f"池中需求{k}") for k in range(3)]
    return {"bank": bank, "demands": demands, "user": make_user(bank)}


def _refs(org):
    return [item.ref for item in serving().for_institution(org.ref, 50).items]


def _same_table(a, b):
    assert a.refs.tolist() == b.refs.tolist()
    assert a.records == b.records
    for name in ("amount", "term", "max_rate", "purpose_bit", "collateral_mask", "cluster_bit", "published"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert (a.text != b.text).nnz == 0


def test_the_column_loader_gives_the_same_records_as_the_orm(pool):
    assert load_pool() == load_demands(published_only=True)
    assert load_pool() == [demand_record(d) for d in sorted(pool["demands"], key=lambda d: d.ref)]


def test_a_demand_published_after_the_first_call_is_recommended_next(pool):
    bank = pool["bank"]
    first = _refs(bank)
    assert sorted(first) == sorted(d.ref for d in pool["demands"])
    late = make_demand(make_enterprise(), status="published", title="后来发布的需求")
    assert late.ref in _refs(bank)
    _same_table(serving().pool(), serving().ranker.encode_demands(load_pool()))


def test_a_withdrawn_demand_disappears_from_the_next_recommendation(pool, login_as):
    bank, gone = pool["bank"], pool["demands"][1]
    client = login_as(pool["user"])
    assert gone.title in client.get("/recommended").text
    assert gone.ref in _refs(bank)
    gone.status = DemandStatus.WITHDRAWN
    db_session.commit()
    assert gone.ref not in _refs(bank)
    assert gone.title not in client.get("/recommended").text
    _same_table(serving().pool(), serving().ranker.encode_demands(load_pool()))


def test_an_edited_demand_is_scored_as_it_is_now(pool):
    bank, edited = pool["bank"], pool["demands"][0]
    assert edited.ref in _refs(bank)
    edited.amount = Decimal(9000)  # above the loan's 5,000 万元: it no longer fits
    db_session.commit()
    assert edited.ref not in _refs(bank)
    table = serving().pool()
    assert table.amount[table.refs.tolist().index(edited.ref)] == 9000
    _same_table(table, serving().ranker.encode_demands(load_pool()))


def test_publish_and_withdraw_at_once_keep_the_pool_exact(pool):
    bank = pool["bank"]
    _refs(bank)
    # The count of published demands stays the same: the fingerprint still changes, by the new demand's times.
    pool["demands"][2].status = DemandStatus.WITHDRAWN
    new = make_demand(make_enterprise(), status="published", commit=False)
    db_session.commit()
    refs = _refs(bank)
    assert new.ref in refs and pool["demands"][2].ref not in refs
    _same_table(serving().pool(), serving().ranker.encode_demands(load_pool()))
