"""Offers: applications and their deadlines, bids, acceptance into packages, deals and disbursements (one table)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from matchmaker.auth.services import new_ref
from matchmaker.catalog.records import HISTORY_SOURCES, ResponseHistoryRow
from matchmaker.demands import services as demands
from matchmaker.demands.subsidy import interest_subsidy
from matchmaker.notifications.services import notify
from matchmaker.permissions import bureau_covers, in_bureau_district, policy
from matchmaker.workdays import response_deadline, working_days_between
from models import (
    ACTIVE_STATUSES,
    Deal,
    Demand,
    DemandStatus,
    Disbursement,
    Offer,
    OfferOrigin,
    OfferStatus,
    Organization,
    OrgKind,
    Product,
    ProductKind,
    db_session,
    record,
)
from models.products import RATE_RANGE
from models.types import utcnow

OS = OfferStatus
ENTERPRISE, INSTITUTION, SYSTEM = "enterprise", "institution", "system"
TEXT_MAX, REASON_MAX = 2000, 500
# Demands an offer may be made on: in the pool, or matched and still completing its package (a guarantee
# for the accepted loan, the rest of the amount); an offer may still be accepted after the first signing.
OPEN_FOR_OFFERS = (DemandStatus.PUBLISHED, DemandStatus.MATCHED)
OPEN_FOR_ACCEPTANCE = (DemandStatus.PUBLISHED, DemandStatus.MATCHED, DemandStatus.SIGNED)
# Open offers on these demands lapse: the demand left the pool or was paid out in full.
CLOSED_DEMANDS = (DemandStatus.WITHDRAWN, DemandStatus.EXPIRED, DemandStatus.CLOSED, DemandStatus.FUNDED)
# The offer kinds each institution may make, when no product says it.
DEFAULT_KIND = {OrgKind.BANK: ProductKind.LOAN, OrgKind.FUND: ProductKind.EQUITY,
                OrgKind.GUARANTOR: ProductKind.GUARANTEE}
KINDS_BY_ORG = {OrgKind.BANK: (ProductKind.LOAN, ProductKind.LEASING), OrgKind.FUND: (ProductKind.EQUITY,),
                OrgKind.GUARANTOR: (ProductKind.GUARANTEE, ProductKind.LEASING)}
# Offer statuses as the pages name them (a demand's "submitted" reads differently).
STATUS_LABELS = {"requested": "待机构答复", "submitted": "待企业确认", "accepted": "已接受", "declined": "已拒绝",
                 "withdrawn": "已撤回", "expired": "已失效"}


class OfferError(Exception):
    """A change the rules do not allow; `problems` maps each form field (or None) to its Chinese message."""

    def __init__(self, problems: dict[str | None, str] | str):
        self.problems = problems if isinstance(problems, dict) else {None: problems}
        super().__init__("；".join(self.problems.values()))


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[OfferStatus]
    target: OfferStatus
    who: str
    verb: str


def _t(action, sources, target, who, verb) -> Transition:
    return Transition(action, frozenset(sources), target, who, verb)


# The whole life of an offer. Nothing changes an offer's status except through this table;
# `apply` and `bid` create offers in `requested` and `submitted`.
TRANSITIONS: tuple[Transition, ...] = (
    _t("answer", {OS.REQUESTED}, OS.SUBMITTED, INSTITUTION, "提交方案"),
    _t("decline", {OS.REQUESTED}, OS.DECLINED, INSTITUTION, "拒绝申请"),
    _t("withdraw", {OS.SUBMITTED}, OS.WITHDRAWN, INSTITUTION, "撤回方案"),
    _t("cancel", {OS.REQUESTED}, OS.WITHDRAWN, ENTERPRISE, "撤销申请"),
    _t("accept", {OS.SUBMITTED}, OS.ACCEPTED, ENTERPRISE, "接受方案"),
    _t("reject", {OS.SUBMITTED}, OS.DECLINED, ENTERPRISE, "婉拒方案"),
    # Past valid-until, or the demand left the pool before the offer was accepted.
    _t("expire", {OS.REQUESTED, OS.SUBMITTED}, OS.EXPIRED, SYSTEM, "到期失效"),
)
TRANSITION_BY_ACTION = {t.action: t for t in TRANSITIONS}
REASON_REQUIRED = {"decline": "拒绝申请须填写理由，告诉企业原因", "reject": "婉拒方案须填写理由"}


def city():
    return current_app.extensions["city"]


def offer_limit() -> int:
    return int(city().policy.get("active_offer_limit", 3))


# --- who may see an offer -------------------------------------------------------------------------


def is_demand_owner(user, offer: Offer) -> bool:
    return user.org_id == offer.demand.org_id


def is_institution(user, offer: Offer) -> bool:
    return user.org_id == offer.org_id and user.org.is_approved


def _offer_view(user, offer: Offer) -> bool:
    # Other institutions never see an offer: neither its terms nor that the enterprise applied.
    return is_demand_owner(user, offer) or is_institution(user, offer) or bureau_covers(
        user, offer.demand.org.district)


policy(Offer, view=_offer_view, edit=lambda user, offer: is_institution(user, offer))
policy(Deal, view=lambda user, deal: _offer_view(user, deal.offer),
       edit=lambda user, deal: is_institution(user, deal.offer))


# --- reading --------------------------------------------------------------------------------------


def active_org_ids(demand: Demand) -> set[int]:
    return set(db_session.scalars(sa.select(Offer.org_id).where(
        Offer.demand_id == demand.id, Offer.status.in_(ACTIVE_STATUSES))))


def places_left(demand: Demand) -> int:
    """How many more institutions may hold an active offer on `demand` ("还可报价 N 家")."""
    return max(offer_limit() - len(active_org_ids(demand)), 0)


def places_left_many(demand_ids: list[int]) -> dict[int, int]:
    """Places left for many demands in one query (the pool page)."""
    if not demand_ids:
        return {}
    rows = db_session.execute(
        sa.select(Offer.demand_id, sa.func.count(sa.distinct(Offer.org_id)))
        .where(Offer.demand_id.in_(demand_ids), Offer.status.in_(ACTIVE_STATUSES)).group_by(Offer.demand_id))
    used = dict(rows.all())
    return {i: max(offer_limit() - used.get(i, 0), 0) for i in demand_ids}


def offers_of_demand(demand: Demand) -> list[Offer]:
    return list(db_session.scalars(sa.select(Offer).where(Offer.demand_id == demand.id)
                                   .order_by(Offer.created_at, Offer.id)))


def active_offer_of(demand: Demand, org: Organization) -> Offer | None:
    return db_session.scalar(sa.select(Offer).where(Offer.demand_id == demand.id, Offer.org_id == org.id,
                                                    Offer.status.in_(ACTIVE_STATUSES)))


def offers_of_org(org: Organization) -> list[Offer]:
    return list(db_session.scalars(sa.select(Offer).where(Offer.org_id == org.id)
                                   .order_by(Offer.updated_at.desc(), Offer.id.desc())))


def offers_for_enterprise(org: Organization) -> list[Offer]:
    return list(db_session.scalars(sa.select(Offer).join(Offer.demand).where(Demand.org_id == org.id)
                                   .order_by(Offer.updated_at.desc(), Offer.id.desc())))


def accepted_totals(demand: Demand, *, exclude: Offer | None = None) -> tuple[Decimal, Decimal]:
    """(funding, guarantee) totals accepted on `demand`.

    A loan, lease or equity investment brings money and counts towards the demand's amount; a
    guarantee backs that money and adds none, so it is counted on its own, also up to the amount.
    """
    funding = guarantee = Decimal(0)
    for o in db_session.scalars(sa.select(Offer).where(Offer.demand_id == demand.id,
                                                       Offer.status == OS.ACCEPTED)):
        if exclude is not None and o.id == exclude.id:
            continue
        if o.is_funding:
            funding += o.amount or 0
        else:
            guarantee += o.amount or 0
    return funding, guarantee


def days_left(offer: Offer, now: datetime | None = None) -> int | None:
    """Working days left to answer an application (negative once overdue); None without a deadline."""
    if offer.deadline_at is None or offer.status != OS.REQUESTED:
        return None
    now = now or utcnow()
    today, last = demands.local_today(now), demands.local_today(offer.deadline_at)
    n = working_days_between(today, last, city())
    if n == 0 and now > offer.deadline_at:
        return -1
    return n


def is_overdue(offer: Offer, now: datetime | None = None) -> bool:
    return offer.status == OS.REQUESTED and offer.deadline_at is not None and (now or utcnow()) > offer.deadline_at


def overdue_query(user) -> sa.Select:
    """Unanswered applications past their deadline in the bureau user's scope, longest overdue first."""
    q = (sa.select(Offer).join(Offer.demand).join(Demand.org)
         .where(Offer.status == OS.REQUESTED, Offer.deadline_at < utcnow()).order_by(Offer.deadline_at))
    return in_bureau_district(q, user)


