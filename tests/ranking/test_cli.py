"""`flask ranking train|evaluate|recommend` on the database: JSON shapes, fallbacks, the seed-demo world's NDCG."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from matchmaker.ranking import clear_cache


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["ranking", *args])
    return result


def current_model_file(model_dir: Path) -> Path:
    return model_dir / (model_dir / "current").read_text().strip() / "model.skops"


@pytest.fixture
def demo(app, model_dir):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"], catch_exceptions=False).exit_code == 0
    return app


def test_seed_demo_model_beats_rule_and_text_and_json_shapes(demo, model_dir, caplog):
    trained = run(demo, "train")
    assert trained.exit_code == 0, trained.stderr
    assert trained.stdout == ""  # progress goes to stderr
    assert (model_dir / "current").exists()

    evaluated = run(demo, "evaluate", "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    ndcg = report["ndcg@10"]
    assert set(ndcg) == {"model", "rule", "text"} and report["queries"] > 0
    assert ndcg["model"] > ndcg["rule"] and ndcg["model"] > ndcg["text"], ndcg

    import sqlalchemy as sa

    from models import Demand, Organization, db_session

    with demo.app_context():
        refs = db_session.scalars(sa.select(Demand.ref).where(Demand.status == "published").order_by(Demand.ref)
                                  .limit(2)).all()
        bank = db_session.scalar(sa.select(Organization.ref).where(Organization.kind == "bank")
                                 .order_by(Organization.ref))
    out = run(demo, "recommend", "--demand", refs[0], "--demand", refs[1], "--top", "5", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == set(refs)
    for items in data.values():
        assert len(items) <= 5
        for item in items:
            assert {"ref", "org", "score", "reasons"} <= set(item)
            assert item["ref"].startswith("demo-pd-") and item["reasons"]
    assert "model v" in out.stderr

    out = run(demo, "recommend", "--institution", bank, "--top", "5", "--json")
    assert out.exit_code == 0, out.stderr
    items = json.loads(out.stdout)[bank]
    assert items and all(i["ref"].startswith("demo-dm-") and i["org"].startswith("demo-ent-") and i["reasons"]
                         for i in items)

    # The pages name the model in use.
    client = demo.test_client()
    assert client.post("/login", data={"username": "bank", "password": "demo2026"}).status_code == 302
    page = client.get("/recommended")
    assert page.status_code == 200 and "排序模型 v" in page.text and "class=\"small mb-0 mt-1 reasons\"" in page.text

    # A corrupted artifact: the rule takes over and the failure is logged.
    current_model_file(model_dir).write_bytes(b"not a model")
    clear_cache()
    with caplog.at_level(logging.WARNING):
        out = run(demo, "recommend", "--demand", refs[0], "--json")
        evaluated = run(demo, "evaluate", "--json")
    assert out.exit_code == 0 and "rule" in out.stderr
    assert json.loads(out.stdout)[refs[0]] is not None
    assert json.loads(evaluated.stdout)["ndcg@10"]["model"] is None
    assert any(r.name.startswith("matchmaker.ranking") and r.levelno >= logging.WARNING for r in caplog.records)

    # A missing one: the same.
    shutil.rmtree(current_model_file(model_dir).parent)
    clear_cache()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        out = run(demo, "recommend", "--demand", refs[0], "--json")
    assert out.exit_code == 0 and "rule" in out.stderr
    assert refs[0] in json.loads(out.stdout)
    assert any(r.name.startswith("matchmaker.ranking") for r in caplog.records)


def test_fresh_database_too_little_history(app, model_dir, ctx):
    from tests.factories import make_demand, make_enterprise, make_org, make_product

    bank = make_org("bank", district=None)
    make_product(bank, amount_max=5000)
    ent = make_enterprise()
    demand = make_demand(ent, status="published")

    trained = run(app, "train")
    assert trained.exit_code == 1
    assert "历史对接记录不足" in trained.stderr
    assert not (model_dir / "current").exists()  # nothing saved

    evaluated = run(app, "evaluate", "--json")
    assert evaluated.exit_code == 0
    report = json.loads(evaluated.stdout)
    assert report["ndcg@10"]["model"] is None and "rule" in report["ndcg@10"] and "text" in report["ndcg@10"]
    assert "queries" in report

    out = run(app, "recommend", "--demand", demand.ref, "--json")
    assert out.exit_code == 0, out.stderr
    assert [i["ref"] for i in json.loads(out.stdout)[demand.ref]]
    out = run(app, "recommend", "--institution", bank.ref, "--json")
    assert json.loads(out.stdout)[bank.ref][0]["ref"] == demand.ref
    assert ent.name not in out.stdout


@pytest.mark.parametrize("args, ref", [
    (["--demand", "dm-missing"], "dm-missing"),
    (["--institution", "bank-missing"], "bank-missing"),
])
def test_unknown_refs_are_named(app, model_dir, args, ref):
    out = run(app, "recommend", *args, "--json")
    assert out.exit_code == 1
    assert ref in out.stderr and out.stdout == ""
