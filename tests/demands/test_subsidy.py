"""Subsidy estimates of 三（二） with worked examples computed by hand."""
from decimal import Decimal

import pytest

from matchmaker.demands.subsidy import equipment_subsidy, interest_subsidy

POLICY = {"equipment_subsidy_rate": 0.10, "equipment_subsidy_cap": 500, "interest_subsidy_share": 0.50,
          "interest_subsidy_cap": 200, "subsidy_purposes": ["smart_upgrade", "equipment", "green"]}


@pytest.mark.parametrize(("equipment", "expected", "capped"), [
    ("3200", "320", False),        # 3,200 × 10% = 320, under the 500 cap
    ("1234.5", "123.45", False),   # 1,234.5 × 10% = 123.45
    ("5000", "500", False),        # exactly the cap
    ("6000", "500", True),         # 600 is over the cap: 500
])
def test_equipment_subsidy(equipment, expected, capped):
    e = equipment_subsidy(Decimal(equipment), "smart_upgrade", POLICY)
    assert e.amount == Decimal(expected) and e.eligible
    assert "设备投资" in e.formula and "× 奖补比例 10%" in e.formula
    assert ("上限" in e.formula) is capped


def test_equipment_subsidy_formula_in_words():
    e = equipment_subsidy(Decimal(6000), "equipment", POLICY)
    assert e.formula == ("设备奖补 = 设备投资 6,000 万元 × 奖补比例 10% = 600 万元，"
                         "超过每个项目 500 万元的上限，按 500 万元计。")


@pytest.mark.parametrize(("amount", "rate", "months", "interest", "expected"), [
    # 2,000 × 4.5% × 36/12 = 270; half is 135.
    ("2000", "4.5", 36, "270", "135"),
    # 1,000 × 3.85% × 18/12 = 57.75; half is 28.875.
    ("1000", "3.85", 18, "57.75", "28.875"),
    # 5,000 × 5% × 60/12 = 1,250; half is 625, over the 200 cap.
    ("5000", "5", 60, "1,250", "200"),
])
def test_interest_subsidy(amount, rate, months, interest, expected):
    e = interest_subsidy(Decimal(amount), Decimal(rate), months, "green", POLICY)
    assert e.amount == Decimal(expected)
    assert f"= {interest} 万元" in e.formula and "单利" in e.formula and "贴息比例 50%" in e.formula


def test_purposes_outside_the_policy_get_nothing_and_say_why():
    e = equipment_subsidy(Decimal(3000), "working_capital", POLICY)
    i = interest_subsidy(Decimal(3000), Decimal(4), 12, "listing", POLICY)
    assert e.amount == 0 and i.amount == 0 and not e.eligible
    assert "流动资金" in e.formula and "智能化改造、设备更新、绿色化改造" in e.formula


def test_demand_page_shows_both_estimates_with_the_city_policy(world, login_as):
    from tests import factories

    project = factories.make_project(world.enterprise.org, equipment_investment=Decimal(3200))
    demand = factories.make_demand(world.enterprise.org, project=project, amount=Decimal(2000), term_months=36,
                                   max_rate=Decimal("4.5"))
    c = login_as(world.enterprise)
    text = c.get(f"/demands/{demand.ref}").text
    assert "设备奖补：320 万元" in text and "贷款贴息：135 万元" in text
    # Another rate on request: 2,000 × 6% × 3 = 360; half is 180.
    assert "贷款贴息：180 万元" in c.get(f"/demands/{demand.ref}?rate=6").text
