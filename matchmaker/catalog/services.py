"""Products: the rules every product keeps, publishing and editing (audited), browsing with filters."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from matchmaker.auth.services import new_ref
from matchmaker.permissions import can_edit, policy
from models import Organization, OrgKind, OrgStatus, User, db_session, label, record
from models.products import (
    AMOUNT_MAX,
    COLLATERAL_CODES,
    DESCRIPTION_MAX,
    KINDS_BY_ORG,
    NAME_MAX,
    PURPOSE_CODES,
    RATE_RANGE,
    SIZE_CODES,
    TERM_RANGE,
    EquityStage,
    Product,
    ProductKind,
    ProductStatus,
)

# Tags the forms suggest; a product may carry others.
SUGGESTED_TAGS = ("信用贷", "首贷", "技改贷", "科技贷", "绿色贷", "设备贷", "知识产权贷", "供应链贷", "专精特新", "续贷")
TAG_MAX = 20
TAGS_MAX = 10

# The fields a product's owner sets; everything else (ref, org, status, times) the platform keeps.
EDITABLE = ("kind", "name", "description", "amount_min", "amount_max", "term_min", "term_max", "rate_min",
            "rate_max", "collateral", "industries", "districts", "sizes", "purposes", "tags", "approval_days",
            "stage")


class ProductError(Exception):
    """A change the rules do not allow; `problems` maps each field to its message (in Chinese)."""

    def __init__(self, problems: dict[str, str] | str):
        self.problems = problems if isinstance(problems, dict) else {None: problems}
        super().__init__("；".join(self.problems.values()))


# --- who may see and change a product ------------------------------------------------------


def _publicly_visible(product: Product) -> bool:
    return product.status == ProductStatus.ACTIVE and product.org.status == OrgStatus.APPROVED


def _product_view(user, product: Product) -> bool:
    if product.org_id == user.org_id or user.org.kind == OrgKind.BUREAU:
        return True
    return _publicly_visible(product)


def _product_edit(user, product: Product) -> bool:
    # Every member of the institution manages its products, not only its administrators.
    return product.org_id == user.org_id and user.org.is_approved


policy(Product, view=_product_view, edit=_product_edit)


def visible_to(user, product: Product) -> bool:
    """Anyone, logged in or not, sees active products of approved institutions; owners and bureaus see all."""
    if getattr(user, "is_authenticated", False):
        return _product_view(user, product)
    return _publicly_visible(product)


# --- the rules of a product ---------------------------------------------------------------


def product_problems(data: Mapping, org_kind: OrgKind | None, city) -> dict[str, str]:
    """What is wrong with a product's values, field by field (empty when nothing is).

    The form, the import and the services all ask this one function, so a product that the web
    refuses cannot come in through a file either.
    """
    p: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in {k.value for k in ProductKind}:
        p["kind"] = "请选择产品类型"
    elif org_kind is not None and kind not in {k.value for k in KINDS_BY_ORG.get(org_kind, ())}:
        allowed = "、".join(label(k.value) for k in KINDS_BY_ORG.get(org_kind, ()))
        p["kind"] = f"本机构只能发布：{allowed or '无'}"
    name = (data.get("name") or "").strip()
    if not name:
        p["name"] = "请填写产品名称"
    elif len(name) > NAME_MAX:
        p["name"] = f"产品名称不能超过{NAME_MAX}个字"
    if len(data.get("description") or "") > DESCRIPTION_MAX:
        p["description"] = f"产品介绍不能超过{DESCRIPTION_MAX}个字"

    lo, hi = data.get("amount_min"), data.get("amount_max")
    for key, v in (("amount_min", lo), ("amount_max", hi)):
        if v is None:
            p[key] = "请填写金额（万元）"
        elif v <= 0:
            p[key] = "金额须大于0"
        elif v > AMOUNT_MAX:
            p[key] = f"金额不能超过{AMOUNT_MAX:,}万元"
    if "amount_min" not in p and "amount_max" not in p and lo > hi:
        p["amount_max"] = "最高金额不能小于最低金额"

    lo, hi = data.get("term_min"), data.get("term_max")
    for key, v in (("term_min", lo), ("term_max", hi)):
        if v is None:
            p[key] = "请填写期限（月）"
        elif not TERM_RANGE[0] <= v <= TERM_RANGE[1]:
            p[key] = f"期限应在{TERM_RANGE[0]}至{TERM_RANGE[1]}个月之间"
    if "term_min" not in p and "term_max" not in p and lo > hi:
        p["term_max"] = "最长期限不能小于最短期限"

    lo, hi = data.get("rate_min"), data.get("rate_max")
    if kind == ProductKind.EQUITY:
        if (lo or 0) != 0 or (hi or 0) != 0:
            p["rate_min"] = "股权投资产品不设利率，请填0或留空"
    else:
        for key, v in (("rate_min", lo), ("rate_max", hi)):
            if v is None:
                p[key] = "请填写年化利率（%）"
            elif not RATE_RANGE[0] <= v <= RATE_RANGE[1]:
                p[key] = f"年化利率应在{RATE_RANGE[0]}%至{RATE_RANGE[1]}%之间"
        if "rate_min" not in p and "rate_max" not in p and lo > hi:
            p["rate_max"] = "最高利率不能小于最低利率"

    for key, allowed, what in (("collateral", COLLATERAL_CODES, "担保方式"), ("sizes", SIZE_CODES, "企业规模"),
                               ("purposes", PURPOSE_CODES, "资金用途"), ("districts", city.districts, "区（市）"),
                               ("industries", city.clusters, "产业集群")):
        bad = [v for v in data.get(key) or () if v not in allowed]
        if bad:
            p[key] = f"{what}“{bad[0]}”无效"
    tags = data.get("tags") or []
    if len(tags) > TAGS_MAX:
        p["tags"] = f"标签最多{TAGS_MAX}个"
    elif any(len(t) > TAG_MAX for t in tags):
        p["tags"] = f"每个标签不超过{TAG_MAX}个字"
    days = data.get("approval_days")
    if days is not None and not 0 <= days <= 365:
        p["approval_days"] = "审批天数应在0至365之间"
    stage = data.get("stage")
    if stage and kind != ProductKind.EQUITY:
        p["stage"] = "只有股权投资产品填写投资阶段"
    elif stage and stage not in {s.value for s in EquityStage}:
        p["stage"] = "投资阶段无效"
    return p


def _clean(data: Mapping) -> dict:
    """The editable values in their stored form: lists without duplicates, equity rates at 0."""
    out = {k: data.get(k) for k in EDITABLE}
    out["name"] = (out["name"] or "").strip()
    out["description"] = (out["description"] or "").strip()
    for key in ("collateral", "industries", "districts", "sizes", "purposes", "tags"):
        out[key] = list(dict.fromkeys(out[key] or []))
    if out["kind"] == ProductKind.EQUITY:
        out["rate_min"] = out["rate_max"] = Decimal(0)
    out["kind"] = ProductKind(out["kind"])
    out["stage"] = EquityStage(out["stage"]) if out["stage"] else None
    return out


def create_product(user: User, data: Mapping, *, city) -> Product:
    """Publish a product of the user's institution (active at once), audited."""
    org = user.org
    if not org.is_institution or not org.is_approved:
        raise ProductError("只有已审核通过的金融机构可以发布产品")
    if problems := product_problems(data, org.kind, city):
        raise ProductError(problems)
    product = Product(ref=new_ref("pd"), org=org, status=ProductStatus.ACTIVE, **_clean(data))
    db_session.add(product)
    db_session.flush()
    record(user, "product.created", product, name=product.name, kind=product.kind.value)
    db_session.commit()
    return product


