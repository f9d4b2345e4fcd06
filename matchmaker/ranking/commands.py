"""What the `ranking train|evaluate|recommend` commands do, as plain functions returning their JSON."""
from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .model import MIN_QUERIES, evaluate, load_current, train
from .recommend import Ranker
from .records import DemandRecord, OutcomeRecord, ProductRecord

HOLDOUT_DAYS = 60  # `ranking train` holds out the last two months to measure the model it saves


def default_split(now: datetime | None = None, holdout_days: int = HOLDOUT_DAYS) -> datetime:
    """The split moment used when none is given: `holdout_days` before now (naive UTC)."""
    now = now or datetime.now(UTC)
    return (now.astimezone(UTC) - timedelta(days=holdout_days)).replace(tzinfo=None)


def train_and_save(demands: Sequence[DemandRecord], products: Sequence[ProductRecord],
                   outcomes: Sequence[OutcomeRecord], model_dir: str | os.PathLike,
                   split_at: datetime | None = None, min_queries: int = MIN_QUERIES,
                   algorithm: str = "auto", now: datetime | None = None) -> dict:
    """Train, evaluate on the demands after the split, save as the current version; returns the metadata.

    Raises NotEnoughHistory (its message is meant for the user) and saves nothing in that case.
    """
    model = train(demands, products, outcomes, split_at or default_split(now), min_queries=min_queries,
                  algorithm=algorithm, now=now)
    path = model.save(model_dir)
    return dict(model.meta, path=str(path))


def evaluate_report(demands: Sequence[DemandRecord], products: Sequence[ProductRecord],
                    outcomes: Sequence[OutcomeRecord], model_dir: str | os.PathLike | None,
                    split_at: datetime | None = None) -> dict:
    """`ranking evaluate --json`: {"ndcg@10": {"model": x|None, "rule": y, "text": z}, "queries": n, ...}.

    The current model is evaluated on the demands after its own training split unless `split_at` is
    given; without a usable model "model" is null and "scorer" is "rule".
    """
    model = load_current(model_dir)
    if split_at is None:
        split_at = datetime.fromisoformat(model.meta["split_at"]) if model else default_split()
    report = evaluate(demands, products, outcomes, split_at, model=model)
    report["ndcg@10"] = {"model": report["ndcg@10"].get("model"), "rule": report["ndcg@10"]["rule"],
                         "text": report["ndcg@10"]["text"]}
    if model is not None:
        report["version"] = model.version
        report["trained_at"] = model.meta["trained_at"]
    return report


def recommend_for_demands_report(ranker: Ranker, demands: Sequence[DemandRecord],
                                 products: Sequence[ProductRecord], top: int = 10,
                                 now: datetime | None = None) -> tuple[dict, str]:
    """`ranking recommend --demand REF ... --json`: ({"dm-…": [{"ref", "org", "score", "reasons"}, …]}, scorer)."""
    table = ranker.encode_products(products)
    out, scorer = {}, "rule"
    for demand in demands:
        recs = ranker.for_demand(demand, table, top, now=now)
        out[demand.ref], scorer = recs.to_json(), recs.scorer
    return out, scorer


def recommend_for_institutions_report(ranker: Ranker, org_refs: Sequence[str], pool: Sequence[DemandRecord],
                                      products: Sequence[ProductRecord], top: int = 50,
                                      now: datetime | None = None) -> tuple[dict, str]:
    """`ranking recommend --institution REF ... --json`: ({"bank-…": [{"ref": "dm-…", "org": "ent-…",
    "score", "reasons", "product": "pd-…"}, …]}, scorer)."""
    demands, table = ranker.encode_demands(pool), ranker.encode_products(products)
    out, scorer = {}, "rule"
    for org in org_refs:
        own = table.take([j for j, o in enumerate(table.org_refs) if o == org])
        recs = ranker.for_institution(org, demands, own, top, now=now)
        out[org], scorer = recs.to_json(), recs.scorer
    return out, scorer
