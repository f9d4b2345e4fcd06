"""Interchange of products (DESIGN §9 `product` lines), checked by the same rules as the product form."""
from __future__ import annotations

import sqlalchemy as sa

from matchmaker.catalog.services import TAG_MAX, TAGS_MAX, product_problems
from matchmaker.interchange import fields as f
from matchmaker.interchange.registry import ImportContext, InterchangeType, register
from models import Organization, db_session
from models.products import (
    COLLATERAL_CODES,
    DESCRIPTION_MAX,
    NAME_MAX,
    PURPOSE_CODES,
    SIZE_CODES,
    EquityStage,
    Product,
    ProductKind,
    ProductStatus,
)

# The §9 keys, plus the project's own optional ones: approval_days, stage (equity), created.
PRODUCT_KEYS = frozenset({
    "ref", "org", "kind", "name", "description", "amount_min", "amount_max", "term_min", "term_max",
    "rate_min", "rate_max", "collateral", "industries", "districts", "sizes", "purposes", "tags", "status",
    "approval_days", "stage", "created",
})


def load_product(d: dict, ctx: ImportContext) -> Product:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Product, "product", ref):
        raise f.LineError("ref", f"产品“{ref}”已存在")
    org = ctx.lookup(Organization, "organization", d.get("org"), "org")
    if not org.is_institution:
        raise f.LineError("org", "产品须属于银行、基金或担保机构")
    kind = f.code(d, "kind", ProductKind)
    values = {
        "kind": kind.value,
        "name": f.text(d, "name", max_len=NAME_MAX),
        "description": f.text(d, "description", required=False, max_len=DESCRIPTION_MAX) or "",
        "amount_min": f.decimal(d, "amount_min", required=True),
        "amount_max": f.decimal(d, "amount_max", required=True),
        "term_min": f.integer(d, "term_min", required=True),
        "term_max": f.integer(d, "term_max", required=True),
        # Equity products carry rates of 0 (or none at all).
        "rate_min": f.decimal(d, "rate_min", required=kind != ProductKind.EQUITY),
        "rate_max": f.decimal(d, "rate_max", required=kind != ProductKind.EQUITY),
        "collateral": f.codes(d, "collateral", COLLATERAL_CODES),
        "industries": f.codes(d, "industries", ctx.city.clusters),
        "districts": f.codes(d, "districts", ctx.city.districts),
        "sizes": f.codes(d, "sizes", SIZE_CODES),
        "purposes": f.codes(d, "purposes", PURPOSE_CODES),
        "tags": f.strings(d, "tags", max_items=TAGS_MAX, max_len=TAG_MAX),
        "approval_days": f.integer(d, "approval_days", lo=0, hi=365),
        "stage": f.code(d, "stage", EquityStage, required=False),
    }
    values["stage"] = values["stage"].value if values["stage"] else None
    if problems := product_problems(values, org.kind, ctx.city):
        key, message = next(iter(problems.items()))
        raise f.LineError(key, message)
    if kind == ProductKind.EQUITY:
        values["rate_min"] = values["rate_max"] = 0
    created = ctx.to_utc(f.iso_datetime(d, "created"))
    product = Product(
        ref=ref, org=org, status=f.code(d, "status", ProductStatus, required=False) or ProductStatus.ACTIVE,
        **{**values, "kind": kind, "stage": EquityStage(values["stage"]) if values["stage"] else None},
        **({"created_at": created, "updated_at": created} if created else {}),
    )
    db_session.add(product)
    return product


def dump_product(p: Product, ctx: ImportContext) -> dict:
    line = {
        "ref": p.ref, "org": p.org.ref, "kind": p.kind.value, "name": p.name, "description": p.description or "",
        "amount_min": f.plain_number(p.amount_min), "amount_max": f.plain_number(p.amount_max),
        "term_min": p.term_min, "term_max": p.term_max,
        "rate_min": f.plain_number(p.rate_min), "rate_max": f.plain_number(p.rate_max),
        "collateral": list(p.collateral or []), "industries": list(p.industries or []),
        "districts": list(p.districts or []), "sizes": list(p.sizes or []), "purposes": list(p.purposes or []),
        "tags": list(p.tags or []), "status": p.status.value,
    }
    if p.approval_days is not None:
        line["approval_days"] = p.approval_days
    if p.stage is not None:
        line["stage"] = p.stage.value
    line["created"] = ctx.to_local(p.created_at)
    return line


register(InterchangeType(
    "product", PRODUCT_KEYS, load_product, dump_product,
    lambda: db_session.scalars(sa.select(Product).order_by(Product.id)), 30,
))
