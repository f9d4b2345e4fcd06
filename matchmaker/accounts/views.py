"""The organisation profile page and member management."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from matchmaker.accounts import services
from matchmaker.accounts.forms import MemberActionForm, MemberForm
from matchmaker.auth.sessions import fresh_login_required
from matchmaker.permissions import get_visible_or_404, role_required
from models import User

bp = Blueprint("accounts", __name__, url_prefix="/account")


@bp.route("/")
@login_required
def profile():
    return render_template("accounts/profile.html", org=current_user.org, action_form=MemberActionForm())


@bp.route("/members/new", methods=["GET", "POST"])
@role_required(admin=True)
@fresh_login_required
def new_member():
    form = MemberForm()
    if form.validate_on_submit():
        services.add_member(
            current_user, username=form.username.data, name=form.name.data,
            password=form.password.data, role=form.role.data, phone=form.phone.data or None,
        )
        flash(f"已添加成员 {form.name.data}。", "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/member_new.html", form=form)


@bp.route("/members/<ref>", methods=["POST"])
@role_required(admin=True)
@fresh_login_required
def member_action(ref):
    member = get_visible_or_404(User, ref)
    if member.org_id != current_user.org_id:
        abort(404)
    form = MemberActionForm()
    actions = {
        "disable": {"active": False}, "enable": {"active": True},
        "make_admin": {"role": "admin"}, "make_member": {"role": "member"},
    }
    if not form.validate_on_submit() or form.action.data not in actions:
        abort(400)
    try:
        services.set_member(current_user, member, **actions[form.action.data])
        flash("成员已更新。", "success")
    except services.MemberError as e:
        flash(str(e), "danger")
    return redirect(url_for("accounts.profile"))
