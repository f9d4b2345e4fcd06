"""The institution's "为您推荐" page: pool demands ranked for its products, anonymised by the reveal rule."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from matchmaker.demands.reveal import enterprise_card
from matchmaker.permissions import role_required
from models import OrgKind

from .data import demands_for_institution_page

bp = Blueprint("ranking", __name__)


@bp.route("/recommended")
@role_required(OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)
def recommended():
    recs = demands_for_institution_page(current_user.org)
    cards = {d.id: enterprise_card(current_user, d) for d, _ in (recs.rows if recs else [])}
    return render_template("ranking/recommended.html", recs=recs, cards=cards)
