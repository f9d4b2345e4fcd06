"""Bulk exchange: the period's outcomes exported (JSON Lines, the provincial workbook) and banks' reports imported."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.demands.services import local_today
from matchmaker.exchange import services
from matchmaker.exchange import template as T
from models import AuditEntry, Deal, Demand, Disbursement, Offer, Product, db_session
from tests.exchange.helpers import build, outcome_workbook, rows


@pytest.fixture
def hist(world):
    return build(world)


def period(city, district=None):
    today = local_today()
    return services.export_scope(city, today - timedelta(days=30), today, district)


def test_the_workbook_carries_the_template_and_the_periods_outcomes(hist, world, city):
    data = services.export_workbook(period(city), city).getvalue()
    demands = rows(data, "融资需求")
    assert demands[0] == T.DEMANDS.headers
    assert demands[0][:4] == ["需求编号", "企业名称", "统一社会信用代码", "所属区（市）"]
    by_ref = {r[0]: r for r in demands[1:]}
    assert set(by_ref) == {hist.funded.ref, hist.matched.ref}      # never the draft
    row = by_ref[hist.funded.ref]
    assert row[1:6] == [world.enterprise.org.name, world.enterprise.org.uscc, "滕州市", "高端装备", 2000]
    assert row[7:10] == ["智能化改造", "贷款", "已放款"]
    outcomes = rows(data, "对接结果")
    assert outcomes[0] == T.OUTCOMES.headers
    funded = next(r for r in outcomes[1:] if r[1] == hist.funded.ref)
    today = local_today()
    assert funded[2:8] == [world.bank.org.name, "技改贷", "贷款", 1500, 4.2, 36]
    assert funded[9] == 1200 and funded[10].date() == today
    # Two payments of 500 and 700: one figure, the last date.
    assert funded[11] == 1200 and funded[12].date() == today
    matched = next(r for r in outcomes[1:] if r[1] == hist.matched.ref)
    assert matched[2] == world.other_bank.org.name and matched[9:] == [None, None, None, None]


def test_a_district_sees_only_its_district_and_an_old_period_nothing(hist, city, world):
    data = services.export_workbook(period(city, "滕州市"), city).getvalue()
    assert [r[0] for r in rows(data, "融资需求")[1:]] == [hist.funded.ref]
    with pytest.raises(LookupError):
        services.export_scope(city, "2026-01-01", "2026-12-31", "薛城区", user=world.district_bureau)
    assert services.export_scope(city, "2026-01-01", "2026-12-31", user=world.district_bureau).district == "滕州市"
    old = services.export_scope(city, "2020-01-01", "2020-12-31")
    assert services.reported_demands(old, city) == []


def test_jsonl_export_is_design_9_with_references_before_use(hist, city):
    buf = io.StringIO()
    counts = services.export_jsonl(buf, period(city), city)
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert counts == {"organization": 4, "product": 1, "demand": 2, "offer": 2, "deal": 1}
    seen = set()
    for line in lines:
        for key in ("org", "demand", "offer", "product", "parent"):
            if key in line:
                assert line[key] in seen, (line["type"], key)
        seen.add(line.get("ref"))
    deal = next(x for x in lines if x["type"] == "deal")
    assert deal["signed_amount"] == 1200 and deal["disbursements"] == [
        {"amount": 500, "on": local_today().isoformat()}, {"amount": 700, "on": local_today().isoformat()}]


def _forget_outcomes(demand):
    offer_ids = list(db_session.scalars(sa.select(Offer.id).where(Offer.demand_id == demand.id)))
    deal_ids = list(db_session.scalars(sa.select(Deal.id).where(Deal.offer_id.in_(offer_ids))))
    db_session.execute(sa.delete(Disbursement).where(Disbursement.deal_id.in_(deal_ids)))
    db_session.execute(sa.delete(Deal).where(Deal.id.in_(deal_ids)))
    db_session.execute(sa.delete(Offer).where(Offer.id.in_(offer_ids)))
    db_session.commit()


def test_round_trip_export_xlsx_then_import_the_outcomes_sheet_gives_the_same_data(hist, world, city):
    scope = period(city, "滕州市")
    before = services.export_workbook(scope, city).getvalue()
    _forget_outcomes(hist.funded)
    assert rows(services.export_workbook(scope, city).getvalue(), "对接结果")[1:] == []
    report = services.import_workbook(world.bank, before, city, name="报送.xlsx")
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts == {"offer": 1, "deal": 1}
    after = services.export_workbook(scope, city).getvalue()
    assert rows(after, "对接结果") == rows(before, "对接结果")
    assert rows(after, "融资需求") == rows(before, "融资需求")


def test_one_bad_row_imports_nothing_and_names_the_row_and_column(hist, world, city):
    from tests import factories

    a, b = (factories.make_demand(world.enterprise.org, status="published") for _ in range(2))
    good = {"需求编号": a.ref, "金融机构": world.bank.org.name, "产品": "技改贷", "授信/投资金额（万元）": 300,
            "利率（%）": 4.0, "期限（月）": 12, "接受日期": local_today()}
    data = outcome_workbook(good, {**good, "授信/投资金额（万元）": "三百万", "需求编号": b.ref})
    n = db_session.scalar(sa.select(sa.func.count(Offer.id)))
    report = services.import_workbook(world.bank, data, city)
    assert not report.ok
    assert [(e.sheet, e.line, e.field) for e in report.errors] == [("对接结果", 3, "授信/投资金额（万元）")]
    assert "应为数字" in report.errors[0].message
    assert str(report.errors[0]).startswith("对接结果第3行：字段 授信/投资金额（万元）")
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == n
    refused = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "exchange.import_refused"))
    assert refused is not None and refused.details["errors"] == 1


def test_an_institution_cannot_import_for_another_organisation(hist, world, city):
    other = world.other_bank.org
    lines = [json.dumps({"type": "product", "ref": "pd-x1", "org": other.ref, "kind": "loan", "name": "他行产品",
                         "amount_min": 100, "amount_max": 500, "term_min": 6, "term_max": 36, "rate_min": 3.5,
                         "rate_max": 5}, ensure_ascii=False),
             json.dumps({"type": "organization", "ref": "bank-x", "kind": "bank", "name": "冒名银行"},
                        ensure_ascii=False)]
    report = services.import_jsonl(world.bank, lines, city)
    assert [(e.line, e.field) for e in report.errors] == [(1, "org"), (2, "type")]
    assert "只能导入本机构" in report.errors[0].message
    assert db_session.scalar(sa.select(Product).where(Product.ref == "pd-x1")) is None
    # In a workbook: a row naming another institution.
    data = outcome_workbook({"需求编号": hist.funded.ref, "金融机构": other.name, "授信/投资金额（万元）": 100,
                             "利率（%）": 4})
    report = services.import_workbook(world.bank, data, city)
    assert [(e.line, e.field) for e in report.errors] == [(2, "金融机构")]
    # A deal on another institution's offer.
    theirs = db_session.scalar(sa.select(Offer).where(Offer.demand_id == hist.matched.id))
    line = json.dumps({"type": "deal", "ref": "dl-x1", "offer": theirs.ref, "signed_amount": 100,
                       "signed_on": local_today().isoformat()})
    report = services.import_jsonl(world.bank, [line], city)
    assert [(e.line, e.field) for e in report.errors] == [(1, "offer")]
    assert db_session.scalar(sa.select(Deal).where(Deal.ref == "dl-x1")) is None


def test_only_outcomes_for_demands_the_institution_may_see(hist, world, city):
    line = json.dumps({"type": "offer", "ref": "of-x1", "demand": hist.draft.ref, "org": world.bank.org.ref,
                       "amount": 100, "rate": 4, "term_months": 12, "status": "accepted"})
    report = services.import_jsonl(world.bank, [line], city)
    assert [(e.line, e.field) for e in report.errors] == [(1, "demand")]
    assert db_session.scalar(sa.select(Offer).where(Offer.ref == "of-x1")) is None


def test_reported_outcomes_move_the_demand_and_reveal_the_enterprise(world, city):
    from matchmaker.demands.reveal import can_see_identity
    from tests import factories

    demand = factories.make_demand(world.enterprise.org, status="published", amount=Decimal(1000))
    today = local_today().isoformat()
    lines = [
        json.dumps({"type": "product", "ref": "pd-r1", "org": world.bank.org.ref, "kind": "loan", "name": "线下贷",
                    "amount_min": 100, "amount_max": 1000, "term_min": 6, "term_max": 36, "rate_min": 3.5,
                    "rate_max": 5}, ensure_ascii=False),
        json.dumps({"type": "offer", "ref": "of-r1", "demand": demand.ref, "org": world.bank.org.ref,
                    "product": "pd-r1", "amount": 1000, "rate": 4, "term_months": 24, "status": "accepted",
                    "accepted": today + "T10:00:00"}),
        json.dumps({"type": "deal", "ref": "dl-r1", "offer": "of-r1", "signed_amount": 1000, "signed_on": today,
                    "disbursed_amount": 1000, "disbursed_on": today}),
    ]
    report = services.import_jsonl(world.bank, lines, city, name="offline.jsonl")
    assert report.ok, [str(e) for e in report.errors]
    db_session.refresh(demand)
    assert demand.status == "funded"
    assert can_see_identity(world.bank, demand)
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "exchange.imported"))
    assert entry.details["imported"] == {"product": 1, "offer": 1, "deal": 1} and entry.org_id == world.bank.org_id


def test_a_workbook_reports_new_products_and_outcomes_naming_them(world, city):
    from tests import factories

    d = factories.make_demand(world.enterprise.org, status="published")
    product = {"金融机构": world.bank.org.name, "产品名称": "线下设备贷", "产品类型": "贷款", "金额下限（万元）": 100,
               "金额上限（万元）": 3000, "期限下限（月）": 6, "期限上限（月）": 60, "利率下限（%）": 3.2, "利率上限（%）": 5.5,
               "担保方式": "信用、设备抵押", "适用区（市）": "滕州市", "适用企业规模": "小型、微型", "适用用途": "设备更新",
               "标签": "技改贷", "状态": "在售"}
    outcome = {"需求编号": d.ref, "金融机构": world.bank.org.name, "产品": "线下设备贷", "授信/投资金额（万元）": 800,
               "利率（%）": 3.9, "期限（月）": 36}
    bad = services.import_workbook(world.bank, outcome_workbook(outcome, products=(
        product, {**product, "产品名称": "倒挂产品", "金额下限（万元）": 5000, "适用企业规模": "巨型"})), city)
    assert [(e.sheet, e.line, e.field) for e in bad.errors] == [("金融产品", 3, "适用企业规模")]
    assert db_session.scalar(sa.select(Product).where(Product.name == "线下设备贷")) is None
    report = services.import_workbook(world.bank, outcome_workbook(outcome, products=(product,)), city)
    assert report.ok, [str(e) for e in report.errors]
    made = db_session.scalar(sa.select(Product).where(Product.name == "线下设备贷"))
    assert made.org_id == world.bank.org_id and made.collateral == ["none", "equipment"]
    assert made.sizes == ["small", "micro"] and made.districts == ["滕州市"] and made.purposes == ["equipment"]
    offer = db_session.scalar(sa.select(Offer).where(Offer.demand_id == d.id))
    assert offer.product_id == made.id and offer.status == "accepted"
    db_session.refresh(d)
    assert d.status == "matched"


def test_a_file_that_is_neither_is_refused_with_a_reason(world, city):
    with pytest.raises(services.ExchangeError, match="Excel"):
        services.import_file(world.bank, "x.bin", b"\xff\xfe\x00garbage", city)
    with pytest.raises(services.ExchangeError, match="金融产品"):
        from openpyxl import Workbook

        wb, buf = Workbook(), io.BytesIO()
        wb.save(buf)
        services.import_file(world.bank, "x.xlsx", buf.getvalue(), city)


def test_commands_export_and_import(hist, world, app, tmp_path):
    runner = app.test_cli_runner()
    today = local_today()
    out = tmp_path / "report.xlsx"
    r = runner.invoke(args=["exchange", "export", "--format", "xlsx", "--from", (today - timedelta(days=7)).isoformat(),
                            "--to", today.isoformat(), "--district", "滕州市", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"out": str(out), "format": "xlsx", "demands": 1, "outcomes": 1, "deals": 1}
    jl = tmp_path / "report.jsonl"
    r = runner.invoke(args=["exchange", "export", "--format", "jsonl", "--from", today.isoformat(), "--to",
                            today.isoformat(), "--out", str(jl)])
    assert r.exit_code == 0 and jl.read_text().count('"type":"offer"') == 2
    _forget_outcomes(hist.funded)
    bad = runner.invoke(args=["exchange", "import", str(out), "--org", world.other_bank.org.ref, "--json"])
    assert bad.exit_code == 1
    body = json.loads(bad.stdout)
    assert body["ok"] is False and body["errors"][0]["field"] == "金融机构" and body["errors"][0]["line"] == 2
    ok = runner.invoke(args=["exchange", "import", str(out), "--org", world.bank.org.ref, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["imported"] == {"offer": 1, "deal": 1}
    assert db_session.scalar(sa.select(Demand.status).where(Demand.id == hist.funded.id)) == "funded"
