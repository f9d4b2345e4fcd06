"""Home pages: what each role does next."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from matchmaker.home import services
from matchmaker.notices import services as notices

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/public.html", figures=services.public_figures(),
                               notices=notices.latest(current_user))
    org = current_user.org
    if not org.is_approved:
        return render_template("home/pending.html", org=org)
    return render_template(f"home/{org.kind.value}.html", org=org, tasks=services.tasks_for(current_user),
                           notices=notices.latest(current_user))