def update_product(user: User, product: Product, data: Mapping, *, city) -> Product:
    """Change a product's terms; the audit entry lists the fields that changed."""
    if not can_edit(user, product):
        raise ProductError("您无权修改该产品")
    if product.status == ProductStatus.RETIRED:
        raise ProductError("已下架的产品不能再修改")
    if problems := product_problems(data, product.org.kind, city):
        raise ProductError(problems)
    changed = {}
    for key, value in _clean(data).items():
        if getattr(product, key) != value:
            changed[key] = _jsonable(value)
            setattr(product, key, value)
    if changed:
        record(user, "product.updated", product, changed=changed)
    db_session.commit()
    return product


# Which status changes an owner may make: retired is final.
TRANSITIONS = {
    "pause": (ProductStatus.ACTIVE, ProductStatus.PAUSED),
    "resume": (ProductStatus.PAUSED, ProductStatus.ACTIVE),
    "retire": (None, ProductStatus.RETIRED),
}


def change_status(user: User, product: Product, action: str) -> Product:
    """Pause, resume or retire a product (audited)."""
    if not can_edit(user, product):
        raise ProductError("您无权修改该产品")
    if action not in TRANSITIONS:
        raise ProductError("未知的操作")
    source, target = TRANSITIONS[action]
    if product.status == ProductStatus.RETIRED or (source is not None and product.status != source):
        raise ProductError(f"产品当前为“{label(product.status.value)}”，不能执行该操作")
    before = product.status
    product.status = target
    record(user, f"product.{target.value}", product, before=before.value)
    db_session.commit()
    return product


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    return value.value if hasattr(value, "value") else value


