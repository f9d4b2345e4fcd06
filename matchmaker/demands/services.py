"""Demands: creation and editing, the life cycle (one transition table), expiry, disclosure, the pool, push lists."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from matchmaker.auth.services import new_ref
from matchmaker.permissions import bureau_covers, in_bureau_district, policy
from matchmaker.workdays import local_day
from models import (
    Collateral,
    Demand,
    DemandDisclosure,
    DemandHistory,
    DemandIntendedBank,
    DemandStatus,
    FinancingType,
    Organization,
    OrgKind,
    Purpose,
    PushBatch,
    PushBatchItem,
    TechProject,
    db_session,
    label,
    record,
)
from models.types import utcnow

S = DemandStatus
OWNER, BUREAU, SYSTEM = "owner", "bureau", "system"
TITLE_MAX, TEXT_MAX = 100, 2000


class DemandError(Exception):
    """An action the rules do not allow; the message is shown to the user."""


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[DemandStatus]
    target: DemandStatus
    # Who may do it: the demand's own enterprise, the bureau covering it, or the system
    # (expiry, and the offers domain for matched/signed/funded).
    who: frozenset[str]
    verb: str


def _t(action, sources, target, who, verb) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(who), verb)


# The whole life cycle of DESIGN §9. Nothing changes a demand's status except through this table.
TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", {S.DRAFT, S.RETURNED}, S.SUBMITTED, {OWNER}, "提交审核"),
    _t("publish", {S.SUBMITTED}, S.PUBLISHED, {BUREAU}, "审核发布"),
    _t("return", {S.SUBMITTED}, S.RETURNED, {BUREAU}, "退回修改"),
    _t("withdraw", {S.DRAFT, S.SUBMITTED, S.RETURNED, S.PUBLISHED}, S.WITHDRAWN, {OWNER}, "撤回"),
    _t("expire", {S.SUBMITTED, S.RETURNED, S.PUBLISHED}, S.EXPIRED, {SYSTEM}, "到期失效"),
    _t("match", {S.PUBLISHED}, S.MATCHED, {SYSTEM}, "标记为已对接"),
    _t("sign", {S.MATCHED}, S.SIGNED, {SYSTEM}, "标记为已签约"),
    _t("fund", {S.SIGNED}, S.FUNDED, {SYSTEM}, "标记为已放款"),
    _t("close", {S.PUBLISHED, S.MATCHED, S.SIGNED, S.EXPIRED}, S.CLOSED, {OWNER, BUREAU}, "关闭"),
    # Every offer ended (declined, expired or withdrawn) and the demand lapsed: back to the pool
    # without a second review, for a demand that was reviewed and published before.
    _t("reopen", {S.EXPIRED}, S.PUBLISHED, {OWNER}, "重新发布到需求库"),
)
TRANSITION_BY_ACTION = {t.action: t for t in TRANSITIONS}
EDITABLE = (S.DRAFT, S.RETURNED)


def city():
    return current_app.extensions["city"]


def local_today(now: datetime | None = None) -> date:
    """Today in the city: validity dates are the city's calendar days."""
    now = now or utcnow()
    return local_day(now, city())


def default_valid_until(today: date | None = None) -> date:
    return (today or local_today()) + timedelta(days=int(city().policy.get("demand_valid_days", 180)))


# --- who may see and change a demand -------------------------------------------------------------


def is_owner(user, demand: Demand) -> bool:
    return user.org_id == demand.org_id and user.org.kind == OrgKind.ENTERPRISE


def in_bureau_scope(user, demand: Demand) -> bool:
    return bureau_covers(user, demand.org.district)


def _demand_view(user, demand: Demand) -> bool:
    if is_owner(user, demand):
        return True
    if user.org.kind == OrgKind.BUREAU:
        # A draft is the enterprise's own notebook until it is submitted.
        return in_bureau_scope(user, demand) and demand.status != S.DRAFT
    if not user.org.is_approved:
        return False
    if demand.status == S.PUBLISHED:
        return True
    # Past the pool, an institution keeps seeing a demand it was disclosed to (its own deal).
    return user.org.is_institution and db_session.scalar(
        sa.select(DemandDisclosure.id).where(DemandDisclosure.demand_id == demand.id,
                                             DemandDisclosure.org_id == user.org_id)
    ) is not None


