"""Subsidy estimates of policy 三（二）: equipment subsidy (设备奖补) and loan-interest subsidy (贷款贴息).

Pure functions over Decimals, and the same rules as SQL expressions for sums over a whole ledger;
the rates, caps and eligible purposes come from the city's [policy].
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from models.codes import label

CENT = Decimal("0.0001")  # 万元 to four places = exact to the yuan


@dataclass(frozen=True)
class Estimate:
    """One subsidy figure with the plain-Chinese working that produced it."""

    name: str
    amount: Decimal
    formula: str
    eligible: bool = True


def _d(value) -> Decimal:
    # Through str: TOML gives floats, and Decimal(0.1) would carry the binary error.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _show(value: Decimal) -> str:
    """A figure as written in a formula: thousands separators, no trailing zeros."""
    text = f"{_money(value):,.4f}".rstrip("0").rstrip(".")
    return text


def _percent(rate: Decimal) -> str:
    return _show(rate * 100) + "%"


def _ineligible(name: str, purpose: str, policy: dict) -> Estimate:
    allowed = "、".join(label(p) for p in policy.get("subsidy_purposes", ()))
    return Estimate(name, Decimal(0), f"“{label(purpose)}”不在奖补范围内（适用于：{allowed}），不计{name}。", False)


def equipment_subsidy(equipment_investment: Decimal, purpose: str, policy: dict) -> Estimate:
    """设备奖补 = rate × equipment investment, at most the cap per project."""
    name = "设备奖补"
    if purpose not in policy.get("subsidy_purposes", ()):
        return _ineligible(name, purpose, policy)
    rate, cap = _d(policy["equipment_subsidy_rate"]), _d(policy["equipment_subsidy_cap"])
    raw = _money(_d(equipment_investment) * rate)
    amount = min(raw, cap)
    formula = f"设备奖补 = 设备投资 {_show(_d(equipment_investment))} 万元 × 奖补比例 {_percent(rate)} = {_show(raw)} 万元"
    if raw > cap:
        formula += f"，超过每个项目 {_show(cap)} 万元的上限，按 {_show(cap)} 万元计"
    return Estimate(name, amount, formula + "。")


def interest_subsidy(amount: Decimal, rate_percent: Decimal, term_months: int, purpose: str, policy: dict) -> Estimate:
    """贷款贴息 = share × interest, the interest counted simply: amount × annual rate × months / 12; capped."""
    name = "贷款贴息"
    if purpose not in policy.get("subsidy_purposes", ()):
        return _ineligible(name, purpose, policy)
    share, cap = _d(policy["interest_subsidy_share"]), _d(policy["interest_subsidy_cap"])
    rate = _d(rate_percent) / 100
    interest = _money(_d(amount) * rate * term_months / 12)
    raw = _money(interest * share)
    subsidy = min(raw, cap)
    formula = (
        f"利息按单利估算 = 贷款金额 {_show(_d(amount))} 万元 × 年利率 {_show(_d(rate_percent))}% × "
        f"{term_months} 个月 ÷ 12 = {_show(interest)} 万元；"
        f"贷款贴息 = 利息 {_show(interest)} 万元 × 贴息比例 {_percent(share)} = {_show(raw)} 万元"
    )
    if raw > cap:
        formula += f"，超过 {_show(cap)} 万元的上限，按 {_show(cap)} 万元计"
    return Estimate(name, subsidy, formula + "。")


# --- the same estimates as SQL expressions, for sums over a whole ledger in the database ------------


def _sql_money(expr):
    return sa.func.round(expr, 4)


def equipment_subsidy_sql(equipment_investment, purpose, policy: dict):
    """`equipment_subsidy` per row as an SQL expression (0 when the purpose is not eligible)."""
    rate = sa.literal(_d(policy["equipment_subsidy_rate"]), sa.Numeric(10, 4))
    cap = sa.literal(_d(policy["equipment_subsidy_cap"]), sa.Numeric(14, 4))
    raw = _sql_money(equipment_investment * rate)
    eligible = purpose.in_(list(policy.get("subsidy_purposes", ())))
    return sa.case((sa.and_(eligible, raw > cap), cap), (eligible, raw), else_=0)


def interest_subsidy_sql(amount, rate_percent, term_months, purpose, policy: dict):
    """`interest_subsidy` per row as an SQL expression; rows without a rate count 0."""
    share = sa.literal(_d(policy["interest_subsidy_share"]), sa.Numeric(10, 4))
    cap = sa.literal(_d(policy["interest_subsidy_cap"]), sa.Numeric(14, 4))
    twelve_hundred = sa.literal(Decimal(1200), sa.Numeric(10, 0))
    interest = _sql_money(amount * rate_percent * term_months / twelve_hundred)
    raw = _sql_money(interest * share)
    eligible = sa.and_(purpose.in_(list(policy.get("subsidy_purposes", ()))), rate_percent.is_not(None))
    return sa.case((sa.and_(eligible, raw > cap), cap), (eligible, raw), else_=0)
