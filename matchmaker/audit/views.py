"""Audit log pages of the bureau: the list and the export. There is no route that changes an entry."""
from __future__ import annotations

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user

from matchmaker.audit import services
from matchmaker.auth.sessions import fresh_login_required
from matchmaker.pagination import page_arg
from matchmaker.permissions import role_required
from models import OrgKind

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@role_required(OrgKind.BUREAU)
def index():
    filters = services.AuditFilters.from_args(request.args)
    number = page_arg()
    rows, total = services.page(current_user, filters, number)
    return render_template("audit/index.html", rows=rows, total=total, page=number, per_page=services.PER_PAGE,
                           filters=filters, object_types=services.OBJECT_TYPE_LABELS, actions=services.actions(),
                           export_max=services.EXPORT_MAX)


@bp.route("/export.xlsx")
@role_required(OrgKind.BUREAU)
@fresh_login_required
def export():
    filters = services.AuditFilters.from_args(request.args)
    data, _count = services.workbook(current_user, filters)
    return send_file(data, as_attachment=True, download_name="审计日志.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
