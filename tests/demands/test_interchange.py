"""JSON Lines of tech_project and demand in the DESIGN §9 shape: import as history, round trip, bad lines."""
import io
import json
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from models import AuditEntry, Demand, DemandHistory, TechProject, db_session
from tests import factories

WORLD = [
    {"type": "organization", "ref": "ent-0001", "kind": "enterprise", "name": "滕州华鑫智能装备有限公司",
     "uscc": factories.valid_uscc(910001), "district": "滕州市", "industry": "高端装备", "size": "small",
     "revenue": 8600},
    {"type": "organization", "ref": "bank-03", "kind": "bank", "name": "工商银行滕州支行", "district": "滕州市"},
    # The example lines of DESIGN §9, as written there.
    {"type": "tech_project", "ref": "tp-0001", "org": "ent-0001", "name": "数控车间智能化改造",
     "category": "smart_upgrade", "total_investment": 5000, "equipment_investment": 3200, "start": "2026-01-01",
     "end": "2027-06-30", "progress": 40, "major": True},
    {"type": "demand", "ref": "dm-0001", "org": "ent-0001", "project": "tp-0001", "title": "智能产线设备贷款",
     "description": "购置数控加工中心", "amount": 2000, "term_months": 36, "purpose": "smart_upgrade",
     "financing_types": ["loan"], "collateral": ["equipment"], "max_rate": 4.5, "status": "published",
     "created": "2026-03-01T09:00:00"},
    {"type": "demand", "ref": "dm-0002", "org": "ent-0001", "title": "流动资金贷款", "description": "采购原材料",
     "amount": 300.5, "term_months": 12, "purpose": "working_capital", "financing_types": ["loan", "guarantee"],
     "collateral": ["none"], "status": "expired", "created": "2025-01-05T10:30:00", "valid_until": "2025-07-04",
     "banks": ["bank-03"]},
]


def lines(objs):
    return [json.dumps(o, ensure_ascii=False) for o in objs]


def test_design_example_lines_import_as_history(ctx, city):
    report = import_lines(lines(WORLD), city=city)
    assert report.ok, report.errors
    assert report.counts == {"organization": 2, "tech_project": 1, "demand": 2}
    project = db_session.scalar(sa.select(TechProject))
    assert project.progress == 40 and project.is_major and project.equipment_investment == Decimal(3200)
    published = db_session.scalar(sa.select(Demand).where(Demand.ref == "dm-0001"))
    assert published.status == "published" and published.project is project
    # 09:00 in 枣庄 is 01:00 UTC; valid-until defaults to 180 days after the day it was made.
    assert published.created_at == datetime(2026, 3, 1, 1, 0)
    assert published.valid_until.isoformat() == "2026-08-28"
    old = db_session.scalar(sa.select(Demand).where(Demand.ref == "dm-0002"))
    assert old.status == "expired" and old.amount == Decimal("300.5") and old.intended_banks[0].org.ref == "bank-03"
    # No life cycle ran: no history steps; the audit log records the import.
    assert db_session.scalar(sa.select(sa.func.count(DemandHistory.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.action.in_(["demand.imported", "tech_project.imported"]))) == 3


def test_export_then_import_round_trips(ctx, city, world):
    assert import_lines(lines(WORLD), city=city).ok
    # Objects made through the services travel too.
    from matchmaker.demands import services as demands
    from matchmaker.projects import services as projects

    p = projects.create_project(world.enterprise, {
        "name": "绿色工厂", "category": "green", "total_investment": Decimal("800.25"),
        "equipment_investment": Decimal(0), "start_on": None, "end_on": None, "district": None,
        "description": "余热回收"})
    demand = demands.create_demand(world.enterprise, {
        "title": "节能改造", "description": "说明", "amount": Decimal(100), "term_months": 24, "purpose": "green",
        "financing_types": ["leasing"], "collateral": ["equipment", "ip"], "max_rate": Decimal("3.875"),
        "valid_until": datetime(2099, 1, 1).date(), "contact_name": "王五", "contact_phone": "0632-1234567"},
        project=p)
    demands.set_intended_banks(world.enterprise, demand, [world.bank.org])
    update = projects.add_progress(world.enterprise, p, percent=30, done="设备招标", problems="资金缺口")
    projects.follow_up(world.district_bureau, update, note="已推荐银行", resolve=False)
    projects.follow_up(world.district_bureau, update, note="已获贷款", resolve=True)
    first = io.StringIO()
    export_lines(first, city=city)
    text = first.getvalue()
    assert '"type":"progress_update"' in text and '"resolved":true' in text
    assert '"type":"tech_project"' in text and '"type":"demand"' in text and '"max_rate":3.875' in text

    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(text.splitlines(), city=city)
    assert report.ok, report.errors
    again = io.StringIO()
    export_lines(again, city=city)
    assert again.getvalue() == text


def test_bad_lines_are_named_and_nothing_is_imported(ctx, city):
    cases = [
        ({"type": "tech_project", "ref": "tp-9", "org": "ent-0001", "name": "x", "category": "smart_upgrade",
          "total_investment": 100, "equipment_investment": 200}, "equipment_investment", "不能大于总投资"),
        ({"type": "tech_project", "ref": "tp-8", "org": "ent-0001", "name": "x", "category": "robots",
          "total_investment": 100}, "category", "无效"),
        ({"type": "tech_project", "ref": "tp-7", "org": "bank-03", "name": "x", "category": "green",
          "total_investment": 100}, "org", "不是企业"),
        ({"type": "tech_project", "ref": "tp-6", "org": "ent-0001", "name": "x", "category": "green",
          "total_investment": 100, "start": "2026-05-01", "end": "2026-01-01"}, "end", "不能早于"),
        ({**WORLD[3], "ref": "dm-9", "colour": "red"}, "colour", "未知字段"),
        ({**WORLD[3], "ref": "dm-8", "amount": 0}, "amount", "应大于0"),
        ({**WORLD[3], "ref": "dm-7", "term_months": 400}, "term_months", "1至360"),
        ({**WORLD[3], "ref": "dm-6", "max_rate": 40}, "max_rate", "0至36%"),
        ({**WORLD[3], "ref": "dm-5", "status": "approved"}, "status", "无效"),
        ({**WORLD[3], "ref": "dm-4", "financing_types": ["gift"]}, "financing_types", "无效"),
        ({**WORLD[3], "ref": "dm-3", "project": "tp-404"}, "project", "不存在"),
        ({**WORLD[3], "ref": "dm-2", "created": "yesterday"}, "created", "ISO 8601"),
        ({**WORLD[3], "ref": "dm-1", "banks": ["bank-03", "ent-0001"]}, "banks", "不是银行"),
    ]
    report = import_lines(lines(WORLD[:3] + [c[0] for c in cases]), city=city)
    assert [(e.line, e.field) for e in report.errors] == [(i, c[1]) for i, c in enumerate(cases, start=4)]
    for e, c in zip(report.errors, cases, strict=True):
        assert c[2] in e.message, (e, c)
    assert db_session.scalar(sa.select(sa.func.count(TechProject.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(Demand.id))) == 0


def test_a_demand_of_another_enterprises_project_is_refused(ctx, city):
    other = {**WORLD[0], "ref": "ent-0002", "uscc": factories.valid_uscc(910002), "name": "另一家企业"}
    report = import_lines(lines(WORLD[:3] + [other, {**WORLD[3], "org": "ent-0002"}]), city=city)
    assert [(e.line, e.field) for e in report.errors] == [(5, "project")]