def _demand_edit(user, demand: Demand) -> bool:
    return is_owner(user, demand) and demand.status in EDITABLE


policy(Demand, view=_demand_view, edit=_demand_edit)


def allowed_actions(user, demand: Demand) -> list[Transition]:
    """The transitions `user` may start from the demand's current state (buttons on its page)."""
    return [t for t in TRANSITIONS if demand.status in t.sources and _may(user, demand, t)]


def _may(user, demand: Demand, t: Transition) -> bool:
    return (OWNER in t.who and is_owner(user, demand)) or (BUREAU in t.who and in_bureau_scope(user, demand))


# --- rules shared by the web forms and the import -----------------------------------------------


def demand_errors(v: dict, *, today: date | None = None, history: bool = False,
                  policy: dict | None = None) -> dict[str, str]:
    """Field -> Chinese message for every rule the values break; `history`: an imported past state."""
    errors: dict[str, str] = {}
    pol = city().policy if policy is None else policy
    if not v.get("title"):
        errors["title"] = "请填写需求标题"
    elif len(v["title"]) > TITLE_MAX:
        errors["title"] = f"需求标题不能超过{TITLE_MAX}个字"
    if not v.get("description"):
        errors["description"] = "请填写需求说明"
    elif len(v["description"]) > TEXT_MAX:
        errors["description"] = f"需求说明不能超过{TEXT_MAX}个字"
    amount, max_amount = v.get("amount"), Decimal(str(pol.get("demand_max_amount", 100000)))
    if amount is None:
        errors["amount"] = "请填写融资金额"
    elif amount <= 0:
        errors["amount"] = "融资金额应大于0"
    elif amount > max_amount:
        errors["amount"] = f"融资金额不能超过{max_amount:,}万元"
    term = v.get("term_months")
    if term is None:
        errors["term_months"] = "请填写融资期限"
    elif not 1 <= term <= 360:
        errors["term_months"] = "融资期限应为1至360个月"
    if v.get("purpose") not in {p.value for p in Purpose}:
        errors["purpose"] = "请选择资金用途"
    if not v.get("financing_types"):
        errors["financing_types"] = "请至少选择一种融资方式"
    elif not set(v["financing_types"]) <= {t.value for t in FinancingType}:
        errors["financing_types"] = "融资方式无效"
    if not v.get("collateral"):
        errors["collateral"] = "请至少选择一种担保方式（无抵押请选“信用”）"
    elif not set(v["collateral"]) <= {c.value for c in Collateral}:
        errors["collateral"] = "担保方式无效"
    rate = v.get("max_rate")
    if rate is not None and not 0 <= rate <= 36:
        errors["max_rate"] = "可接受的年利率上限应在0至36%之间"
    valid_until = v.get("valid_until")
    if valid_until is None:
        errors["valid_until"] = "请填写有效期"
    elif not history and valid_until < (today or local_today()):
        errors["valid_until"] = "有效期不能早于今天"
    if v.get("contact_name") and len(v["contact_name"]) > 50:
        errors["contact_name"] = "联系人不能超过50个字"
    if v.get("contact_phone") and len(v["contact_phone"]) > 30:
        errors["contact_phone"] = "联系电话不能超过30个字符"
    return errors


DEMAND_FIELDS = ("title", "description", "amount", "term_months", "purpose", "financing_types", "collateral",
                 "max_rate", "valid_until", "contact_name", "contact_phone")


def _project_of(actor, project: TechProject | None) -> TechProject | None:
    if project is not None and project.org_id != actor.org_id:
        raise DemandError("只能关联本企业的技改项目")
    return project


def _history(demand: Demand, actor, action: str, source: DemandStatus | None, target: DemandStatus,
             note: str | None = None) -> None:
    demand.history.append(DemandHistory(
        user_id=getattr(actor, "id", None), action=action, from_status=str(source) if source else None,
        to_status=str(target), note=note,
    ))


# --- changes -------------------------------------------------------------------------------------


