"""`flask ranking train|evaluate|recommend`: the ranking library run on the database's history."""
from __future__ import annotations

import json
import sys
from datetime import datetime

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from models import Organization, OrgKind, db_session

from .commands import evaluate_report, recommend_for_demands_report, recommend_for_institutions_report, train_and_save
from .data import load_demands, load_history, load_pool, load_products, load_training_set
from .model import MIN_QUERIES, NotEnoughHistory
from .recommend import Ranker

ranking_cli = AppGroup("ranking", help="匹配排序：训练模型、离线评估、生成推荐。")


def _err(message: str) -> None:
    click.echo(message, err=True)


def _split(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD：{value}", param_hint="--split-at") from e
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()  # the database keeps naive UTC
    return moment


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@ranking_cli.command("train")
@click.option("--split-at", help="时间切分点（YYYY-MM-DD，UTC）：之前训练、之后评估；默认为两个月前。")
@click.option("--min-queries", default=MIN_QUERIES, show_default=True, type=click.IntRange(1),
              help="切分点之前至少需要多少条有结果的需求。")
@click.option("--algorithm", type=click.Choice(["auto", "hgb", "pairwise"]), default="auto", show_default=True,
              help="模型：梯度提升树、成对逻辑回归，或自动择优。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出模型的元数据。")
def train_command(split_at, min_queries, algorithm, as_json):
    """从已记录的报价、签约和放款历史训练排序模型，并设为当前版本。"""
    split = _split(split_at)
    _err("读取历史数据……")
    demands, products, outcomes = load_training_set()
    _err(f"需求 {len(demands)} 条，产品 {len(products)} 个，对接记录 {len(outcomes)} 条；开始训练……")
    try:
        meta = train_and_save(demands, products, outcomes, current_app.config["MODEL_DIR"], split_at=split,
                              min_queries=min_queries, algorithm=algorithm)
    except NotEnoughHistory as e:
        _err(str(e))
        sys.exit(1)
    ndcg = meta.get("metrics", {}).get("ndcg@10", {})
    _err(f"已保存模型 {meta.get('version')}（{meta.get('path')}）；NDCG@10：{ndcg}")
    if as_json:
        _dump(meta)


@ranking_cli.command("evaluate")
@click.option("--split-at", help="评估切分点（YYYY-MM-DD，UTC）；默认用当前模型的训练切分点。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
def evaluate_command(split_at, as_json):
    """在切分点之后的需求上离线评估：模型、规则评分与纯文本相似度的 NDCG@10。"""
    demands, products, outcomes = load_training_set()
    _err(f"评估：需求 {len(demands)} 条，对接记录 {len(outcomes)} 条")
    report = evaluate_report(demands, products, outcomes, current_app.config["MODEL_DIR"], split_at=_split(split_at))
    if as_json:
        _dump(report)
        return
    ndcg = report["ndcg@10"]
    model = "—（无可用模型）" if ndcg["model"] is None else f"{ndcg['model']:.4f}"
    click.echo(f"评估需求数：{report['queries']}")
    click.echo(f"NDCG@10  模型 {model}  规则评分 {ndcg['rule']:.4f}  文本相似度 {ndcg['text']:.4f}")


@ranking_cli.command("recommend")
@click.option("--demand", "demand_refs", multiple=True, metavar="REF", help="需求编号（可重复）。")
@click.option("--institution", "org_refs", multiple=True, metavar="REF", help="金融机构编号（可重复）。")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000), help="每项给出前 N 条。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
def recommend_command(demand_refs, org_refs, top, as_json):
    """为需求推荐产品和机构，或为机构推荐需求池中的需求，并给出理由。"""
    if not demand_refs and not org_refs:
        raise click.UsageError("请至少给出一个 --demand 或 --institution。")
    demands = load_demands(refs=demand_refs) if demand_refs else []
    missing = [r for r in demand_refs if r not in {d.ref for d in demands}]
    if missing:
        _err(f"找不到需求：{', '.join(missing)}")
        sys.exit(1)
    if org_refs:
        kinds = dict(db_session.execute(sa.select(Organization.ref, Organization.kind)
                                        .where(Organization.ref.in_(org_refs))).all())
        unknown = [r for r in org_refs if r not in kinds]
        if unknown:
            _err(f"找不到机构：{', '.join(unknown)}")
            sys.exit(1)
        wrong = [r for r in org_refs if kinds[r] not in (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)]
        if wrong:
            _err(f"不是金融机构（银行、基金或担保机构）：{', '.join(wrong)}")
            sys.exit(1)
    outcomes, history = load_history()
    ranker = Ranker(current_app.config["MODEL_DIR"], outcomes, history)
    products = load_products()
    out: dict = {}
    scorer = "rule"
    by_ref = {d.ref: d for d in demands}
    if demand_refs:
        part, scorer = recommend_for_demands_report(ranker, [by_ref[r] for r in dict.fromkeys(demand_refs)],
                                                    products, top=top)
        out.update(part)
    if org_refs:
        part, scorer = recommend_for_institutions_report(ranker, list(dict.fromkeys(org_refs)),
                                                         load_pool(), products, top=top)
        out.update(part)
    _err(f"排序方式：{scorer}")
    if as_json:
        _dump(out)
        return
    for key, items in out.items():
        click.echo(f"{key}：")
        if not items:
            click.echo("  （没有符合准入条件的匹配）")
        for k, item in enumerate(items, 1):
            click.echo(f"  {k}. {item['ref']}（{item['org']}）{item['score']:.3f}  " + "；".join(item["reasons"]))
