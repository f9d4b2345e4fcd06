"""Exchange pages: the bureau downloads its scope's outcomes; an institution uploads its products and outcomes."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_login import current_user

from matchmaker.auth.sessions import fresh_login_required
from matchmaker.exchange import services
from matchmaker.exchange import template as T
from matchmaker.exchange.forms import ExportForm, ImportForm
from matchmaker.navigation import INSTITUTIONS
from matchmaker.permissions import role_required
from matchmaker.search_cli import sync_all
from models import OrgKind

bp = Blueprint("exchange", __name__, url_prefix="/exchange")


@bp.route("/export")
@role_required(OrgKind.BUREAU)
@fresh_login_required
def export_page():
    """The form, and with ?download=1 the file (a district bureau's own district only)."""
    own = current_user.org.district
    if own and request.args.get("district") not in (None, "", own):
        # Another district's outcomes are not disclosed, as on the console.
        abort(404)
    form = ExportForm(request.args, own_district=own)
    error = None
    if "download" in request.args and form.validate():
        city = current_app.extensions["city"]
        try:
            scope = services.export_scope(city, form.start.data, form.end.data, form.district.data or None,
                                          user=current_user)
            data, name, mime = services.export_file(form.format.data, scope, city, actor=current_user)
        except LookupError:
            abort(404)
        except services.ExchangeError as e:
            error = str(e)
        else:
            return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=mime)
    return render_template("exchange/export.html", form=form, error=error, sheets=T.SHEETS, own=own)


@bp.route("/import", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def import_page():
    form = ImportForm()
    report = error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = services.import_file(current_user, upload.filename, upload.read(),
                                          current_app.extensions["city"])
        except services.ExchangeError as e:
            error = str(e)
        else:
            if report.ok:
                sync_all()
    return render_template("exchange/import.html", form=form, report=report, error=error, outcomes=T.OUTCOMES,
                           products=T.PRODUCTS)