def create_demand(actor, values: dict, *, project: TechProject | None = None) -> Demand:
    """An enterprise user drafts a demand of its own organisation."""
    if actor.org.kind != OrgKind.ENTERPRISE:
        raise DemandError("只有企业可以发布融资需求")
    values = {**values, "valid_until": values.get("valid_until") or default_valid_until()}
    if errors := demand_errors(values):
        raise DemandError(next(iter(errors.values())))
    demand = Demand(ref=new_ref("dm"), org=actor.org, project=_project_of(actor, project), status=S.DRAFT,
                    **{k: values.get(k) for k in DEMAND_FIELDS})
    db_session.add(demand)
    _history(demand, actor, "create", None, S.DRAFT)
    db_session.flush()
    record(actor, "demand.created", demand, title=demand.title)
    db_session.commit()
    return demand


def update_demand(actor, demand: Demand, values: dict, *, project: TechProject | None = None) -> Demand:
    """The enterprise edits its demand while it is a draft or was returned."""
    if not is_owner(actor, demand):
        raise DemandError("只能修改本企业的融资需求")
    _lock(demand)
    if demand.status not in EDITABLE:
        raise DemandError(f"需求当前为“{label(demand.status)}”，不能修改；如需调整请先撤回")
    if errors := demand_errors(values):
        raise DemandError(next(iter(errors.values())))
    changed = {}
    for key in DEMAND_FIELDS:
        new = values.get(key)
        if getattr(demand, key) != new:
            changed[key] = new if isinstance(new, (str, list, int, type(None))) else str(new)
            setattr(demand, key, new)
    project = _project_of(actor, project)
    if demand.project_id != (project.id if project else None):
        changed["project"] = project.ref if project else None
        demand.project = project
    if changed:
        record(actor, "demand.updated", demand, changed=changed)
    db_session.commit()
    return demand


def _lock(demand: Demand) -> None:
    """Re-read the demand's row under a lock (PostgreSQL), so two people acting at once cannot both win."""
    if demand in db_session and demand.id is not None:
        db_session.refresh(demand, with_for_update=True)


def _apply(demand: Demand, action: str, actor, note: str | None, *, system: bool) -> Transition:
    """Move `demand` along the transition table; refuses anything the table does not allow."""
    _lock(demand)
    t = TRANSITION_BY_ACTION.get(action)
    if t is None:
        raise DemandError("未知的操作")
    if demand.status not in t.sources:
        raise DemandError(f"需求当前为“{label(demand.status)}”，不能{t.verb}")
    if not (system and SYSTEM in t.who) and (actor is None or not _may(actor, demand, t)):
        raise DemandError(f"您无权对该需求执行“{t.verb}”操作" if SYSTEM not in t.who
                          else f"“{t.verb}”由系统根据对接结果自动执行")
    note = (note or "").strip() or None
    if note and len(note) > 500:
        raise DemandError("说明不能超过500个字")
    if action == "return" and not note:
        raise DemandError("退回时须填写退回理由，告诉企业需要修改什么")
    if action == "submit" and demand.valid_until < local_today():
        raise DemandError("有效期已过，请先修改有效期再提交")
    if action == "reopen":
        _check_reopen(demand)
    source = demand.status
    demand.status = t.target
    if action == "return":
        demand.return_reason = note
    elif action == "submit":
        demand.return_reason = None
        # The bureau console counts a demand in the month it was first submitted.
        demand.submitted_at = demand.submitted_at or utcnow()
    elif action in ("publish", "reopen"):
        demand.published_at = utcnow()
        if demand.valid_until < local_today():
            demand.valid_until = default_valid_until()
    _history(demand, actor, action, source, t.target, note)
    record(actor, f"demand.{action}", demand, **{"from": str(source), "to": str(t.target), "note": note})
    if action in ("publish", "reopen"):
        _notify_saved_searches(demand)
    return t


def _check_reopen(demand: Demand) -> None:
    from models.offers import ACTIVE_STATUSES, Offer

    if demand.published_at is None:
        raise DemandError("该需求从未发布，请修改后重新提交审核")
    active = db_session.scalar(sa.select(sa.func.count(Offer.id)).where(
        Offer.demand_id == demand.id, Offer.status.in_(ACTIVE_STATUSES)))
    if active:
        raise DemandError("该需求仍有进行中的申请或报价，不能重新发布")


