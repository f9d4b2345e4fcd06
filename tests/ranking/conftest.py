"""Fixtures for the ranking library: record factories, a small synthetic world and a model trained on it."""
from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from matchmaker.ranking import DemandRecord, FeatureSet, OutcomeRecord, ProductRecord, clear_cache, train
from matchmaker.ranking.synthetic import make_world

T0 = datetime(2026, 3, 1, 9, 0)


def make_demand(**kw) -> DemandRecord:
    """A published loan demand of a small 高端装备 enterprise in 滕州市; override any field."""
    base = DemandRecord(
        ref="dm-0001", org_ref="ent-0001", created_at=T0, amount=Decimal("1000"), term_months=36,
        purpose="smart_upgrade", financing_types=["loan"], collateral=["equipment"], max_rate=Decimal("4.5"),
        text="高端装备智能化改造项目", district="滕州市", cluster="高端装备", size="small",
        revenue=Decimal("8600"), rd_ratio=0.034, tags=["高新技术企业"], status="published",
    )
    return replace(base, **kw)


def make_product(**kw) -> ProductRecord:
    """An active city-wide bank loan open to every cluster, size and purpose; override any field."""
    base = ProductRecord(
        ref="pd-0001", org_ref="bank-01", org_kind="bank", kind="loan",
        amount_min=Decimal("100"), amount_max=Decimal("10000"), term_min=6, term_max=66,
        rate_min=Decimal("3.7"), rate_max=Decimal("5.5"), collateral=["equipment", "property"],
        industries=[], districts=[], sizes=[], purposes=[], tags=["技改贷"], text="技改贷款", status="active",
    )
    return replace(base, **kw)


def make_outcome(demand_ref="dm-0001", product_ref="pd-0001", org_ref="bank-01", at=T0, outcome="offered"):
    """One recorded outcome."""
    return OutcomeRecord(demand_ref, product_ref, org_ref, at, outcome)


def pair_features(demand, product, at=None, outcomes=(), history_demands=()) -> dict[str, float]:
    """The feature values of one pair, by name (text vectoriser fitted on the two texts)."""
    fs = FeatureSet().fit_text([demand.text, product.text])
    d, p = fs.encode_demands([demand]), fs.encode_products([product])
    history = fs.history(outcomes, list(history_demands) or [demand])
    X = fs.matrix(fs.pairs(d, [0], p, [0], at or demand.created_at, history))
    return dict(zip(fs.names, X[0].tolist(), strict=True))


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(scope="session")
def world():
    """A small world with hidden tastes (about 1,200 demands, 30 products)."""
    return make_world(seed=7, n_demands=1200)


@pytest.fixture(scope="session")
def trained(world):
    """A model trained on the world before its split, with its held-out metrics."""
    return train(world.demands, world.products, world.outcomes, world.split_at, min_queries=50)


@pytest.fixture
def model_dir(app):
    """The app's model directory, emptied before and after (it is shared by the session's app)."""
    path = Path(app.config["MODEL_DIR"]) / "ranking"
    shutil.rmtree(path, ignore_errors=True)
    app.extensions.pop("ranking", None)
    clear_cache()
    yield path
    shutil.rmtree(path, ignore_errors=True)
    app.extensions.pop("ranking", None)
    clear_cache()