def overdue_applications(user) -> list[Offer]:
    return list(db_session.scalars(overdue_query(user)))


def overdue_working_days(offer: Offer, now: datetime | None = None) -> int:
    now = now or utcnow()
    return max(working_days_between(demands.local_today(offer.deadline_at), demands.local_today(now), city()), 0)


def subsidy_at(offer_or_deal, demand: Demand):
    """The loan-interest subsidy estimate at an offer's (or a deal's) rate; None for equity and guarantees."""
    offer = offer_or_deal if isinstance(offer_or_deal, Offer) else offer_or_deal.offer
    if offer.kind not in (ProductKind.LOAN, ProductKind.LEASING):
        return None
    amount = offer_or_deal.signed_amount if isinstance(offer_or_deal, Deal) else offer_or_deal.amount
    rate, term = offer_or_deal.rate, offer_or_deal.term_months
    if amount is None or rate is None or not term:
        return None
    return interest_subsidy(amount, rate, term, str(demand.purpose), city().policy)


# --- rules shared by the forms, the services and the import -------------------------------------


def offer_errors(v: dict, demand: Demand, kind: ProductKind, product: Product | None, *,
                 today: date | None = None, history: bool = False) -> dict[str, str]:
    """Field -> Chinese message for every rule an offer's terms break."""
    errors: dict[str, str] = {}
    amount = v.get("amount")
    if amount is None:
        errors["amount"] = "请填写金额"
    elif amount <= 0:
        errors["amount"] = "金额应大于0"
    elif amount > demand.amount:
        errors["amount"] = f"金额不能超过需求金额 {demand.amount.normalize():f} 万元"
    rate = v.get("rate")
    if kind == ProductKind.EQUITY:
        if rate not in (None, 0):
            errors["rate"] = "股权投资不填利率"
    elif rate is None:
        errors["rate"] = "请填写年利率（担保填年费率）"
    elif not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        errors["rate"] = "年利率应在0至36%之间"
    elif product is not None and not product.rate_min <= rate <= product.rate_max and not (v.get("rate_reason") or ""):
        errors["rate"] = (f"利率 {rate.normalize():f}% 超出所选产品的利率区间 {product.rate_min.normalize():f}%–"
                          f"{product.rate_max.normalize():f}%；确需超出请在“利率说明”中写明理由")
    if len(v.get("rate_reason") or "") > REASON_MAX:
        errors["rate_reason"] = f"利率说明不能超过{REASON_MAX}个字"
    term = v.get("term_months")
    if term is None:
        if kind != ProductKind.EQUITY:
            errors["term_months"] = "请填写期限"
    elif not 1 <= term <= 360:
        errors["term_months"] = "期限应为1至360个月"
    valid_until = v.get("valid_until")
    if valid_until is None:
        errors["valid_until"] = "请填写方案有效期"
    elif not history and valid_until < (today or demands.local_today()):
        errors["valid_until"] = "方案有效期不能早于今天"
    if len(v.get("conditions") or "") > TEXT_MAX:
        errors["conditions"] = f"条件说明不能超过{TEXT_MAX}个字"
    stake = v.get("stake_percent")
    if stake is not None and not 0 < stake <= 100:
        errors["stake_percent"] = "股权比例应在0至100%之间"
    lo, hi = v.get("valuation_min"), v.get("valuation_max")
    if (lo is not None and lo <= 0) or (hi is not None and hi <= 0):
        errors["valuation_min"] = "估值应大于0"
    elif lo is not None and hi is not None and lo > hi:
        errors["valuation_min"] = "估值下限不能大于上限"
    if kind != ProductKind.EQUITY and (stake is not None or lo is not None or hi is not None):
        errors["stake_percent"] = "股权比例和估值只适用于股权投资"
    return errors


