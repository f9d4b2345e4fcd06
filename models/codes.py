"""The codes of DESIGN §9 stored in the database, with the Chinese labels the UI shows."""
from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    BANK = "bank"
    FUND = "fund"
    GUARANTOR = "guarantor"
    BUREAU = "bureau"


class OrgStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Size(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


class UserRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class Purpose(StrEnum):
    """A demand's purpose and a technical-transformation project's category share these codes."""
    SMART_UPGRADE = "smart_upgrade"
    EQUIPMENT = "equipment"
    GREEN = "green"
    NEW_PRODUCT = "new_product"
    EXPANSION = "expansion"
    RND = "rnd"
    WORKING_CAPITAL = "working_capital"
    MERGER = "merger"
    LISTING = "listing"


class FinancingType(StrEnum):
    LOAN = "loan"
    EQUITY = "equity"
    GUARANTEE = "guarantee"
    LEASING = "leasing"


class Collateral(StrEnum):
    NONE = "none"
    PROPERTY = "property"
    EQUIPMENT = "equipment"
    RECEIVABLES = "receivables"
    IP = "ip"
    EQUITY_PLEDGE = "equity_pledge"
    GUARANTEE = "guarantee"


class DemandStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    MATCHED = "matched"
    SIGNED = "signed"
    FUNDED = "funded"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CLOSED = "closed"


INSTITUTION_KINDS = (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)

LABELS: dict[str, str] = {
    # organization.kind
    "enterprise": "企业", "bank": "银行", "fund": "基金", "guarantor": "担保机构", "bureau": "工信局",
    # organization status
    "pending": "待审核", "approved": "已通过", "rejected": "未通过",
    # size
    "large": "大型", "medium": "中型", "small": "小型", "micro": "微型",
    # user role
    "admin": "管理员", "member": "成员",
    # purposes and project categories
    "smart_upgrade": "智能化改造", "equipment": "设备更新", "green": "绿色化改造",
    "new_product": "新产品产业化", "expansion": "扩能改造", "rnd": "研发创新",
    "working_capital": "流动资金", "merger": "并购重组", "listing": "上市融资",
    # financing types and product kinds
    "loan": "贷款", "equity": "股权投资", "guarantee": "融资担保", "leasing": "融资租赁",
    # collateral
    "none": "信用", "property": "不动产抵押", "receivables": "应收账款质押",
    "ip": "知识产权质押", "equity_pledge": "股权质押",
    # demand status
    "draft": "草稿", "submitted": "待审核", "returned": "已退回", "published": "已发布", "matched": "已对接",
    "signed": "已签约", "funded": "已放款", "withdrawn": "已撤回", "expired": "已过期", "closed": "已关闭",
    # event kinds
    "bank_enterprise_meeting": "银企对接会", "financing_negotiation": "融资洽谈会",
    "joint_office": "政银企基金联合现场办公", "roadshow": "项目路演",
    # product status and the investment stages of equity products
    "active": "在售", "paused": "已暂停", "retired": "已下架",
    # offer status ("submitted", "withdrawn", "expired" read as for demands)
    "requested": "待答复", "accepted": "已接受", "declined": "已拒绝",
    # notice kinds
    "event_notice": "活动通知", "policy": "政策发布", "product_promotion": "产品推介",
    "seed": "种子期", "early": "初创期", "growth": "成长期", "mature": "成熟期", "pre_ipo": "Pre-IPO",
}
# "equipment" and "guarantee" are both a purpose/collateral and a kind; their labels differ by context.
COLLATERAL_LABELS = {"equipment": "设备抵押", "guarantee": "第三方担保"}


def label(code: str | None, context: str | None = None) -> str:
    """The Chinese label of a code; `context="collateral"` picks the collateral reading."""
    if code is None:
        return ""
    if context == "collateral" and code in COLLATERAL_LABELS:
        return COLLATERAL_LABELS[code]
    return LABELS.get(str(code), str(code))
