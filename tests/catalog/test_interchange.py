"""`product` lines in the DESIGN §9 shape: import checked like the form, all or nothing, round trip."""
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from models import Product, db_session

ORGS = [
    {"type": "organization", "ref": "bank-01", "kind": "bank", "name": "工商银行枣庄分行", "district": "市中区"},
    {"type": "organization", "ref": "bank-03", "kind": "bank", "name": "工商银行滕州支行", "district": "滕州市",
     "parent": "bank-01"},
    {"type": "organization", "ref": "fund-01", "kind": "fund", "name": "枣庄产业发展投资基金"},
    {"type": "organization", "ref": "ent-0001", "kind": "enterprise", "name": "滕州华鑫智能装备有限公司",
     "uscc": "91370481000900001" + "X", "district": "滕州市"},
]
# The product line exactly as DESIGN §9 writes it.
DESIGN_LINE = (
    '{"type":"product","ref":"pd-0001","org":"bank-03","kind":"loan","name":"技改贷","description":"支持设备更新",'
    '"amount_min":100,"amount_max":5000,"term_min":6,"term_max":60,"rate_min":3.2,"rate_max":5.5,'
    '"collateral":["none","property"],"industries":[],"districts":[],"sizes":["small","micro"],'
    '"purposes":["smart_upgrade","equipment"],"tags":["信用贷","技改贷"],"status":"active"}'
)
EQUITY = {"type": "product", "ref": "pd-0002", "org": "fund-01", "kind": "equity", "name": "股权直投（成长期）",
          "description": "投资高端装备、锂电企业", "amount_min": 500, "amount_max": 5000, "term_min": 36, "term_max": 84,
          "collateral": [], "industries": ["高端装备", "锂电"], "districts": [], "sizes": [], "purposes": ["expansion"],
          "tags": [], "status": "paused", "stage": "growth", "approval_days": 30, "created": "2026-03-01T09:00:00"}


@pytest.fixture
def orgs(ctx, city):
    from models.organizations import uscc_check_char

    ORGS[3]["uscc"] = "91370481000900001" + uscc_check_char("91370481000900001")
    report = import_lines([json.dumps(o, ensure_ascii=False) for o in ORGS], city=city)
    assert report.ok, report.errors


def test_design_line_and_an_equity_line_import(orgs, city):
    report = import_lines([DESIGN_LINE, json.dumps(EQUITY, ensure_ascii=False)], city=city)
    assert report.ok, report.errors
    loan = db_session.scalar(sa.select(Product).where(Product.ref == "pd-0001"))
    assert loan.org.ref == "bank-03" and loan.amount_max == Decimal(5000) and loan.rate_min == Decimal("3.2")
    assert loan.collateral == ["none", "property"] and loan.sizes == ["small", "micro"] and loan.tags == ["信用贷", "技改贷"]
    equity = db_session.scalar(sa.select(Product).where(Product.ref == "pd-0002"))
    assert equity.rate_min == 0 and equity.status.value == "paused" and equity.stage.value == "growth"
    # Local time on the line, UTC in the database.
    assert equity.created_at.isoformat() == "2026-03-01T01:00:00"


@pytest.mark.parametrize("change, field, message", [
    ({"colour": "red"}, "colour", "未知字段"),
    ({"amount_min": 6000}, "amount_max", "最高金额不能小于最低金额"),
    ({"term_max": 400}, "term_max", "1至360"),
    ({"rate_min": 40}, "rate_min", "0%至36%"),
    ({"rate_min": 6}, "rate_max", "最高利率不能小于最低利率"),
    ({"rate_min": None}, "rate_min", "缺少必填字段"),
    ({"collateral": ["gold"]}, "collateral", "无效"),
    ({"districts": ["北京"]}, "districts", "无效"),
    ({"kind": "equity"}, "kind", "本机构只能发布"),
    ({"org": "ent-0001"}, "org", "银行、基金或担保机构"),
    ({"org": "bank-99"}, "org", "不存在"),
    ({"name": ""}, "name", "缺少必填字段"),
    ({"status": "sold"}, "status", "无效"),
])
def test_bad_product_lines_name_the_field(orgs, city, change, field, message):
    line = {**json.loads(DESIGN_LINE), **change}
    line = {k: v for k, v in line.items() if v is not None}
    report = import_lines([json.dumps(EQUITY, ensure_ascii=False), json.dumps(line, ensure_ascii=False)], city=city)
    assert [(e.line, e.field) for e in report.errors] == [(2, field)]
    assert message in report.errors[0].message
    # All or nothing: the good line before it is not imported either.
    assert db_session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_export_then_import_gives_the_same_data(orgs, city):
    assert import_lines([DESIGN_LINE, json.dumps(EQUITY, ensure_ascii=False)], city=city).ok
    first = io.StringIO()
    counts = export_lines(first, city=city)
    assert counts["product"] == 2
    exported = [json.loads(x) for x in first.getvalue().splitlines() if '"type":"product"' in x]
    design = json.loads(DESIGN_LINE)
    assert {k: v for k, v in exported[0].items() if k != "created"} == design

    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(first.getvalue().splitlines(), city=city)
    assert report.ok, report.errors
    again = io.StringIO()
    export_lines(again, city=city)
    assert again.getvalue() == first.getvalue()


def test_cli_round_trip(app, tmp_path, orgs):
    runner = app.test_cli_runner()
    src = tmp_path / "in.jsonl"
    src.write_text(DESIGN_LINE + "\n", encoding="utf-8")
    assert runner.invoke(args=["data", "import", str(src)], catch_exceptions=False).exit_code == 0
    out = tmp_path / "out.jsonl"
    result = runner.invoke(args=["data", "export", str(out), "--type", "product"], catch_exceptions=False)
    assert result.exit_code == 0
    line = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert line["ref"] == "pd-0001" and line["type"] == "product"
