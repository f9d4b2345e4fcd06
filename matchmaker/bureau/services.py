"""Review of organisations by the bureau that covers them, and creation of institutions."""
from __future__ import annotations

import sqlalchemy as sa

from matchmaker.auth.services import hash_password, new_ref
from matchmaker.permissions import can_edit
from models import Organization, OrgKind, OrgStatus, User, UserRole, db_session, enqueue, record
from models.types import utcnow


class ReviewError(Exception):
    """A review that the rules do not allow; the message is shown to the user."""


def review_scope(user) -> sa.Select:
    """Organisations this bureau user reviews: its district's enterprises; the city: everyone."""
    q = sa.select(Organization).where(Organization.kind != OrgKind.BUREAU)
    if user.org.district is not None:
        q = q.where(Organization.kind == OrgKind.ENTERPRISE, Organization.district == user.org.district)
    return q


def directory_scope(user) -> dict[str, str]:
    """The same scope as review_scope, as search filters: a district bureau finds its district's enterprises."""
    if user.org.district is not None:
        return {"kind": OrgKind.ENTERPRISE.value, "district": user.org.district}
    return {}


def pending_organizations(user) -> list[Organization]:
    q = review_scope(user).where(Organization.status == OrgStatus.PENDING).order_by(Organization.created_at)
    return list(db_session.scalars(q))


def organizations_in_scope(user, *, kind: str | None = None, status: str | None = None,
                           text: str | None = None, page: int = 1, per_page: int = 30):
    q = review_scope(user)
    if kind:
        q = q.where(Organization.kind == kind)
    if status:
        q = q.where(Organization.status == status)
    if text:
        q = q.where(Organization.name.contains(text))
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    rows = db_session.scalars(q.order_by(Organization.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def review(reviewer: User, org: Organization, *, approve: bool, note: str | None = None) -> None:
    """Approve or reject a pending organisation; only the bureau covering it may."""
    if not can_edit(reviewer, org) or reviewer.org.kind != OrgKind.BUREAU:
        raise ReviewError("您无权审核该机构")
    if org.status != OrgStatus.PENDING:
        raise ReviewError("该机构已审核，无需重复操作")
    if not approve and not (note and note.strip()):
        raise ReviewError("不予通过时须填写理由")
    org.status = OrgStatus.APPROVED if approve else OrgStatus.REJECTED
    org.reviewed_at = utcnow()
    org.reviewed_by_id = reviewer.id
    org.review_note = (note or "").strip() or None
    record(reviewer, "organization.approved" if approve else "organization.rejected", org, note=org.review_note)
    enqueue("organization", org.ref)  # approval makes it searchable; the index follows after commit
    db_session.commit()


def create_institution(creator: User, data: dict) -> User:
    """The city bureau opens an institution (approved at once) with its administrator account."""
    if not creator.org.is_city_bureau:
        raise ReviewError("只有市工信局可以创建金融机构")
    kind = OrgKind(data["kind"])
    prefix = {"bank": "bank", "fund": "fund", "guarantor": "gua"}[kind.value]
    parent = None
    if data.get("parent_ref"):
        parent = db_session.scalar(sa.select(Organization).where(Organization.ref == data["parent_ref"]))
    org = Organization(
        ref=new_ref(prefix), kind=kind, name=data["org_name"].strip(), status=OrgStatus.APPROVED,
        district=data.get("district") or None, parent=parent,
        contact_name=data.get("contact_name"), contact_phone=data.get("contact_phone"),
        reviewed_at=utcnow(), reviewed_by_id=creator.id,
    )
    user = User(
        ref=new_ref("u"), org=org, username=data["username"].strip(),
        password_hash=hash_password(data["password"]), role=UserRole.ADMIN, name=data["name"].strip(),
    )
    db_session.add_all([org, user])
    db_session.flush()
    record(creator, "organization.created", org, kind=kind.value)
    enqueue("organization", org.ref)
    db_session.commit()
    return user
