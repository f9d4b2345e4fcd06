"""Notices: who sees which (audience by organisation kind and district), publishing with files, notifying."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for

from matchmaker.attachments import content, storage
from matchmaker.auth.services import new_ref
from matchmaker.notifications.services import notify
from models import Notice, NoticeAttachment, NoticeKind, Organization, OrgKind, OrgStatus, db_session, record
from models.types import utcnow

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
TITLE_MAX, BODY_MAX = 200, 20000


class NoticeError(Exception):
    """A notice or file the rules refuse; the message is shown next to the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- who sees a notice ------------------------------------------------------------------------------


def _json_has(column, value: str):
    # A portable "list contains": the JSON text holds each value as json.dumps writes it (Chinese as
    # \u escapes); autoescape keeps those backslashes literal in LIKE on SQLite and PostgreSQL alike.
    return sa.cast(column, sa.Text).contains(json.dumps(value), autoescape=True)


def _empty(column):
    return sa.cast(column, sa.Text).in_(["[]", ""])


def visible_query(user) -> sa.Select:
    """Published notices `user` may read: visitors the public ones, users those of their audience.

    A bureau also sees what it published itself; the city bureau sees every notice. An organisation
    without a district (a city-wide institution) belongs to every district's audience.
    """
    q = sa.select(Notice).where(Notice.published_at.is_not(None))
    if not getattr(user, "is_authenticated", False) or not user.org.is_approved:
        return q.where(_empty(Notice.audience_kinds), _empty(Notice.audience_districts))
    org = user.org
    if org.kind == OrgKind.BUREAU and org.district is None:
        return q
    kind_ok = sa.or_(_empty(Notice.audience_kinds), _json_has(Notice.audience_kinds, org.kind.value))
    district_ok = _empty(Notice.audience_districts)
    if org.district is None:
        district_ok = sa.true()
    else:
        district_ok = sa.or_(district_ok, _json_has(Notice.audience_districts, org.district))
    return q.where(sa.or_(sa.and_(kind_ok, district_ok), Notice.bureau_id == org.id))


def can_view(user, notice: Notice) -> bool:
    return db_session.scalar(visible_query(user).where(Notice.id == notice.id).with_only_columns(Notice.id)) is not None


def latest(user, limit: int = 5, kind: str | None = None) -> list[Notice]:
    q = visible_query(user)
    if kind:
        q = q.where(Notice.kind == kind)
    return list(db_session.scalars(q.order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit)))


def page(user, kind: str | None, number: int, per_page: int = 20):
    q = visible_query(user)
    if kind in {k.value for k in NoticeKind}:
        q = q.where(Notice.kind == kind)
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    rows = list(db_session.scalars(q.order_by(Notice.published_at.desc(), Notice.id.desc())
                                   .limit(per_page).offset((number - 1) * per_page)))
    return rows, total


def audience_orgs(notice: Notice) -> sa.Select:
    """The approved organisations a notice reaches (for notifying them)."""
    q = sa.select(Organization).where(Organization.status == OrgStatus.APPROVED, Organization.id != notice.bureau_id)
    if notice.audience_kinds:
        q = q.where(Organization.kind.in_(notice.audience_kinds))
    if notice.audience_districts:
        q = q.where(sa.or_(Organization.district.in_(notice.audience_districts), Organization.district.is_(None)))
    return q


# --- attachments ------------------------------------------------------------------------------------


# Files are checked and stored by the attachments domain's functions; notices keep their own table and folder.
Upload = content.Upload
NOTICE_TYPES = (content.PDF, content.DOC, content.DOCX, content.XLSX, content.PNG, content.JPEG)
ALLOWED_TEXT = content.allowed_text(NOTICE_TYPES)


def sniff(data: bytes) -> str | None:
    """The content type of an allowed file, or None."""
    ctype = content.sniff(data)
    return ctype if ctype in NOTICE_TYPES else None


def check_upload(up: Upload) -> str:
    try:
        ctype, _name = content.check(up, max_bytes=MAX_FILE_BYTES, types=NOTICE_TYPES, check_name=False)
    except content.ContentError as e:
        raise NoticeError("files", f"附件：{e}") from None
    return ctype


def files_dir() -> Path:
    return storage.directory("NOTICE_FILES_DIR", "notice-files")


def file_path(att: NoticeAttachment) -> Path:
    return files_dir() / att.stored_name


_clean_name = content.clean_name


# --- publishing -------------------------------------------------------------------------------------


def publish(actor, *, kind: str, title: str, body: str, audience_kinds: list[str], audience_districts: list[str],
            uploads: list[Upload]) -> Notice:
    """Publish a notice with its files and notify its audience, all in one transaction."""
    title, body = (title or "").strip(), (body or "").strip()
    if kind not in {k.value for k in NoticeKind}:
        raise NoticeError("kind", "请选择公告类型")
    if not title or len(title) > TITLE_MAX:
        raise NoticeError("title", f"标题为必填项，不超过 {TITLE_MAX} 字")
    if not body or len(body) > BODY_MAX:
        raise NoticeError("body", f"正文为必填项，不超过 {BODY_MAX} 字")
    kinds = sorted({k for k in audience_kinds if k in {o.value for o in OrgKind}})
    districts = sorted(set(audience_districts))
    city = current_app.extensions["city"]
    if any(d not in city.districts for d in districts):
        raise NoticeError("audience_districts", "区（市）不在本市范围内")
    if actor.org.district is not None:
        # A district bureau speaks to its own district only.
        districts = [actor.org.district]
    if len(uploads) > MAX_FILES:
        raise NoticeError("files", f"附件最多 {MAX_FILES} 个")
    types = [check_upload(u) for u in uploads]

    notice = Notice(ref=new_ref("nt"), kind=kind, title=title, body=body, audience_kinds=kinds,
                    audience_districts=districts, bureau_id=actor.org_id, created_by_id=actor.id,
                    published_at=utcnow())
    db_session.add(notice)
    written: list[Path] = []
    try:
        for up, ctype in zip(uploads, types, strict=True):
            stored = storage.new_name()
            written.append(storage.write(files_dir() / stored, up.data))
            notice.attachments.append(NoticeAttachment(filename=_clean_name(up.filename), content_type=ctype,
                                                       size=len(up.data), stored_name=stored))
        db_session.flush()
        record(actor, "notice.publish", notice)
        orgs = list(db_session.scalars(audience_orgs(notice)))
        notify(orgs, "notice", f"{title}", body[:200], url_for("notices.detail", ref=notice.ref))
        db_session.commit()
    except Exception:
        db_session.rollback()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return notice
