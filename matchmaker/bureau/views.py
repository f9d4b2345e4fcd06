"""Bureau pages: the review queue, organisation directory and new institutions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker import search_pages
from matchmaker.auth.sessions import fresh_login_required
from matchmaker.bureau import services
from matchmaker.bureau.forms import InstitutionForm, ReviewForm
from matchmaker.extensions import search_limit
from matchmaker.permissions import get_visible_or_404, role_required
from models import Organization, OrgKind

bp = Blueprint("bureau", __name__, url_prefix="/bureau")


@bp.route("/reviews")
@role_required(OrgKind.BUREAU)
def reviews():
    return render_template("bureau/reviews.html", pending=services.pending_organizations(current_user))


DIRECTORY_KEYS = ("kind", "status", "district", "cluster")
PER_PAGE = 30


@bp.route("/organizations")
@search_limit
@role_required(OrgKind.BUREAU)
def organizations():
    args = request.args

    def fallback(page, per_page):
        return services.organizations_in_scope(
            current_user, kind=args.get("kind") or None, status=args.get("status") or None,
            text=(args.get("q") or "").strip()[:50] or None, page=page, per_page=per_page)

    listing = search_pages.run(args, doc_type="organization", model=Organization, keys=DIRECTORY_KEYS,
                               facets=DIRECTORY_KEYS, fixed=services.directory_scope(current_user),
                               fallback=fallback, per_page=PER_PAGE)
    return render_template("bureau/organizations.html", listing=listing, rows=listing.rows)


@bp.route("/organizations/<ref>", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def organization(ref):
    org = get_visible_or_404(Organization, ref)
    form = ReviewForm()
    if request.method == "POST":
        if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
            abort(400)
        try:
            services.review(current_user, org, approve=form.decision.data == "approve", note=form.note.data)
        except services.ReviewError as e:
            form.note.errors = [str(e)]
        else:
            flash(f"已{'通过' if form.decision.data == 'approve' else '退回'}「{org.name}」的注册申请。", "success")
            return redirect(url_for("bureau.reviews"))
    from matchmaker.catalog.records import response_record

    # An institution's page shows its response record, computed from the applications it received.
    record = response_record(org) if org.is_institution else None
    return render_template("bureau/organization.html", org=org, form=form, record=record)


@bp.route("/institutions/new", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
@fresh_login_required
def new_institution():
    if not current_user.org.is_city_bureau:
        abort(403)
    form = InstitutionForm()
    if form.validate_on_submit():
        user = services.create_institution(current_user, form.data)
        flash(f"已创建机构「{user.org.name}」，管理员账户：{user.username}。", "success")
        return redirect(url_for("bureau.organization", ref=user.org.ref))
    return render_template("bureau/institution_new.html", form=form)


@bp.route("/jobs")
@role_required(OrgKind.BUREAU)
def jobs():
    """The background jobs at a glance (city bureau): last run, failures, next time due."""
    if not current_user.org.is_city_bureau:
        abort(403)
    from datetime import datetime

    from matchmaker.jobs.runner import status

    def when(iso):
        return datetime.fromisoformat(iso) if iso else None

    rows = status()
    for r in rows:  # the template shows city times
        r["next_due_at"] = when(r["next_due"])
        for key in ("last_run", "last_failure"):
            if r[key]:
                r[key]["started"] = when(r[key]["started_at"])
    return render_template("bureau/jobs.html", rows=rows)
