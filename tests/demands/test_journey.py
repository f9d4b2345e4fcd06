"""The whole journey through the web: project, demand, returned, corrected, published, found by a bank."""
import re

import sqlalchemy as sa

from models import AuditEntry, Demand, DemandStatus, TechProject, db_session


def test_enterprise_to_bank_journey(world, login_as):
    ent = login_as(world.enterprise)
    resp = ent.post("/projects/new", data={
        "name": "数控车间智能化改造", "category": "smart_upgrade", "total_investment": "5000",
        "equipment_investment": "3200", "start_on": "2026-01-01", "end_on": "2027-06-30", "district": "",
        "description": "新建两条智能产线",
    }, follow_redirects=True)
    assert resp.status_code == 200 and "已登记项目「数控车间智能化改造」" in resp.text
    # 10% of 3,200 万元 equipment investment, under the 500 万元 cap.
    assert "320 万元" in resp.text
    project = db_session.scalar(sa.select(TechProject))

    resp = ent.post("/demands/new", data={
        "title": "智能产线设备贷款", "project": project.ref, "description": "购置数控加工中心12台",
        "amount": "2000", "term_months": "36", "purpose": "smart_upgrade", "financing_types": ["loan", "leasing"],
        "collateral": ["equipment"], "max_rate": "4.5", "valid_until": "2099-12-31",
        "contact_name": "李会计", "contact_phone": "13911112222",
    }, follow_redirects=True)
    assert "需求已保存为草稿" in resp.text, resp.text
    demand = db_session.scalar(sa.select(Demand))
    assert demand.status == DemandStatus.DRAFT and demand.financing_types == ["loan", "leasing"]

    resp = ent.post(f"/demands/{demand.ref}/action", data={"action": "submit"}, follow_redirects=True)
    assert "已提交审核" in resp.text

    bureau = login_as(world.district_bureau)
    assert "智能产线设备贷款" in bureau.get("/demands/review").text
    resp = bureau.post(f"/demands/{demand.ref}/action", data={"action": "return", "note": ""},
                       follow_redirects=True)
    assert "退回时须填写退回理由" in resp.text
    resp = bureau.post(f"/demands/{demand.ref}/action",
                       data={"action": "return", "note": "请补充设备清单和报价"}, follow_redirects=True)
    assert "已退回修改" in resp.text

    page = ent.get(f"/demands/{demand.ref}").text
    assert "请补充设备清单和报价" in page and "已退回" in page
    resp = ent.post(f"/demands/{demand.ref}/edit", data={
        "title": "智能产线设备贷款", "project": project.ref,
        "description": "购置数控加工中心12台，设备清单和报价见附件",
        "amount": "1800", "term_months": "36", "purpose": "smart_upgrade", "financing_types": ["loan"],
        "collateral": ["equipment", "receivables"], "max_rate": "4.5", "valid_until": "2099-12-31",
        "contact_name": "李会计", "contact_phone": "13911112222",
    }, follow_redirects=True)
    assert "需求已保存" in resp.text
    ent.post(f"/demands/{demand.ref}/action", data={"action": "submit"})

    # Not in the pool before the bureau publishes it.
    bank = login_as(world.bank)
    assert "智能产线设备贷款" not in bank.get("/demands/pool").text
    resp = bureau.post(f"/demands/{demand.ref}/action", data={"action": "publish"}, follow_redirects=True)
    assert "已审核发布" in resp.text

    pool = bank.get("/demands/pool?financing_type=loan&district=滕州市").text
    assert "智能产线设备贷款" in pool and "1,800" in pool
    assert world.enterprise.org.name not in pool
    detail = bank.get(f"/demands/{demand.ref}").text
    assert "营业收入" in detail and world.enterprise.org.name not in detail and "李会计" not in detail

    # The enterprise sees the whole history on its demand page.
    history = re.findall(r'<tr class="history-row">(.*?)</tr>', ent.get(f"/demands/{demand.ref}").text, re.S)
    assert len(history) == 5
    assert "请补充设备清单和报价" in history[2]
    actions = db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_ref == demand.ref)).all()
    assert actions == ["demand.created", "demand.submit", "demand.return", "demand.updated", "demand.submit",
                       "demand.publish"]