OFFER_FIELDS = ("amount", "rate", "term_months", "collateral", "conditions", "valid_until", "rate_reason",
                "stake_percent", "valuation_min", "valuation_max")


def _kind_of(org: Organization, product: Product | None, kind: str | None = None) -> ProductKind:
    if product is not None:
        return product.kind
    if kind:
        kind = ProductKind(kind)
        if kind not in KINDS_BY_ORG.get(org.kind, ()):
            raise OfferError({"kind": f"{org.name}不能提供“{kind}”类方案"})
        return kind
    return DEFAULT_KIND[org.kind]


def _check_product(product: Product | None, org: Organization) -> None:
    if product is None:
        return
    if product.org_id != org.id:
        raise OfferError({"product": "只能选择本机构的产品"})
    if not product.is_active:
        raise OfferError({"product": "该产品已暂停或下架"})


def _set_terms(offer: Offer, values: dict) -> None:
    for key in OFFER_FIELDS:
        setattr(offer, key, values.get(key))
    if offer.kind == ProductKind.EQUITY:
        offer.rate = Decimal(0)
    offer.collateral = list(values.get("collateral") or [])
    offer.conditions = (values.get("conditions") or "").strip() or None
    offer.rate_reason = (values.get("rate_reason") or "").strip() or None


def _audit_terms(offer: Offer) -> dict:
    return {"amount": str(offer.amount), "rate": str(offer.rate), "term_months": offer.term_months,
            "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
            "product": offer.product.ref if offer.product else None}


