"""Interchange of offers and deals (DESIGN §9 `offer` and `deal` lines): history imported as given, no side effects."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from matchmaker.interchange import fields as f
from matchmaker.interchange.registry import ImportContext, InterchangeType, register
from matchmaker.offers.services import DEFAULT_KIND, KINDS_BY_ORG
from matchmaker.workdays import response_deadline
from models import Deal, Demand, Disbursement, Offer, OfferOrigin, OfferStatus, Organization, Product, db_session
from models.products import COLLATERAL_CODES, ProductKind
from models.types import utcnow

# The §9 keys, plus the project's own optional ones (the application clock, terms beyond the rate, reasons).
OFFER_KEYS = frozenset({
    "ref", "demand", "org", "product", "amount", "rate", "term_months", "status", "created",
    "origin", "kind", "collateral", "conditions", "valid_until", "rate_reason", "stake_percent", "valuation_min",
    "valuation_max", "note", "decline_reason", "declined_by", "asked", "deadline", "answered", "accepted", "closed",
    "reminded", "overdue_notified",
})
DEAL_KEYS = frozenset({"ref", "offer", "signed_amount", "signed_on", "rate", "term_months", "disbursed_amount",
                       "disbursed_on", "disbursements", "created"})
DISBURSEMENT_KEYS = frozenset({"amount", "on"})
# Statuses whose offers carry terms.
WITH_TERMS = (OfferStatus.SUBMITTED, OfferStatus.ACCEPTED)
TIMES = {"asked": "asked_at", "deadline": "deadline_at", "answered": "answered_at", "accepted": "accepted_at",
         "closed": "closed_at", "reminded": "reminder_sent_at", "overdue_notified": "overdue_sent_at"}


def load_offer(d: dict, ctx: ImportContext) -> Offer:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Offer, "offer", ref):
        raise f.LineError("ref", f"方案“{ref}”已存在")
    demand = ctx.lookup(Demand, "demand", d.get("demand"), "demand")
    org = ctx.lookup(Organization, "organization", d.get("org"), "org")
    if not org.is_institution:
        raise f.LineError("org", "方案须来自银行、基金或担保机构")
    product = None
    if d.get("product") is not None:
        product = ctx.lookup(Product, "product", d["product"], "product")
        if product.org is not org:
            raise f.LineError("product", f"产品“{product.ref}”不属于“{org.ref}”")
    kind = f.code(d, "kind", ProductKind, required=False) or (product.kind if product else DEFAULT_KIND[org.kind])
    if product is None and kind not in KINDS_BY_ORG[org.kind]:
        raise f.LineError("kind", f"“{org.ref}”不能提供该类方案")
    status = f.code(d, "status", OfferStatus)
    amount = f.decimal(d, "amount", required=status in WITH_TERMS, lo=0, lo_open=True)
    if amount is not None and amount > demand.amount:
        raise f.LineError("amount", f"金额不能超过需求金额 {demand.amount.normalize():f} 万元")
    rate = f.decimal(d, "rate", lo=0, hi=36)
    if kind == ProductKind.EQUITY and rate not in (None, 0):
        raise f.LineError("rate", "股权投资的利率为0")
    if kind != ProductKind.EQUITY and status in WITH_TERMS and rate is None:
        raise f.LineError("rate", "缺少必填字段")
    created = ctx.to_utc(f.iso_datetime(d, "created")) or utcnow()
    origin = f.code(d, "origin", OfferOrigin, required=False) or (
        OfferOrigin.APPLICATION if product is not None and d.get("asked") else OfferOrigin.BID)
    times = {attr: ctx.to_utc(f.iso_datetime(d, key)) for key, attr in TIMES.items()}
    if origin == OfferOrigin.APPLICATION:
        times["asked_at"] = times["asked_at"] or created
        times["deadline_at"] = times["deadline_at"] or response_deadline(times["asked_at"], ctx.city)
    declined_by = f.code(d, "declined_by", ("institution", "enterprise"), required=False)
    offer = Offer(
        ref=ref, demand=demand, org=org, product=product, origin=origin, kind=kind, status=status, amount=amount,
        rate=Decimal(0) if kind == ProductKind.EQUITY and amount is not None else rate,
        term_months=f.integer(d, "term_months", lo=1, hi=360),
        collateral=f.codes(d, "collateral", COLLATERAL_CODES),
        conditions=f.text(d, "conditions", required=False, max_len=2000),
        valid_until=f.iso_date(d, "valid_until"),
        rate_reason=f.text(d, "rate_reason", required=False, max_len=500),
        stake_percent=f.decimal(d, "stake_percent", lo=0, hi=100, lo_open=True),
        valuation_min=f.decimal(d, "valuation_min", lo=0, lo_open=True),
        valuation_max=f.decimal(d, "valuation_max", lo=0, lo_open=True),
        note=f.text(d, "note", required=False, max_len=500),
        decline_reason=f.text(d, "decline_reason", required=False, max_len=500), declined_by=declined_by,
        created_at=created, updated_at=created, **times,
    )
    if status == OfferStatus.ACCEPTED:
        _check_accepted_total(offer, demand)
    if status in (OfferStatus.REQUESTED, OfferStatus.SUBMITTED, OfferStatus.ACCEPTED):
        active = db_session.scalar(sa.select(sa.func.count(Offer.id)).where(
            Offer.demand_id == demand.id, Offer.org_id == org.id,
            Offer.status.in_((OfferStatus.REQUESTED, OfferStatus.SUBMITTED, OfferStatus.ACCEPTED))))
        if active:
            raise f.LineError("org", f"“{org.ref}”在需求“{demand.ref}”上已有进行中的方案")
    db_session.add(offer)
    return offer


def _check_accepted_total(offer: Offer, demand: Demand) -> None:
    funding = offer.kind != ProductKind.GUARANTEE
    kinds = [k for k in ProductKind if (k != ProductKind.GUARANTEE) == funding]
    have = db_session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Offer.amount), 0)).where(
        Offer.demand_id == demand.id, Offer.status == OfferStatus.ACCEPTED, Offer.kind.in_(kinds)))
    if Decimal(have) + offer.amount > demand.amount:
        raise f.LineError("amount", f"需求“{demand.ref}”已接受的方案合计将超过需求金额")


def dump_offer(o: Offer, ctx: ImportContext) -> dict:
    line = {
        "ref": o.ref, "demand": o.demand.ref, "org": o.org.ref, "product": o.product.ref if o.product else None,
        "amount": f.plain_number(o.amount), "rate": f.plain_number(o.rate), "term_months": o.term_months,
        "status": o.status.value, "created": ctx.to_local(o.created_at), "origin": o.origin.value,
        "kind": o.kind.value, "collateral": list(o.collateral or []) or None, "conditions": o.conditions,
        "valid_until": o.valid_until.isoformat() if o.valid_until else None, "rate_reason": o.rate_reason,
        "stake_percent": f.plain_number(o.stake_percent), "valuation_min": f.plain_number(o.valuation_min),
        "valuation_max": f.plain_number(o.valuation_max), "note": o.note, "decline_reason": o.decline_reason,
        "declined_by": o.declined_by,
    }
    for key, attr in TIMES.items():
        line[key] = ctx.to_local(getattr(o, attr))
    return {k: v for k, v in line.items() if v is not None}


def load_deal(d: dict, ctx: ImportContext) -> Deal:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Deal, "deal", ref):
        raise f.LineError("ref", f"签约“{ref}”已存在")
    offer = ctx.lookup(Offer, "offer", d.get("offer"), "offer")
    if offer.status != OfferStatus.ACCEPTED:
        raise f.LineError("offer", f"方案“{offer.ref}”未被接受，不能有签约")
    if db_session.scalar(sa.select(Deal.id).where(Deal.offer_id == offer.id)) is not None:
        raise f.LineError("offer", f"方案“{offer.ref}”已有签约")
    signed = f.decimal(d, "signed_amount", required=True, lo=0, lo_open=True)
    if signed > offer.amount:
        raise f.LineError("signed_amount", f"签约金额不能超过已接受的方案金额 {offer.amount.normalize():f} 万元")
    signed_on = f.iso_date(d, "signed_on", required=True)
    rate = f.decimal(d, "rate", lo=0, hi=36)
    deal = Deal(ref=ref, offer=offer, signed_amount=signed, signed_on=signed_on,
                rate=rate if rate is not None else (offer.rate or Decimal(0)),
                term_months=f.integer(d, "term_months", lo=1, hi=360) or offer.term_months or 0,
                created_at=ctx.to_utc(f.iso_datetime(d, "created")) or utcnow())
    rows = _disbursements(d)
    if rows and not offer.is_funding:
        raise f.LineError("disbursements", "担保不涉及放款")
    for amount, on in rows:
        if on < signed_on:
            raise f.LineError("disbursed_on", "放款日期不能早于签约日期")
        deal.disbursements.append(Disbursement(amount=amount, disbursed_on=on))
    if sum((a for a, _ in rows), Decimal(0)) > signed:
        raise f.LineError("disbursed_amount", "放款合计不能超过签约金额")
    db_session.add(deal)
    return deal


def _disbursements(d: dict) -> list[tuple[Decimal, object]]:
    """One disbursement as disbursed_amount/disbursed_on (the §9 shape), or several as a list of {amount, on}."""
    many = d.get("disbursements")
    one = d.get("disbursed_amount") is not None or d.get("disbursed_on") is not None
    if many is not None and one:
        raise f.LineError("disbursements", "disbursements 与 disbursed_amount/disbursed_on 只能用一种")
    if one:
        return [(f.decimal(d, "disbursed_amount", required=True, lo=0, lo_open=True),
                 f.iso_date(d, "disbursed_on", required=True))]
    if many is None:
        return []
    if not isinstance(many, list) or not all(isinstance(x, dict) for x in many):
        raise f.LineError("disbursements", "应为对象数组")
    out = []
    for item in many:
        if unknown := sorted(set(item) - DISBURSEMENT_KEYS):
            raise f.LineError("disbursements", f"未知字段“{unknown[0]}”")
        out.append((f.decimal(item, "amount", required=True, lo=0, lo_open=True), f.iso_date(item, "on", required=True)))
    return out


def dump_deal(deal: Deal, ctx: ImportContext) -> dict:
    line = {"ref": deal.ref, "offer": deal.offer.ref, "signed_amount": f.plain_number(deal.signed_amount),
            "signed_on": deal.signed_on.isoformat(), "rate": f.plain_number(deal.rate),
            "term_months": deal.term_months or None}
    rows = deal.disbursements
    if len(rows) == 1:
        line.update(disbursed_amount=f.plain_number(rows[0].amount), disbursed_on=rows[0].disbursed_on.isoformat())
    elif rows:
        line["disbursements"] = [{"amount": f.plain_number(r.amount), "on": r.disbursed_on.isoformat()} for r in rows]
    line["created"] = ctx.to_local(deal.created_at)
    return {k: v for k, v in line.items() if v is not None}


register(InterchangeType(
    "offer", OFFER_KEYS, load_offer, dump_offer,
    lambda: db_session.scalars(sa.select(Offer).order_by(Offer.id)), 45,
))
register(InterchangeType(
    "deal", DEAL_KEYS, load_deal, dump_deal,
    lambda: db_session.scalars(sa.select(Deal).order_by(Deal.id)), 46,
))
