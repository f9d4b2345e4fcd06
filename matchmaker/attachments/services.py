"""Attachments of demands, tech projects and offers: who may list, add, fetch and remove them; upload and audit.

Seeing a document follows seeing its object, and for a demand also the reveal rule: a business licence
names the enterprise, so an institution sees a demand's documents (even that there are any) only once
`can_see_identity` lets it see who the enterprise is.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from matchmaker.attachments import content, storage
from matchmaker.demands.reveal import can_see_identity
from matchmaker.permissions import can_view
from models import (
    ATTACHMENT_KIND_LABELS,
    KINDS_BY_OWNER,
    Attachment,
    AttachmentOwner,
    Demand,
    DemandStatus,
    Offer,
    OfferStatus,
    OrgKind,
    TechProject,
    db_session,
    record,
)
from models.types import utcnow

MODELS = {AttachmentOwner.DEMAND: Demand, AttachmentOwner.TECH_PROJECT: TechProject, AttachmentOwner.OFFER: Offer}
OWNER_OF_MODEL = {model: owner for owner, model in MODELS.items()}
MAX_PER_OBJECT = 30

DS, OS = DemandStatus, OfferStatus
# Documents may be added while the object is alive; removed only while it is still editable, so what a
# reviewer or an institution has relied on stays on record.
DEMAND_UPLOAD = {DS.DRAFT, DS.SUBMITTED, DS.RETURNED, DS.PUBLISHED, DS.MATCHED, DS.SIGNED}
DEMAND_DELETE = {DS.DRAFT, DS.RETURNED}
OFFER_UPLOAD = {OS.REQUESTED, OS.SUBMITTED, OS.ACCEPTED}
OFFER_DELETE = {OS.REQUESTED, OS.SUBMITTED}


class AttachmentError(Exception):
    """An upload the rules refuse; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_MB") or 20) * 1024 * 1024


def files_dir() -> Path:
    return storage.directory("ATTACHMENT_DIR", "attachments")


def file_path(att: Attachment) -> Path:
    return storage.sharded(files_dir(), att.stored_name)


# --- owners ---------------------------------------------------------------------------------------


def owner_type(obj) -> AttachmentOwner:
    return OWNER_OF_MODEL[type(obj)]


def load_owner(kind: str, ref: str):
    """The demand, project or offer named by an upload URL, or None."""
    if kind not in {o.value for o in AttachmentOwner}:
        return None
    model = MODELS[AttachmentOwner(kind)]
    return db_session.scalar(sa.select(model).where(model.ref == ref))


def owner_of(att: Attachment):
    return db_session.get(MODELS[AttachmentOwner(att.owner_type)], att.owner_id)


def owner_org_id(obj) -> int:
    """The organisation that adds documents to `obj`: the enterprise, or the offering institution."""
    return obj.org_id


# --- who may do what ------------------------------------------------------------------------------


def can_list(user, obj) -> bool:
    """Whether `user` may see `obj`'s documents (and that it has any)."""
    if not can_view(user, obj):
        return False
    if isinstance(obj, Demand):
        return can_see_identity(user, obj)
    # Projects: the enterprise and its bureau (the project policy). Offers: the institution, the demand's
    # enterprise and its bureau (the offer policy); other institutions never see an offer at all.
    return True


def can_upload(user, obj) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.org.is_approved or user.org_id != owner_org_id(obj):
        return False
    if isinstance(obj, Demand):
        return user.org.kind == OrgKind.ENTERPRISE and obj.status in DEMAND_UPLOAD
    if isinstance(obj, Offer):
        return user.org.is_institution and obj.status in OFFER_UPLOAD
    return user.org.kind == OrgKind.ENTERPRISE


def can_delete(user, att: Attachment, obj) -> bool:
    if att.is_deleted or not getattr(user, "is_authenticated", False) or user.org_id != att.org_id:
        return False
    if isinstance(obj, Demand):
        return obj.status in DEMAND_DELETE
    if isinstance(obj, Offer):
        return obj.status in OFFER_DELETE
    return True