# --- locking --------------------------------------------------------------------------------------


def _lock(demand: Demand, offer: Offer | None = None) -> None:
    """Take the demand's row lock, then re-read the offer: every change to a demand's offers queues here.

    Always the demand first, then the offer, so two changes never wait on each other in a circle.
    """
    if demand in db_session and demand.id is not None:
        db_session.refresh(demand, with_for_update=True)
    if offer is not None and offer in db_session and offer.id is not None:
        db_session.refresh(offer, with_for_update=True)


def _check_place(demand: Demand, org: Organization) -> None:
    """Under the demand's lock: one active offer per institution, at most `active_offer_limit` institutions."""
    held = active_org_ids(demand)
    if org.id in held:
        raise OfferError("贵机构在该需求上已有进行中的申请或方案")
    if len(held) >= offer_limit():
        raise OfferError(f"该需求已有{offer_limit()}家机构在报价，名额已满；待有机构退出后可再报价")


def _check_move(offer: Offer, action: str) -> Transition:
    t = TRANSITION_BY_ACTION[action]
    if offer.status not in t.sources:
        raise OfferError(f"该方案当前为“{STATUS_LABELS[offer.status]}”，不能{t.verb}")
    return t


def _move(offer: Offer, action: str, actor, *, reason: str | None = None) -> Transition:
    t = _check_move(offer, action)
    source = offer.status
    offer.status = t.target
    now = utcnow()
    if action in ("answer", "decline") and offer.answered_at is None:
        offer.answered_at = now
    if action == "accept":
        offer.accepted_at = now
    if t.target in (OS.DECLINED, OS.WITHDRAWN, OS.EXPIRED):
        offer.closed_at = now
    if t.target == OS.DECLINED:
        offer.decline_reason = reason
        offer.declined_by = t.who
    record(actor, f"offer.{action}", offer, **{"from": str(source), "to": str(t.target), "reason": reason,
                                                "demand": offer.demand.ref})
    return t


