"""Attachment routes: upload to a demand, project or offer, download (audited) and soft delete."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from matchmaker.attachments import content, services
from matchmaker.attachments.forms import UploadForm

bp = Blueprint("attachments", __name__, url_prefix="/attachments")
log = logging.getLogger(__name__)

PAGES = {"demand": "demands.detail", "tech_project": "projects.detail", "offer": "offers.detail"}


@bp.app_template_global("attachment_panel")
def attachment_panel(obj):
    """The documents section of an object's page for the current user (None: show nothing at all)."""
    return services.panel(current_user, obj)


def _page_of(obj) -> str:
    return url_for(PAGES[services.owner_type(obj).value], ref=obj.ref) + "#attachments"


def _owner_or_404(owner_type: str, ref: str):
    obj = services.load_owner(owner_type, ref)
    if obj is None or not services.can_list(current_user, obj):
        abort(404)
    return obj


def _form_page(obj, form: UploadForm, status: int = 200):
    return render_template("attachments/upload.html", form=form, obj=obj, back=_page_of(obj),
                           max_mb=services.max_bytes() // 1024 // 1024, allowed=content.allowed_text(),
                           max_bytes=services.max_bytes()), status


@bp.route("/<owner_type>/<ref>/upload", methods=["GET", "POST"])
@login_required
def upload(owner_type, ref):
    obj = _owner_or_404(owner_type, ref)
    if not services.can_upload(current_user, obj):
        if current_user.org_id == services.owner_org_id(obj):
            flash("当前状态不能再上传附件。", "warning")
            return redirect(_page_of(obj))
        abort(403)
    form = UploadForm(kinds=services.kind_choices(obj))
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "")
    if form.validate_on_submit():
        f = form.file.data
        # A large upload is spooled to a temporary file: read it and let it go at once.
        with f.stream:
            data = f.read()
        try:
            att = services.upload(current_user, obj, kind=form.kind.data, up=content.Upload(f.filename or "", data))
        except services.AttachmentError as e:
            field = getattr(form, e.field)
            field.errors = [*field.errors, str(e)]
        else:
            flash(f"已上传「{att.filename}」（{att.kind_label}）。", "success")
            return redirect(_page_of(obj))
    return _form_page(obj, form)


@bp.errorhandler(413)
def _too_large(_e):
    # The body was refused before any form could be read: answer with the form and the reason at the field.
    args = request.view_args or {}
    obj = services.load_owner(args.get("owner_type", ""), args.get("ref", "")) if request.endpoint == "attachments.upload" \
        else None
    if obj is None or not current_user.is_authenticated or not services.can_upload(current_user, obj):
        return render_template("errors/error.html", code=413, title="文件过大", text="上传的文件超过了允许的大小。"), 413
    form = UploadForm(formdata=None, kinds=services.kind_choices(obj))
    form.file.errors = [f"文件超过 {services.max_bytes() // 1024 // 1024} MB 的上限，请压缩或拆分后再上传"]
    return _form_page(obj, form, 413)


@bp.route("/<int:attachment_id>")
@login_required
def download(attachment_id):
    found = services.visible(current_user, attachment_id)
    if found is None:
        abort(404)
    att, obj = found
    path = services.file_path(att)
    if not path.is_file():
        log.error("attachment %s: stored file %s is missing", att.id, path)
        abort(404)
    services.record_download(current_user, att, obj)
    # as_attachment with a download name gives Content-Disposition with the RFC 5987 filename*; the type is
    # the one judged from the content, and nosniff keeps browsers from guessing another.
    resp = send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename,
                     conditional=False, etag=False, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/<int:attachment_id>/delete", methods=["POST"])
@login_required
def delete(attachment_id):
    found = services.visible(current_user, attachment_id)
    if found is None:
        abort(404)
    att, obj = found
    if not services.can_delete(current_user, att, obj):
        abort(403)
    services.delete(current_user, att, obj)
    flash(f"已删除附件「{att.filename}」。", "success")
    return redirect(_page_of(obj))