def _notify_saved_searches(demand: Demand) -> None:
    """Institutions whose saved searches match a newly published demand hear of it, in this transaction."""
    from types import SimpleNamespace

    from matchmaker.notifications.saved_searches import notify_saved_search_matches

    like = SimpleNamespace(district=demand.org.district, industry=demand.org.industry, purpose=str(demand.purpose),
                           financing_types=demand.financing_types, collateral=demand.collateral,
                           amount=demand.amount, term_months=demand.term_months)
    notify_saved_search_matches(like, title=f"新的融资需求：{demand.title}", link=f"/demands/{demand.ref}")


def act(actor, demand: Demand, action: str, note: str | None = None) -> Demand:
    """A user's action on a demand (submit, publish, return, withdraw, close); audited and recorded."""
    _apply(demand, action, actor, note, system=False)
    db_session.commit()
    return demand


def _system(action: str, demand: Demand, actor=None, note: str | None = None, commit: bool = True) -> Demand:
    _apply(demand, action, actor, note, system=True)
    if commit:
        db_session.commit()
    return demand


# `commit=False`: the offers domain moves the demand inside its own transaction (under its row lock).
def mark_matched(demand: Demand, actor=None, note: str | None = None, *, commit: bool = True) -> Demand:
    """For the offers domain: an offer on a published demand was accepted."""
    return _system("match", demand, actor, note, commit)


def mark_signed(demand: Demand, actor=None, note: str | None = None, *, commit: bool = True) -> Demand:
    """For the offers domain: the contract of a matched demand was signed."""
    return _system("sign", demand, actor, note, commit)


def mark_funded(demand: Demand, actor=None, note: str | None = None, *, commit: bool = True) -> Demand:
    """For the offers domain: the money of a signed demand was disbursed."""
    return _system("fund", demand, actor, note, commit)


def expire_demands(now: datetime | None = None) -> int:
    """Expire every open demand whose valid-until date has passed (city time); returns how many."""
    today = local_today(now)
    due = list(db_session.scalars(
        sa.select(Demand).where(Demand.status.in_(TRANSITION_BY_ACTION["expire"].sources),
                                Demand.valid_until < today)
        .with_for_update(skip_locked=True)
    ))
    for demand in due:
        _apply(demand, "expire", None, f"有效期至{demand.valid_until.isoformat()}，已自动失效", system=True)
    db_session.commit()
    return len(due)


def disclose(demand: Demand, org: Organization, reason: str, actor=None, *, commit: bool = True) -> DemandDisclosure:
    """Let institution `org` see the enterprise behind `demand` (the offers domain calls this).

    `reason`: "applied" (the enterprise applied to it) or "accepted" (it accepted its offer).
    Idempotent: the first reason is kept.
    """
    if not org.is_institution:
        raise DemandError("只能向金融机构披露企业信息")
    existing = db_session.scalar(sa.select(DemandDisclosure).where(
        DemandDisclosure.demand_id == demand.id, DemandDisclosure.org_id == org.id))
    if existing is not None:
        return existing
    row = DemandDisclosure(demand=demand, org=org, reason=reason)
    db_session.add(row)
    record(actor, "demand.disclosed", demand, org=org.ref, reason=reason)
    if commit:
        db_session.commit()
    else:
        db_session.flush()
    return row


# --- intended banks and push lists ---------------------------------------------------------------


def banks_limit() -> int:
    return int(city().policy.get("intended_banks_limit", 3))


def bank_options() -> list[Organization]:
    return list(db_session.scalars(
        sa.select(Organization).where(Organization.kind == OrgKind.BANK, Organization.status == "approved")
        .order_by(Organization.name)
    ))


