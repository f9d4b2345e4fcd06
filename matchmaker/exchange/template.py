"""The provincial platform's workbook template, as an explicit column spec: sheets, headers, cell types."""
from __future__ import annotations

from dataclasses import dataclass

# Cell types: how a value is written and read back.
TEXT, MONEY, RATE, INT, DATE = "text", "money", "rate", "int", "date"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 14
    required: bool = False


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, header: str) -> Column:
        return next(c for c in self.columns if c.header == header)


DEMANDS = Sheet("融资需求", (
    Column("需求编号", width=16, required=True),
    Column("企业名称", width=28),
    Column("统一社会信用代码", width=22),
    Column("所属区（市）", width=12),
    Column("所属产业集群", width=14),
    Column("融资金额（万元）", MONEY),
    Column("期限（月）", INT, width=10),
    Column("用途", width=14),
    Column("融资方式", width=18),
    Column("状态", width=10),
    Column("发布日期", DATE, width=12),
))

# One row per accepted offer: its deal (if signed) and the money paid out on it (summed; the last date).
OUTCOMES = Sheet("对接结果", (
    Column("方案编号", width=16),
    Column("需求编号", width=16, required=True),
    Column("金融机构", width=26, required=True),
    Column("产品", width=20),
    Column("方案类型", width=10),
    Column("授信/投资金额（万元）", MONEY, width=18, required=True),
    Column("利率（%）", RATE, width=10),
    Column("期限（月）", INT, width=10),
    Column("接受日期", DATE, width=12),
    Column("签约金额（万元）", MONEY, width=16),
    Column("签约日期", DATE, width=12),
    Column("放款金额（万元）", MONEY, width=16),
    Column("放款日期", DATE, width=12),
))

# What an institution reports of its products (imported before its outcomes, which may name them).
PRODUCTS = Sheet("金融产品", (
    Column("产品编号", width=16),
    Column("金融机构", width=26, required=True),
    Column("产品名称", width=20, required=True),
    Column("产品类型", width=10, required=True),
    Column("金额下限（万元）", MONEY),
    Column("金额上限（万元）", MONEY),
    Column("期限下限（月）", INT, width=12),
    Column("期限上限（月）", INT, width=12),
    Column("利率下限（%）", RATE, width=12),
    Column("利率上限（%）", RATE, width=12),
    Column("担保方式", width=20),
    Column("适用区（市）", width=20),
    Column("适用产业", width=20),
    Column("适用企业规模", width=14),
    Column("适用用途", width=20),
    Column("标签", width=20),
    Column("审批时效（天）", INT, width=12),
    Column("产品说明", width=40),
    Column("状态", width=10),
))

# The export fills the province's two sheets; an institution's report may carry its products too.
SHEETS = (DEMANDS, OUTCOMES)
IMPORT_SHEETS = (PRODUCTS, OUTCOMES)

# The interchange key of an imported outcome line -> the column a problem with it is reported under.
OUTCOME_FIELD_COLUMNS = {
    "ref": "方案编号", "offer": "方案编号", "demand": "需求编号", "org": "金融机构", "product": "产品",
    "kind": "方案类型", "amount": "授信/投资金额（万元）", "rate": "利率（%）", "term_months": "期限（月）",
    "accepted": "接受日期", "created": "接受日期", "answered": "接受日期",
    "signed_amount": "签约金额（万元）", "signed_on": "签约日期",
    "disbursed_amount": "放款金额（万元）", "disbursements": "放款金额（万元）", "disbursed_on": "放款日期",
}

PRODUCT_FIELD_COLUMNS = {
    "ref": "产品编号", "org": "金融机构", "name": "产品名称", "kind": "产品类型", "amount_min": "金额下限（万元）",
    "amount_max": "金额上限（万元）", "term_min": "期限下限（月）", "term_max": "期限上限（月）",
    "rate_min": "利率下限（%）", "rate_max": "利率上限（%）", "collateral": "担保方式", "districts": "适用区（市）",
    "industries": "适用产业", "sizes": "适用企业规模", "purposes": "适用用途", "tags": "标签",
    "approval_days": "审批时效（天）", "description": "产品说明", "status": "状态",
}
