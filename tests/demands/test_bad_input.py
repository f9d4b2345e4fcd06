"""Bad input on the demand and project forms: a Chinese message at the field, and what was typed is kept."""
import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Demand, TechProject, db_session

GOOD_DEMAND = {
    "title": "设备更新贷款", "description": "购置设备", "amount": "2000", "term_months": "36", "purpose": "equipment",
    "financing_types": ["loan"], "collateral": ["equipment"], "max_rate": "4.5", "valid_until": "2099-12-31",
    "contact_name": "李会计", "contact_phone": "13911112222",
}
GOOD_PROJECT = {
    "name": "智能车间改造", "category": "smart_upgrade", "total_investment": "5000",
    "equipment_investment": "3200", "start_on": "2026-01-01", "end_on": "2027-06-30", "description": "说明",
}


def errors_of(text: str) -> dict[str, str]:
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'data-field="([a-z_]+)">([^<]+)<', text)}


def value_of(text: str, name: str) -> str | None:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', text) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', text)
    return html.unescape(m[1]) if m else None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("amount", "0", "融资金额应大于0"),
    ("amount", "-5", "融资金额应大于0"),
    ("amount", "100001", "融资金额不能超过100,000万元"),
    ("amount", "很多", "请输入数字"),
    ("term_months", "0", "融资期限应为1至360个月"),
    ("term_months", "361", "融资期限应为1至360个月"),
    ("term_months", "12.5", "请输入整数"),
    ("max_rate", "36.5", "可接受的年利率上限应在0至36%之间"),
    ("max_rate", "-1", "可接受的年利率上限应在0至36%之间"),
    ("valid_until", (date.today() - timedelta(days=2)).isoformat(), "有效期不能早于今天"),
    ("valid_until", "2026-13-40", "请输入有效日期"),
    ("title", "长" * 101, "需求标题不能超过100个字"),
    ("title", "", "请填写需求标题"),
    ("description", "字" * 2001, "需求说明不能超过2000个字"),
    ("financing_types", [], "请至少选择一种融资方式"),
    ("collateral", [], "请至少选择一种担保方式"),
])
def test_bad_demand_input_is_named_at_its_field_and_kept(world, login_as, field, value, message):
    data = {**GOOD_DEMAND, field: value}
    resp = login_as(world.enterprise).post("/demands/new", data=data)
    assert resp.status_code == 200
    errors = errors_of(resp.text)
    assert list(errors) == [field] and message in errors[field], errors
    # Everything the user typed is still there, the bad value included.
    assert value_of(resp.text, "title") == data["title"]
    assert value_of(resp.text, "amount") == data["amount"]
    assert value_of(resp.text, "term_months") == data["term_months"]
    assert value_of(resp.text, "contact_phone") == "13911112222"
    assert re.search(r'<input checked[^>]*value="loan"', resp.text) or field == "financing_types"
    assert "李会计" in resp.text and (data["description"] in resp.text)
    assert db_session.scalar(sa.select(sa.func.count(Demand.id))) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("total_investment", "0", "总投资应大于0"),
    ("equipment_investment", "6000", "设备投资不能大于总投资"),
    ("equipment_investment", "-1", "设备投资不能为负数"),
    ("end_on", "2025-12-31", "计划竣工日期不能早于计划开工日期"),
    ("name", "名" * 201, "项目名称不能超过200个字"),
    ("category", "", "请选择项目类别"),
    ("total_investment", "五千", "请输入数字"),
])
def test_bad_project_input_is_named_at_its_field_and_kept(world, login_as, field, value, message):
    data = {**GOOD_PROJECT, field: value}
    resp = login_as(world.enterprise).post("/projects/new", data=data)
    errors = errors_of(resp.text)
    assert list(errors) == [field] and message in errors[field], errors
    for key in ("name", "total_investment", "equipment_investment", "start_on", "end_on"):
        assert value_of(resp.text, key) == data[key], key
    assert db_session.scalar(sa.select(sa.func.count(TechProject.id))) == 0


def test_a_failed_edit_keeps_the_saved_demand_unchanged(world, login_as):
    from tests import factories

    demand = factories.make_demand(world.enterprise.org, status="returned")
    resp = login_as(world.enterprise).post(f"/demands/{demand.ref}/edit", data={**GOOD_DEMAND, "amount": "-1"})
    assert "融资金额应大于0" in resp.text and value_of(resp.text, "amount") == "-1"
    db_session.refresh(demand)
    assert demand.amount == 2000 and demand.title != "设备更新贷款"