def set_intended_banks(actor, demand: Demand, banks: list[Organization]) -> None:
    """The enterprise (on its demand) or the bureau chooses the banks a pushed demand should reach."""
    owner, bureau = is_owner(actor, demand), in_bureau_scope(actor, demand)
    if not (owner or bureau):
        raise DemandError("您无权为该需求选择意向银行")
    banks = list({b.id: b for b in banks}.values())
    if any(b.kind != OrgKind.BANK for b in banks):
        raise DemandError("意向机构须为银行")
    limit = banks_limit()
    if len(banks) > limit:
        raise DemandError(f"每个需求最多选择{limit}家意向银行，当前选择了{len(banks)}家")
    chosen_by = "enterprise" if owner else "bureau"
    keep = {b.id for b in banks}
    have = {row.org_id for row in demand.intended_banks}
    if keep == have:
        return
    for row in list(demand.intended_banks):
        if row.org_id not in keep:
            demand.intended_banks.remove(row)
    for b in banks:
        if b.id not in have:
            demand.intended_banks.append(DemandIntendedBank(org=b, chosen_by=chosen_by))
    record(actor, "demand.intended_banks", demand, banks=[b.ref for b in banks])
    db_session.commit()


def create_batch(actor, title: str) -> PushBatch:
    title = (title or "").strip()
    if actor.org.kind != OrgKind.BUREAU:
        raise DemandError("只有工信局可以编制推送清单")
    if not title or len(title) > TITLE_MAX:
        raise DemandError(f"请填写清单标题（不超过{TITLE_MAX}个字）")
    batch = PushBatch(ref=new_ref("pb"), title=title, bureau=actor.org, created_by_id=actor.id)
    db_session.add(batch)
    db_session.flush()
    record(actor, "push_batch.created", batch, title=title)
    db_session.commit()
    return batch


def batch_candidates(user, batch: PushBatch) -> list[Demand]:
    """Published demands of major projects in the bureau's scope not yet on the batch."""
    on = {i.demand_id for i in batch.items}
    q = (sa.select(Demand).join(Demand.org).join(Demand.project)
         .where(Demand.status == S.PUBLISHED, TechProject.is_major.is_(True))
         .order_by(Demand.published_at.desc(), Demand.id.desc()))
    return [d for d in db_session.scalars(in_bureau_district(q, user)) if d.id not in on]


def add_to_batch(actor, batch: PushBatch, demand: Demand) -> None:
    _check_batch(actor, batch)
    if not in_bureau_scope(actor, demand):
        raise DemandError("只能选择本辖区的需求")
    if demand.status != S.PUBLISHED or demand.project is None or not demand.project.is_major:
        raise DemandError("只能选择已发布的重大项目融资需求")
    if any(i.demand_id == demand.id for i in batch.items):
        raise DemandError("该需求已在清单中")
    batch.items.append(PushBatchItem(demand=demand))
    record(actor, "push_batch.added", batch, demand=demand.ref)
    db_session.commit()


def remove_from_batch(actor, batch: PushBatch, demand: Demand) -> None:
    _check_batch(actor, batch)
    for item in list(batch.items):
        if item.demand_id == demand.id:
            batch.items.remove(item)
    record(actor, "push_batch.removed", batch, demand=demand.ref)
    db_session.commit()


def _check_batch(actor, batch: PushBatch) -> None:
    if actor.org_id != batch.bureau_id:
        raise DemandError("只能编辑本单位的推送清单")
    if batch.is_pushed:
        raise DemandError("清单已推送，不能再修改")


def push_batch(actor, batch: PushBatch) -> list[Organization]:
    """Send the batch: each demand reaches its intended banks; returns the banks reached."""
    _check_batch(actor, batch)
    if not batch.items:
        raise DemandError("清单中还没有需求")
    missing = [i.demand.title for i in batch.items if not i.demand.intended_banks]
    if missing:
        raise DemandError(f"以下需求尚未选择意向银行：{'、'.join(missing)}")
    batch.pushed_at = utcnow()
    banks = batch_banks(batch)
    record(actor, "push_batch.pushed", batch, banks=[b.ref for b in banks], demands=len(batch.items))
    db_session.commit()
    return banks


def batch_banks(batch: PushBatch) -> list[Organization]:
    seen: dict[int, Organization] = {}
    for item in batch.items:
        for row in item.demand.intended_banks:
            seen.setdefault(row.org_id, row.org)
    return list(seen.values())


def batches_of(user) -> list[PushBatch]:
    return list(db_session.scalars(
        sa.select(PushBatch).where(PushBatch.bureau_id == user.org_id).order_by(PushBatch.id.desc())))