# --- reading --------------------------------------------------------------------------------------


def attachments_of(obj) -> list[Attachment]:
    """The documents of `obj` that are not deleted, oldest first (no permission check: callers ask can_list)."""
    return list(db_session.scalars(
        sa.select(Attachment).where(Attachment.owner_type == owner_type(obj), Attachment.owner_id == obj.id,
                                    Attachment.is_deleted.is_(False)).order_by(Attachment.id)))


def kind_choices(obj) -> list[tuple[str, str]]:
    return [(k, ATTACHMENT_KIND_LABELS[k]) for k in KINDS_BY_OWNER[owner_type(obj)]]


@dataclass(frozen=True)
class Panel:
    """What an object's page shows of its documents for one user."""

    owner_type: str
    ref: str
    items: list[Attachment]
    deletable: set[int]
    can_upload: bool
    kinds: list[tuple[str, str]]
    max_mb: int
    allowed: str


def panel(user, obj) -> Panel | None:
    """The documents section of `obj`'s page, or None when `user` may not even know whether there are any."""
    if obj is None or not can_list(user, obj):
        return None
    items = attachments_of(obj)
    return Panel(owner_type=owner_type(obj).value, ref=obj.ref, items=items,
                 deletable={a.id for a in items if can_delete(user, a, obj)}, can_upload=can_upload(user, obj),
                 kinds=kind_choices(obj), max_mb=max_bytes() // 1024 // 1024, allowed=content.allowed_text())


def visible(user, attachment_id: int) -> tuple[Attachment, object] | None:
    """The attachment and its object when `user` may fetch it; None for absent, deleted or out of scope alike."""
    att = db_session.get(Attachment, attachment_id)
    if att is None or att.is_deleted:
        return None
    obj = owner_of(att)
    if obj is None or not can_list(user, obj):
        return None
    return att, obj


# --- changing -------------------------------------------------------------------------------------


def _details(att: Attachment) -> dict:
    return {"attachment": att.id, "filename": att.filename, "kind": str(att.kind), "size": att.size,
            "sha256": att.sha256}


def upload(actor, obj, *, kind: str, up: content.Upload) -> Attachment:
    """Check and store one document of `obj`, with its audit entry, in one transaction."""
    if kind not in KINDS_BY_OWNER[owner_type(obj)]:
        raise AttachmentError("kind", "请选择附件类型")
    try:
        ctype, filename = content.check(up, max_bytes=max_bytes())
    except content.ContentError as e:
        raise AttachmentError("file", str(e)) from None
    if len(attachments_of(obj)) >= MAX_PER_OBJECT:
        raise AttachmentError("file", f"每项最多 {MAX_PER_OBJECT} 个附件，请先删除不再需要的附件")
    att = Attachment(owner_type=owner_type(obj), owner_id=obj.id, kind=kind, filename=filename,
                     stored_name=storage.new_name(), content_type=ctype, size=len(up.data),
                     sha256=hashlib.sha256(up.data).hexdigest(), org_id=actor.org_id, uploaded_by_id=actor.id)
    path = file_path(att)
    storage.write(path, up.data)
    try:
        db_session.add(att)
        db_session.flush()
        record(actor, "attachment.uploaded", obj, **_details(att))
        db_session.commit()
    except Exception:
        db_session.rollback()
        path.unlink(missing_ok=True)
        raise
    return att


def delete(actor, att: Attachment, obj) -> None:
    """Mark a document deleted (the row and the bytes stay for the record and the backups)."""
    att.is_deleted, att.deleted_at, att.deleted_by_id = True, utcnow(), actor.id
    record(actor, "attachment.deleted", obj, **_details(att))
    db_session.commit()


def record_download(actor, att: Attachment, obj) -> None:
    """Who fetched which document, in the audit log."""
    record(actor, "attachment.downloaded", obj, **_details(att))
    db_session.commit()
