"""Projects: progress and problems, the bureau's follow-up, the ledger by scope and its Excel export."""
import io

import sqlalchemy as sa
from openpyxl import load_workbook

from matchmaker.projects import services
from models import AuditEntry, ProgressUpdate, TechProject, db_session
from tests import factories


def test_enterprise_reports_progress_and_the_bureau_follows_up(world, login_as):
    project = factories.make_project(world.enterprise.org, name="锂电池产线扩能")
    ent = login_as(world.enterprise)
    resp = ent.post(f"/projects/{project.ref}", data={"percent": "40", "done": "厂房主体完工",
                                                      "problems": "电力增容审批慢"}, follow_redirects=True)
    assert "进度已填报" in resp.text and "电力增容审批慢" in resp.text and "待解决" in resp.text
    assert project.progress == 40
    update = db_session.scalar(sa.select(ProgressUpdate))

    bureau = login_as(world.district_bureau)
    # The bureau cannot report progress for the enterprise.
    assert bureau.post(f"/projects/{project.ref}", data={"percent": "90", "done": "x"}).status_code == 403
    resp = bureau.post(f"/projects/{project.ref}/follow-up", data={"update_id": update.id, "note": "已协调供电公司"},
                       follow_redirects=True)
    assert "跟踪情况已记录" in resp.text and "已协调供电公司" in resp.text
    assert update.has_open_problem
    resp = bureau.post(f"/projects/{project.ref}/follow-up",
                       data={"update_id": update.id, "note": "增容已批复", "resolve": "y"}, follow_redirects=True)
    assert "问题已标记为解决" in resp.text
    db_session.refresh(update)
    assert update.is_resolved and not update.has_open_problem
    assert "该问题已解决" in bureau.post(f"/projects/{project.ref}/follow-up",
                                       data={"update_id": update.id, "note": "再跟踪"}, follow_redirects=True).text
    bureau.post(f"/projects/{project.ref}/major", data={"is_major": "1"})
    db_session.refresh(project)
    assert project.is_major
    actions = db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_ref == project.ref)).all()
    assert actions == ["tech_project.progress", "tech_project.follow_up", "tech_project.problem_resolved",
                       "tech_project.major"]


def test_enterprise_edits_its_project_and_every_change_is_audited(world, login_as):
    ent = login_as(world.enterprise)
    ent.post("/projects/new", data={"name": "绿色工厂改造", "category": "green", "total_investment": "800",
                                    "equipment_investment": "300.5"})
    project = db_session.scalar(sa.select(TechProject))
    assert str(project.equipment_investment) == "300.5000" and project.district == "滕州市"
    resp = ent.post(f"/projects/{project.ref}/edit", data={"name": "绿色工厂改造二期", "category": "green",
                                                           "total_investment": "900", "equipment_investment": "300.5"},
                    follow_redirects=True)
    assert "项目已保存" in resp.text and "绿色工厂改造二期" in resp.text
    entry = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "tech_project.updated")).one()
    assert set(entry.details["changed"]) == {"name", "total_investment"}
    assert login_as(world.enterprise_b).get(f"/projects/{project.ref}/edit").status_code == 404


def test_ledger_is_scoped_and_filtered(world, login_as):
    a = factories.make_project(world.enterprise.org, name="滕州项目甲", category="equipment", progress=80)
    b = factories.make_project(world.enterprise_b.org, name="薛城项目乙", category="green", progress=10)
    services.add_progress(world.enterprise, a, percent=80, done="设备安装", problems="缺少熟练技工")
    district = login_as(world.district_bureau)
    text = district.get("/projects/ledger").text
    assert "滕州项目甲" in text and "薛城项目乙" not in text and "缺少熟练技工" in text
    assert district.get(f"/projects/{b.ref}").status_code == 404
    assert login_as(world.other_district_bureau).get(f"/projects/{b.ref}").status_code == 200

    city = login_as(world.city_bureau)

    def names(query):
        page = city.get("/projects/ledger" + query).text
        return [n for n in ("滕州项目甲", "薛城项目乙") if n in page]

    assert names("") == ["滕州项目甲", "薛城项目乙"]
    assert names("?district=薛城区") == ["薛城项目乙"]
    assert names("?category=equipment") == ["滕州项目甲"]
    assert names("?progress=0-29") == ["薛城项目乙"]
    assert names("?progress=70-99") == ["滕州项目甲"]
    assert names("?problems=1") == ["滕州项目甲"]
    assert names("?cluster=医药健康") == []
    assert names("?major=1") == []


def test_ledger_exports_to_excel(world, login_as):
    project = factories.make_project(world.enterprise.org, name="数控车间改造", total_investment=5000,
                                     equipment_investment=3200, progress=40, is_major=True)
    services.add_progress(world.enterprise, project, percent=40, done="主体完工", problems="用地指标不足")
    factories.make_demand(world.enterprise.org, status="published", project=project, amount=1800)
    factories.make_demand(world.enterprise.org, status="draft", project=project, amount=999)  # not requested yet
    factories.make_project(world.enterprise_b.org, name="外区项目")

    resp = login_as(world.district_bureau).get("/projects/ledger.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("企业名称", "区（市）", "产业集群", "项目名称", "项目类别", "总投资（万元）", "设备投资（万元）",
                       "计划开工", "计划竣工", "进度（%）", "重大项目", "未解决问题", "申请融资（万元）", "已获融资（万元）")
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["企业名称"] == world.enterprise.org.name and row["区（市）"] == "滕州市" and row["产业集群"] == "高端装备"
    assert row["项目名称"] == "数控车间改造" and row["项目类别"] == "智能化改造"
    assert row["总投资（万元）"] == 5000 and row["设备投资（万元）"] == 3200 and row["进度（%）"] == 40
    assert row["重大项目"] == "是" and row["未解决问题"] == "用地指标不足"
    assert row["申请融资（万元）"] == 1800 and row["已获融资（万元）"] == 0
    assert row["计划开工"].date().isoformat() == "2026-01-01"
    # The export keeps the page's filters.
    filtered = login_as(world.city_bureau).get("/projects/ledger.xlsx?district=薛城区")
    names = [r[3] for r in load_workbook(io.BytesIO(filtered.data)).active.iter_rows(min_row=2, values_only=True)]
    assert names == ["外区项目"]