def inbox_query(bank: Organization) -> sa.Select:
    """Pushed batches that carry at least one demand meant for `bank`."""
    meant = (sa.select(PushBatchItem.batch_id)
             .join(DemandIntendedBank, DemandIntendedBank.demand_id == PushBatchItem.demand_id)
             .where(DemandIntendedBank.org_id == bank.id))
    return (sa.select(PushBatch).where(PushBatch.pushed_at.is_not(None), PushBatch.id.in_(meant))
            .order_by(PushBatch.pushed_at.desc()))


def inbox(bank: Organization) -> list[PushBatch]:
    return list(db_session.scalars(inbox_query(bank)))


def items_for_bank(batch: PushBatch, bank: Organization) -> list[Demand]:
    return [i.demand for i in batch.items if any(r.org_id == bank.id for r in i.demand.intended_banks)]


# --- reading -------------------------------------------------------------------------------------


def demands_of(org: Organization) -> list[Demand]:
    return list(db_session.scalars(
        sa.select(Demand).where(Demand.org_id == org.id).order_by(Demand.id.desc())))


def review_query(user) -> sa.Select:
    q = sa.select(Demand).join(Demand.org).where(Demand.status == S.SUBMITTED)
    return in_bureau_district(q, user).order_by(Demand.updated_at)


def review_queue(user) -> list[Demand]:
    expire_demands()
    return list(db_session.scalars(review_query(user)))


def review_count(user) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(review_query(user).subquery()))


def _json_has(column, code: str):
    # Portable "list contains": the JSON text holds each code in quotes on SQLite and PostgreSQL alike,
    # and no code is a quoted part of another ("equity" vs "equity_pledge").
    return sa.cast(column, sa.Text).like(f'%"{code}"%')


@dataclass
class PoolFilters:
    district: str | None = None
    cluster: str | None = None
    purpose: str | None = None
    financing_type: str | None = None
    collateral: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    term_min: int | None = None
    term_max: int | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> PoolFilters:
        f = cls(district=args.get("district") or None, cluster=args.get("cluster") or None,
                purpose=args.get("purpose") or None, financing_type=args.get("financing_type") or None,
                collateral=args.get("collateral") or None)
        for key, conv in (("amount_min", Decimal), ("amount_max", Decimal), ("term_min", int), ("term_max", int)):
            raw = (args.get(key) or "").strip()
            if raw:
                try:
                    setattr(f, key, conv(raw))
                except (ValueError, ArithmeticError):
                    f.errors.append(f"“{raw}”不是有效的数字，已忽略该条件")
        return f


def pool_query(f: PoolFilters) -> sa.Select:
    q = sa.select(Demand).join(Demand.org).where(Demand.status == S.PUBLISHED)
    if f.district:
        q = q.where(Organization.district == f.district)
    if f.cluster:
        q = q.where(Organization.industry == f.cluster)
    if f.purpose:
        q = q.where(Demand.purpose == f.purpose)
    if f.financing_type in {t.value for t in FinancingType}:
        q = q.where(_json_has(Demand.financing_types, f.financing_type))
    if f.collateral in {c.value for c in Collateral}:
        q = q.where(_json_has(Demand.collateral, f.collateral))
    if f.amount_min is not None:
        q = q.where(Demand.amount >= f.amount_min)
    if f.amount_max is not None:
        q = q.where(Demand.amount <= f.amount_max)
    if f.term_min is not None:
        q = q.where(Demand.term_months >= f.term_min)
    if f.term_max is not None:
        q = q.where(Demand.term_months <= f.term_max)
    return q.order_by(Demand.published_at.desc(), Demand.id.desc())


def pool_page(f: PoolFilters, page: int, per_page: int = 20):
    """Published demands matching the filters, newest first; expiry is applied first."""
    expire_demands()
    q = pool_query(f)
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    rows = list(db_session.scalars(q.limit(per_page).offset((page - 1) * per_page)))
    return rows, total


def published_count() -> int:
    return db_session.scalar(sa.select(sa.func.count(Demand.id)).where(Demand.status == S.PUBLISHED))
