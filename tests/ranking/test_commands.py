"""The command functions return the JSON shapes DESIGN §4 and the integrator's CLI print."""
from __future__ import annotations

import json

import pytest

from matchmaker.ranking import NotEnoughHistory, Ranker
from matchmaker.ranking.commands import (
    evaluate_report,
    recommend_for_demands_report,
    recommend_for_institutions_report,
    train_and_save,
)


def test_train_then_evaluate_then_recommend(world, tmp_path):
    meta = train_and_save(world.demands, world.products, world.outcomes, tmp_path, split_at=world.split_at,
                          algorithm="pairwise")
    assert (tmp_path / "ranking" / meta["version"] / "model.skops").exists()
    report = evaluate_report(world.demands, world.products, world.outcomes, tmp_path)
    assert set(report["ndcg@10"]) == {"model", "rule", "text"} and report["queries"] > 100
    assert report["ndcg@10"] == meta["metrics"]["ndcg@10"] and report["version"] == meta["version"]
    json.dumps(report)

    ranker = Ranker(tmp_path, world.outcomes, world.demands)
    out, scorer = recommend_for_demands_report(ranker, world.demands[-2:], world.products, top=3)
    assert scorer == f"model {meta['version']}"
    assert list(out) == [d.ref for d in world.demands[-2:]]
    assert all(set(item) == {"ref", "org", "score", "reasons"} for items in out.values() for item in items)
    out, _ = recommend_for_institutions_report(ranker, ["bank-01", "fund-01"], world.demands, world.products, top=4)
    assert list(out) == ["bank-01", "fund-01"] and all(len(v) == 4 for v in out.values())
    assert all(item["product"].startswith("pd-") and item["ref"].startswith("dm-") for item in out["bank-01"])
    json.dumps(out, ensure_ascii=False)


def test_evaluate_without_a_model_reports_the_baselines(world, tmp_path):
    report = evaluate_report(world.demands, world.products, world.outcomes, tmp_path, split_at=world.split_at)
    assert report["ndcg@10"]["model"] is None and report["scorer"] == "rule"


def test_training_refusal_saves_nothing(world, tmp_path):
    with pytest.raises(NotEnoughHistory):
        train_and_save(world.demands, world.products, world.outcomes[:10], tmp_path, split_at=world.split_at)
    assert not (tmp_path / "ranking").exists()
