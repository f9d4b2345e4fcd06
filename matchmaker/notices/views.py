"""Notice pages: the list and a notice for its audience, publishing by bureaus, authorised file downloads."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from matchmaker.notices import services
from matchmaker.notices.forms import NoticeForm
from matchmaker.pagination import page_arg
from matchmaker.permissions import role_required
from models import Notice, NoticeAttachment, NoticeKind, OrgKind, db_session

bp = Blueprint("notices", __name__, url_prefix="/notices")


def _visible_or_404(ref: str) -> Notice:
    notice = db_session.scalar(sa.select(Notice).where(Notice.ref == ref))
    if notice is None or not services.can_view(current_user, notice):
        abort(404)
    return notice


@bp.route("/")
def index():
    kind = request.args.get("kind") or None
    number = page_arg()
    rows, total = services.page(current_user, kind, number)
    is_bureau = current_user.is_authenticated and current_user.org.kind == OrgKind.BUREAU \
        and current_user.org.is_approved
    return render_template("notices/index.html", rows=rows, total=total, page=number, per_page=20, kind=kind,
                           kinds=[k.value for k in NoticeKind], can_publish=is_bureau)


@bp.route("/new", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def new():
    form = NoticeForm()
    file_errors: list[str] = []
    if form.validate_on_submit():
        uploads = []
        for f in request.files.getlist("files"):
            # A large upload is spooled to a temporary file: read it and let it go at once.
            with f.stream:
                if f.filename:
                    uploads.append(services.Upload(f.filename, f.read()))
        try:
            notice = services.publish(current_user, kind=form.kind.data, title=form.title.data, body=form.body.data,
                                      audience_kinds=form.audience_kinds.data or [],
                                      audience_districts=form.audience_districts.data or [], uploads=uploads)
        except services.NoticeError as e:
            field = getattr(form, e.field, None)
            if field is not None:
                field.errors = [*field.errors, str(e)]
            else:
                file_errors.append(str(e))
        else:
            flash(f"已发布「{notice.title}」，并通知了面向的机构。", "success")
            return redirect(url_for("notices.detail", ref=notice.ref))
    return render_template("notices/form.html", form=form, max_mb=services.MAX_FILE_BYTES // 1024 // 1024,
                           allowed=services.ALLOWED_TEXT, file_errors=file_errors)


@bp.route("/<ref>")
def detail(ref):
    return render_template("notices/detail.html", notice=_visible_or_404(ref))


@bp.route("/<ref>/files/<int:file_id>")
def download(ref, file_id):
    notice = _visible_or_404(ref)
    att = db_session.get(NoticeAttachment, file_id)
    if att is None or att.notice_id != notice.id:
        abort(404)
    path = services.file_path(att)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename)