def active_product_count(org: Organization) -> int:
    return db_session.scalar(sa.select(sa.func.count(Product.id)).where(
        Product.org_id == org.id, Product.status == ProductStatus.ACTIVE)) or 0


def products_of(org: Organization) -> list[Product]:
    status_order = sa.case({"active": 0, "paused": 1}, value=Product.status, else_=2)
    q = sa.select(Product).where(Product.org_id == org.id).order_by(status_order, Product.id.desc())
    return list(db_session.scalars(q))


# --- browsing ---------------------------------------------------------------------------------


@dataclass
class ProductFilters:
    """What a visitor filters the supermarket by; each value comes from the query string."""

    kind: str | None = None
    org_kind: str | None = None
    district: str | None = None
    cluster: str | None = None
    size: str | None = None
    purpose: str | None = None
    collateral: str | None = None
    amount: Decimal | None = None
    tag: str | None = None
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping, city) -> ProductFilters:
        """Read filters from request arguments; a value outside the known codes is ignored, not an error."""

        def pick(key, allowed):
            v = (args.get(key) or "").strip()
            return v if v in allowed else None

        amount = None
        raw = (args.get("amount") or "").strip()
        if raw:
            try:
                amount = Decimal(raw)
            except InvalidOperation:
                amount = None
            if amount is not None and (not amount.is_finite() or amount <= 0):
                amount = None
        return cls(
            kind=pick("kind", {k.value for k in ProductKind}),
            org_kind=pick("org_kind", {"bank", "fund", "guarantor"}),
            district=pick("district", city.districts),
            cluster=pick("cluster", city.clusters),
            size=pick("size", SIZE_CODES),
            purpose=pick("purpose", PURPOSE_CODES),
            collateral=pick("collateral", COLLATERAL_CODES),
            amount=amount,
            tag=(args.get("tag") or "").strip()[:TAG_MAX] or None,
            q=(args.get("q") or "").strip()[:50] or None,
        )

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


def _json_has(column, value: str):
    """`value` is an element of the JSON array in `column` (SQLite's json_each, PostgreSQL's jsonb @>)."""
    if db_session.get_bind().dialect.name == "postgresql":
        # The list is bound as a JSONB parameter (not a text cast, which would nest it in a string).
        return sa.cast(column, JSONB).contains([value])
    each = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(1).select_from(each).where(each.c.value == value))


def _all_or_has(column, value: str):
    """An empty list means "all": the product serves `value` when it names none or names it."""
    return sa.or_(sa.func.json_array_length(column) == 0, _json_has(column, value))


def browse_query(filters: ProductFilters) -> sa.Select:
    """Active products of approved institutions that pass every filter, newest first."""
    q = (
        sa.select(Product)
        .join(Organization, Product.org_id == Organization.id)
        .where(Product.status == ProductStatus.ACTIVE, Organization.status == OrgStatus.APPROVED)
    )
    if filters.kind:
        q = q.where(Product.kind == filters.kind)
    if filters.org_kind:
        q = q.where(Organization.kind == filters.org_kind)
    if filters.district:
        q = q.where(_all_or_has(Product.districts, filters.district))
    if filters.cluster:
        q = q.where(_all_or_has(Product.industries, filters.cluster))
    if filters.size:
        q = q.where(_all_or_has(Product.sizes, filters.size))
    if filters.purpose:
        q = q.where(_all_or_has(Product.purposes, filters.purpose))
    if filters.collateral:
        q = q.where(_json_has(Product.collateral, filters.collateral))
    if filters.amount is not None:
        q = q.where(Product.amount_min <= filters.amount, Product.amount_max >= filters.amount)
    if filters.tag:
        q = q.where(_json_has(Product.tags, filters.tag))
    if filters.q:
        # Plain SQL text matching until the search layer takes over the supermarket's text box.
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(sa.or_(Product.name.ilike(pattern, escape="\\"), Product.description.ilike(pattern, escape="\\")))
    return q.order_by(Product.created_at.desc(), Product.id.desc())


def browse(filters: ProductFilters, *, page: int = 1, per_page: int = 20) -> tuple[list[Product], int]:
    """One page of the supermarket and the number of products that pass the filters."""
    q = browse_query(filters)
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
    rows = db_session.scalars(q.limit(per_page).offset((page - 1) * per_page))
    return list(rows), total
