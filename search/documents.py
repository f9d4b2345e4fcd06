"""Document builders: a demand, product or organisation as the plain dict the search backends index.

The reveal rule (DESIGN §8) starts here: institutions search the demand pool, so a demand document
never holds the enterprise's name, credit code or contact, nor the organisation's ref; where the
enterprise wrote them into its own title or description they are masked out.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from models.codes import label

MASK = "＊＊"
# 不限: a product that names no district (cluster, size, purpose) serves them all; a caller filtering
# products for a district asks for [district, ANY].
ANY = "不限"
# Amount bands (万元) for the facet a bank scans first; the upper bound is exclusive.
AMOUNT_BANDS = ((100, "100万元以下"), (500, "100-500万元"), (1000, "500-1000万元"), (5000, "1000-5000万元"),
                (None, "5000万元以上"))


def code(value: Any) -> str | None:
    """A stored code (a str or a StrEnum) as its plain string."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def codes(values: Iterable[Any] | None) -> list[str]:
    """A list of codes as plain strings, empties dropped."""
    return [c for c in (code(v) for v in values or ()) if c]


def amount_band(amount: Decimal | float | int | None) -> str | None:
    """The amount band label of an amount in 万元."""
    if amount is None:
        return None
    for upper, name in AMOUNT_BANDS:
        if upper is None or Decimal(str(amount)) < upper:
            return name
    return None  # pragma: no cover - the last band is open


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _mask(text: str | None, secrets: Iterable[str | None]) -> str:
    text = text or ""
    for secret in secrets:
        if secret and len(secret) >= 2:
            text = text.replace(secret, MASK)
    return text


def demand_document(demand: Any) -> dict[str, Any]:
    """The searchable form of a demand: what institutions may see before the enterprise reveals itself.

    `demand` is any object with the demand attributes (ref, title, description, amount, term_months,
    purpose, financing_types, collateral, max_rate, status, created_at, valid_until, org, project).
    """
    org = demand.org
    project = getattr(demand, "project", None)
    secrets = [getattr(org, "name", None), getattr(org, "uscc", None), getattr(org, "contact_name", None),
               getattr(org, "contact_phone", None)]
    purpose = code(demand.purpose)
    financing = codes(demand.financing_types)
    collateral = codes(demand.collateral)
    size = code(getattr(org, "size", None))
    tags = list(getattr(org, "tags", None) or ())
    keywords = [
        label(purpose),
        *(label(f) for f in financing),
        *(label(c, "collateral") for c in collateral),
        getattr(org, "industry", None), getattr(org, "district", None), label(size) if size else None, *tags,
    ]
    if project is not None:
        keywords.append(_mask(getattr(project, "name", None), secrets))
        category = code(getattr(project, "category", None))
        if category:
            keywords.append(label(category))
        if getattr(project, "is_major", False):
            keywords.append("重大项目")
    amount = _number(demand.amount)
    rate = _number(getattr(demand, "max_rate", None))
    return {
        "type": "demand",
        "ref": demand.ref,
        "title": _mask(demand.title, secrets),
        "description": _mask(getattr(demand, "description", None), secrets),
        "keywords": [k for k in dict.fromkeys(keywords) if k],
        "district": getattr(org, "district", None),
        "cluster": getattr(org, "industry", None),
        "purpose": purpose,
        "financing_type": financing,
        "collateral": collateral,
        "status": code(demand.status),
        "size": size,
        "tag": tags,
        "amount_band": amount_band(amount),
        "amount_min": amount, "amount_max": amount,
        "term_min": demand.term_months, "term_max": demand.term_months,
        "rate_min": rate, "rate_max": rate,
        "created_at": _iso(demand.created_at),
        "valid_until": _iso(getattr(demand, "valid_until", None)),
    }


def product_document(product: Any) -> dict[str, Any]:
    """The searchable form of a financial product; empty target lists index as 不限 (serves all)."""
    org = getattr(product, "org", None)
    kind = code(product.kind)
    collateral = codes(product.collateral)
    purposes = codes(getattr(product, "purposes", None))
    industries = list(getattr(product, "industries", None) or ())
    districts = list(getattr(product, "districts", None) or ())
    sizes = codes(getattr(product, "sizes", None))
    tags = list(getattr(product, "tags", None) or ())
    keywords = [label(kind), *(label(c, "collateral") for c in collateral), *(label(p) for p in purposes),
                *industries, *districts, *(label(s) for s in sizes), *tags, getattr(org, "name", None)]
    return {
        "type": "product",
        "ref": product.ref,
        "title": product.name,
        "description": getattr(product, "description", None) or "",
        "keywords": [k for k in dict.fromkeys(keywords) if k],
        "kind": kind,
        "district": districts or [ANY],
        "cluster": industries or [ANY],
        "purpose": purposes or [ANY],
        "size": sizes or [ANY],
        "collateral": collateral,
        "status": code(getattr(product, "status", None)),
        "tag": tags,
        "amount_min": _number(product.amount_min), "amount_max": _number(product.amount_max),
        "term_min": product.term_min, "term_max": product.term_max,
        "rate_min": _number(product.rate_min), "rate_max": _number(product.rate_max),
        "created_at": _iso(getattr(product, "created_at", None)),
    }


def organization_document(org: Any) -> dict[str, Any]:
    """The public face of an organisation: name, kind, district, industry, size, tags, description.

    Never the credit code, contacts, revenue or review notes.
    """
    kind = code(org.kind)
    size = code(getattr(org, "size", None))
    tags = list(getattr(org, "tags", None) or ())
    keywords = [label(kind), getattr(org, "district", None), getattr(org, "industry", None),
                label(size) if size else None, *tags]
    return {
        "type": "organization",
        "ref": org.ref,
        "title": org.name,
        "description": getattr(org, "description", None) or "",
        "keywords": [k for k in dict.fromkeys(keywords) if k],
        "kind": kind,
        "district": getattr(org, "district", None),
        "cluster": getattr(org, "industry", None),
        "size": size,
        "status": code(getattr(org, "status", None)),
        "tag": tags,
        "created_at": _iso(getattr(org, "created_at", None)),
    }