def _reason(action: str, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and not reason:
        raise OfferError({"reason": REASON_REQUIRED[action]})
    if reason and len(reason) > REASON_MAX:
        raise OfferError({"reason": f"理由不能超过{REASON_MAX}个字"})
    return reason


def _link(offer: Offer) -> str:
    return f"/offers/{offer.ref}"


# --- changes --------------------------------------------------------------------------------------


def apply(actor, demand: Demand, product: Product, note: str | None = None, *, now: datetime | None = None) -> Offer:
    """The enterprise applies its published demand to a product: the institution sees who it is and must answer."""
    if not demands.is_owner(actor, demand):
        raise OfferError("只能用本企业的融资需求申请产品")
    if not product.is_active or not product.org.is_approved:
        raise OfferError({"product": "该产品当前不接受申请"})
    note = (note or "").strip() or None
    if note and len(note) > REASON_MAX:
        raise OfferError({"note": f"申请说明不能超过{REASON_MAX}个字"})
    _lock(demand)
    if demand.status not in OPEN_FOR_OFFERS:
        raise OfferError({"demand": f"需求当前为“{demands.label(demand.status)}”，只有已发布或已对接的需求可以申请产品"})
    _check_place(demand, product.org)
    now = now or utcnow()
    offer = Offer(ref=new_ref("of"), demand=demand, org=product.org, product=product, origin=OfferOrigin.APPLICATION,
                  kind=product.kind, status=OS.REQUESTED, note=note, asked_at=now,
                  deadline_at=response_deadline(now, city()), created_by_id=actor.id, created_at=now, collateral=[])
    db_session.add(offer)
    db_session.flush()
    record(actor, "offer.applied", offer, demand=demand.ref, product=product.ref,
           deadline=offer.deadline_at.isoformat())
    demands.disclose(demand, product.org, "applied", actor, commit=False)
    notify(product.org, "offer.applied", f"新的产品申请：{demand.title}",
           f"企业{demand.org.name}申请贵机构的“{product.name}”，请在 {_deadline_text(offer)} 前答复。", _link(offer))
    db_session.commit()
    return offer


def _deadline_text(offer: Offer) -> str:
    from matchmaker.formatting import local_dt

    return local_dt(offer.deadline_at)


def bid(actor, demand: Demand, values: dict, *, product: Product | None = None, kind: str | None = None) -> Offer:
    """An institution offers on a published demand from the pool (a fund: its equity interest)."""
    org = actor.org
    if not org.is_institution or not org.is_approved:
        raise OfferError("只有已审核的金融机构可以报价")
    _check_product(product, org)
    kind = _kind_of(org, product, kind)
    if errors := offer_errors(values, demand, kind, product):
        raise OfferError(errors)
    _lock(demand)
    if demand.status not in OPEN_FOR_OFFERS:
        raise OfferError(f"需求当前为“{demands.label(demand.status)}”，不能报价")
    _check_place(demand, org)
    offer = Offer(ref=new_ref("of"), demand=demand, org=org, product=product, origin=OfferOrigin.BID, kind=kind,
                  status=OS.SUBMITTED, created_by_id=actor.id, answered_at=utcnow())
    _set_terms(offer, values)
    db_session.add(offer)
    db_session.flush()
    record(actor, "offer.submitted", offer, demand=demand.ref, **_audit_terms(offer))
    notify(demand.org, "offer.submitted", f"收到新的融资方案：{demand.title}",
           f"一家{demands.label(org.kind)}就您的需求提出了方案：{offer.amount.normalize():f} 万元。", _link(offer))
    db_session.commit()
    return offer


def answer(actor, offer: Offer, values: dict) -> Offer:
    """The institution answers an application with its offer."""
    if not is_institution(actor, offer):
        raise OfferError("只能答复本机构收到的申请")
    if errors := offer_errors(values, offer.demand, offer.kind, offer.product):
        raise OfferError(errors)
    _lock(offer.demand, offer)
    _move(offer, "answer", actor)
    _set_terms(offer, values)
    record(actor, "offer.terms", offer, **_audit_terms(offer))
    notify(offer.demand.org, "offer.submitted", f"机构已答复您的申请：{offer.demand.title}",
           f"{offer.org.name}提出了方案：{offer.amount.normalize():f} 万元，请比较后决定。", _link(offer))
    db_session.commit()
    return offer


# What a revision may change: the terms, never the product, the kind or the demand.
REVISABLE_FIELDS = OFFER_FIELDS


def revise(actor, offer: Offer, values: dict) -> Offer:
    """The institution changes the terms of its offer while the enterprise has not decided (待企业确认).

    `values` holds only the fields to change; the others keep their values and the whole is checked by
    the same rules as a new offer. Once accepted, declined, withdrawn or expired the terms are history.
    """
    if not is_institution(actor, offer):
        raise OfferError("只能修改本机构的方案")
    unknown = sorted(set(values) - set(REVISABLE_FIELDS))
    if unknown:
        raise OfferError({unknown[0]: "该项不能修改"})
    _lock(offer.demand, offer)
    if offer.status != OS.SUBMITTED:
        raise OfferError(f"该方案当前为“{STATUS_LABELS[offer.status]}”，不能修改；只有待企业确认的方案可以修改条款")
    merged = {k: getattr(offer, k) for k in REVISABLE_FIELDS}
    merged.update(values)
    if errors := offer_errors(merged, offer.demand, offer.kind, offer.product):
        raise OfferError(errors)
    before = _audit_terms(offer)
    old = {k: getattr(offer, k) for k in REVISABLE_FIELDS}
    _set_terms(offer, merged)
    changed = [k for k in REVISABLE_FIELDS if getattr(offer, k) != old[k]]
    if changed:
        record(actor, "offer.revised", offer, changed=changed, before=before, demand=offer.demand.ref,
               **_audit_terms(offer))
        notify(offer.demand.org, "offer.revised", f"机构修改了方案：{offer.demand.title}",
               f"{offer.org.name}修改了方案条款（现为 {offer.amount.normalize():f} 万元），请查看后再决定。",
               _link(offer))
    db_session.commit()
    return offer


def decline(actor, offer: Offer, reason: str) -> Offer:
    """The institution declines an application, with a written reason."""
    if not is_institution(actor, offer):
        raise OfferError("只能答复本机构收到的申请")
    reason = _reason("decline", reason)
    _lock(offer.demand, offer)
    _move(offer, "decline", actor, reason=reason)
    notify(offer.demand.org, "offer.declined", f"申请未获通过：{offer.demand.title}",
           f"{offer.org.name}：{reason}", _link(offer))
    db_session.commit()
    return offer


def withdraw(actor, offer: Offer, reason: str | None = None) -> Offer:
    """The institution withdraws its offer before the enterprise accepts it."""
    if not is_institution(actor, offer):
        raise OfferError("只能撤回本机构的方案")
    reason = _reason("withdraw", reason)
    _lock(offer.demand, offer)
    _move(offer, "withdraw", actor, reason=reason)
    notify(offer.demand.org, "offer.withdrawn", f"机构撤回了方案：{offer.demand.title}", reason or "", _link(offer))
    db_session.commit()
    return offer


def cancel(actor, offer: Offer) -> Offer:
    """The enterprise cancels its application before the institution answers."""
    if not demands.is_owner(actor, offer.demand):
        raise OfferError("只能撤销本企业的申请")
    _lock(offer.demand, offer)
    _move(offer, "cancel", actor)
    notify(offer.org, "offer.cancelled", f"企业撤销了申请：{offer.demand.title}", "", _link(offer))
    db_session.commit()
    return offer


def accept(actor, offer: Offer) -> Offer:
    """The enterprise accepts an offer: its name and contact go to that institution; the first moves the demand to matched."""
    demand = offer.demand
    if not demands.is_owner(actor, demand):
        raise OfferError("只能接受本企业需求收到的方案")
    _lock(demand, offer)
    if offer.status == OS.SUBMITTED and offer.valid_until is not None and offer.valid_until < demands.local_today():
        raise OfferError("该方案已过有效期，不能接受")
    if demand.status not in OPEN_FOR_ACCEPTANCE:
        raise OfferError(f"需求当前为“{demands.label(demand.status)}”，不能接受方案")
    _check_move(offer, "accept")
    funding, guarantee = accepted_totals(demand, exclude=offer)
    have = funding if offer.is_funding else guarantee
    if have + offer.amount > demand.amount:
        what = "融资" if offer.is_funding else "担保"
        raise OfferError(f"已接受的{what}金额 {have.normalize():f} 万元，加上该方案 {offer.amount.normalize():f} 万元"
                         f"将超过需求金额 {demand.amount.normalize():f} 万元")
    _move(offer, "accept", actor)
    demands.disclose(demand, offer.org, "accepted", actor, commit=False)
    if demand.status == DemandStatus.PUBLISHED:
        demands.mark_matched(demand, actor, f"接受了{offer.org.name}的方案", commit=False)
    notify(offer.org, "offer.accepted", f"企业接受了贵机构的方案：{demand.title}",
           f"{demand.org.name}接受了 {offer.amount.normalize():f} 万元的方案，请联系企业办理签约。", _link(offer))
    db_session.commit()
    return offer


def reject(actor, offer: Offer, reason: str) -> Offer:
    """The enterprise declines an offer, with a reason the institution reads."""
    if not demands.is_owner(actor, offer.demand):
        raise OfferError("只能答复本企业需求收到的方案")
    reason = _reason("reject", reason)
    _lock(offer.demand, offer)
    _move(offer, "reject", actor, reason=reason)
    notify(offer.org, "offer.declined", f"企业婉拒了贵机构的方案：{offer.demand.title}", reason, _link(offer))
    db_session.commit()
    return offer


def expire_offers(now: datetime | None = None) -> int:
    """Expire offers past their valid-until date, and open ones whose demand left the pool; returns how many."""
    today = demands.local_today(now)
    gone = CLOSED_DEMANDS
    due = list(db_session.scalars(
        sa.select(Offer).join(Offer.demand).where(
            sa.or_(sa.and_(Offer.status == OS.SUBMITTED, Offer.valid_until < today),
                   sa.and_(Offer.status.in_((OS.REQUESTED, OS.SUBMITTED)), Demand.status.in_(gone))))
        .with_for_update(of=Offer, skip_locked=True)
    ))
    for offer in due:
        _move(offer, "expire", None, reason="方案已过有效期" if offer.demand.status not in gone else "需求已不在需求库中")
    if due:
        db_session.commit()
    return len(due)


def expire_due() -> None:
    """Lazy expiry before a page reads offers (the command does the same on a schedule)."""
    demands.expire_demands()
    expire_offers()


# --- deals ----------------------------------------------------------------------------------------


def _money(v, field: str, what: str) -> Decimal:
    if v is None:
        raise OfferError({field: f"请填写{what}"})
    if v <= 0:
        raise OfferError({field: f"{what}应大于0"})
    return v


def sign(actor, offer: Offer, *, signed_amount: Decimal, signed_on: date, rate: Decimal | None,
         term_months: int | None) -> Deal:
    """The institution records the signing of an accepted offer; the demand's first signing moves it to signed."""
    if not is_institution(actor, offer):
        raise OfferError("只能为本机构的方案登记签约")
    _money(signed_amount, "signed_amount", "签约金额")
    if signed_on is None:
        raise OfferError({"signed_on": "请填写签约日期"})
    if signed_on > demands.local_today():
        raise OfferError({"signed_on": "签约日期不能晚于今天"})
    rate = Decimal(0) if offer.kind == ProductKind.EQUITY else rate
    if rate is None or not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise OfferError({"rate": "年利率应在0至36%之间"})
    if term_months is None and offer.kind != ProductKind.EQUITY:
        raise OfferError({"term_months": "请填写期限"})
    if term_months is not None and not 1 <= term_months <= 360:
        raise OfferError({"term_months": "期限应为1至360个月"})
    demand = offer.demand
    _lock(demand, offer)
    if offer.status != OS.ACCEPTED:
        raise OfferError("只有企业已接受的方案可以登记签约")
    if offer.deal is not None:
        raise OfferError("该方案已登记签约")
    if signed_amount > offer.amount:
        raise OfferError({"signed_amount": f"签约金额不能超过已接受的方案金额 {offer.amount.normalize():f} 万元"})
    deal = Deal(ref=new_ref("dl"), offer=offer, signed_amount=signed_amount, signed_on=signed_on, rate=rate,
                term_months=term_months or offer.term_months or 0, created_by_id=actor.id)
    db_session.add(deal)
    db_session.flush()
    record(actor, "deal.signed", deal, offer=offer.ref, demand=demand.ref, signed_amount=str(signed_amount),
           signed_on=signed_on.isoformat(), rate=str(rate), term_months=deal.term_months)
    if demand.status == DemandStatus.MATCHED:
        demands.mark_signed(demand, actor, f"{offer.org.name}签约 {signed_amount.normalize():f} 万元", commit=False)
    notify(demand.org, "deal.signed", f"已登记签约：{demand.title}",
           f"{offer.org.name}登记签约 {signed_amount.normalize():f} 万元。", _link(offer))
    db_session.commit()
    return deal


def funding_totals(demand: Demand) -> tuple[Decimal, Decimal]:
    """(signed, disbursed) over the demand's funding deals (guarantees sign but disburse nothing)."""
    signed = disbursed = Decimal(0)
    deals = db_session.scalars(sa.select(Deal).join(Deal.offer).where(Offer.demand_id == demand.id))
    for deal in deals:
        if deal.offer.is_funding:
            signed += deal.signed_amount
            disbursed += deal.disbursed_amount
    return signed, disbursed


def disburse(actor, deal: Deal, *, amount: Decimal, disbursed_on: date) -> Disbursement:
    """The institution records one disbursement; when the demand's funding deals are paid out in full it is funded."""
    offer = deal.offer
    if not is_institution(actor, offer):
        raise OfferError("只能为本机构的签约登记放款")
    if not offer.is_funding:
        raise OfferError("担保不涉及放款")
    _money(amount, "amount", "放款金额")
    if disbursed_on is None:
        raise OfferError({"disbursed_on": "请填写放款日期"})
    if disbursed_on < deal.signed_on:
        raise OfferError({"disbursed_on": "放款日期不能早于签约日期"})
    if disbursed_on > demands.local_today():
        raise OfferError({"disbursed_on": "放款日期不能晚于今天"})
    demand = offer.demand
    _lock(demand, offer)
    db_session.refresh(deal)
    left = deal.signed_amount - deal.disbursed_amount
    if amount > left:
        raise OfferError({"amount": f"放款合计不能超过签约金额：尚可放款 {left.normalize():f} 万元"})
    row = Disbursement(deal=deal, amount=amount, disbursed_on=disbursed_on, created_by_id=actor.id)
    db_session.add(row)
    db_session.flush()
    record(actor, "deal.disbursed", deal, amount=str(amount), disbursed_on=disbursed_on.isoformat(),
           demand=demand.ref)
    signed, disbursed = funding_totals(demand)
    if demand.status == DemandStatus.SIGNED and signed > 0 and disbursed >= signed:
        demands.mark_funded(demand, actor, f"放款合计 {disbursed.normalize():f} 万元", commit=False)
    notify(demand.org, "deal.disbursed", f"已登记放款：{demand.title}",
           f"{offer.org.name}放款 {amount.normalize():f} 万元。", _link(offer))
    db_session.commit()
    return row


# --- deadline reminders ---------------------------------------------------------------------------


def send_deadline_reminders(now: datetime | None = None) -> dict[str, int]:
    """Remind institutions of applications due within 2 working days, and tell them once when overdue.

    Idempotent: each offer carries the time its reminder and its overdue notice went out.
    """
    now = now or utcnow()
    sent = {"reminders": 0, "overdue": 0}
    waiting = db_session.scalars(sa.select(Offer).where(
        Offer.status == OS.REQUESTED, Offer.deadline_at.is_not(None),
        sa.or_(Offer.reminder_sent_at.is_(None), Offer.overdue_sent_at.is_(None)),
    ).with_for_update(skip_locked=True))
    for offer in waiting:
        if now > offer.deadline_at:
            if offer.overdue_sent_at is None:
                offer.overdue_sent_at = now
                offer.reminder_sent_at = offer.reminder_sent_at or now  # no "due soon" after "overdue"
                notify(offer.org, "offer.overdue", f"申请已逾期未答复：{offer.demand.title}",
                       f"答复期限 {_deadline_text(offer)} 已过，工信局可见逾期情况，请尽快答复。", _link(offer))
                sent["overdue"] += 1
        elif offer.reminder_sent_at is None and days_left(offer, now) <= 2:
            offer.reminder_sent_at = now
            notify(offer.org, "offer.due_soon", f"申请即将到期：{offer.demand.title}",
                   f"请在 {_deadline_text(offer)} 前答复（还剩 {days_left(offer, now)} 个工作日）。", _link(offer))
            sent["reminders"] += 1
    db_session.commit()
    return sent


# --- the response record --------------------------------------------------------------------------


def response_history(org: Organization) -> list[ResponseHistoryRow]:
    """Applications to `org`, as the catalog's response record reads them."""
    rows = db_session.execute(
        sa.select(Offer.id, Offer.asked_at, Offer.answered_at, Offer.deadline_at, Offer.status, Offer.declined_by,
                  Offer.accepted_at)
        .where(Offer.org_id == org.id, Offer.origin == OfferOrigin.APPLICATION, Offer.asked_at.is_not(None))
    ).all()
    ids = [r.id for r in rows]
    funded: dict[int, Decimal] = {}
    if ids:
        funded = dict(db_session.execute(
            sa.select(Deal.offer_id, sa.func.sum(Disbursement.amount)).join(Disbursement.deal)
            .where(Deal.offer_id.in_(ids)).group_by(Deal.offer_id)).all())
    out = []
    for r in rows:
        # An offer was made when the institution answered with terms: still waiting, accepted,
        # declined by the enterprise, withdrawn or lapsed after answering.
        offered = r.answered_at is not None and not (r.status == OS.DECLINED and r.declined_by == INSTITUTION)
        out.append(ResponseHistoryRow(
            asked_at=r.asked_at, first_answer_at=r.answered_at,
            deadline_at=r.deadline_at or response_deadline(r.asked_at, city()),
            offered=offered, accepted=r.accepted_at is not None or r.status == OS.ACCEPTED,
            funded_amount=Decimal(funded[r.id]) if r.id in funded else None))
    return out


HISTORY_SOURCES.append(response_history)


# --- the bureau's and the demand page's figures ---------------------------------------------------


def event_meetings_for(demand: Demand):
    """Meetings at matching events whose outcome names this demand (by its ref), with their amounts."""
    from models import Meeting

    return list(db_session.scalars(sa.select(Meeting).where(Meeting.demand_ref == demand.ref)
                                   .order_by(Meeting.recorded_at.desc(), Meeting.id)))


def recent_window(days: int = 365) -> datetime:
    return utcnow() - timedelta(days=days)
