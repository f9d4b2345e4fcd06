"""The inbox (read, mark read, mark all read) and institutions' saved searches."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from matchmaker.forms import REQUIRED, cluster_choices, code_options, district_choices, strip
from matchmaker.notifications import saved_searches, services
from matchmaker.pagination import page_arg
from matchmaker.permissions import role_required
from models import OrgKind, SavedSearch, db_session
from models.products import COLLATERAL_CODES, PURPOSE_CODES

bp = Blueprint("notifications", __name__)
PER_PAGE = 30


class EmailForm(FlaskForm):
    email = StringField("通知邮箱", filters=[strip], validators=[
        Optional(), Length(max=200, message="不超过200个字符"),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="请输入有效的邮箱地址")])


@bp.route("/inbox", methods=["GET", "POST"])
@login_required
def inbox():
    page = page_arg()
    unread_only = request.args.get("unread") == "1"
    email_form = EmailForm(data={"email": current_user.email} if request.method == "GET" else None)
    if email_form.validate_on_submit():
        services.set_email(current_user, email_form.email.data)
        flash("已保存通知邮箱。" if email_form.email.data else "已取消邮件通知。", "success")
        return redirect(url_for("notifications.inbox"))
    rows, total = services.inbox(current_user, page=page, per_page=PER_PAGE, unread_only=unread_only)
    return render_template("notifications/inbox.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           form=FlaskForm(), email_form=email_form,
                           mail_enabled=bool(current_app.config.get("SMTP_HOST")))


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id):
    if not FlaskForm().validate_on_submit():
        abort(400)
    n = services.own_notification(current_user, notification_id)
    if n is None:
        abort(404)
    services.mark_read(current_user, n)
    # Links are written by the platform itself; only a path on this site is followed.
    if request.form.get("open") == "1" and n.link and n.link.startswith("/") and not n.link.startswith("//"):
        return redirect(n.link)
    return redirect(url_for("notifications.inbox"))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def read_all():
    if not FlaskForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user)
    flash(f"已将 {count} 条消息标为已读。" if count else "没有未读消息。", "success")
    return redirect(url_for("notifications.inbox"))


class SavedSearchForm(FlaskForm):
    name = StringField("名称", filters=[strip])
    district = SelectField("区（市）", validators=[Optional()])
    cluster = SelectField("产业集群", validators=[Optional()])
    purpose = SelectField("资金用途", choices=code_options(PURPOSE_CODES, blank="不限"), validators=[Optional()])
    financing_type = SelectField("融资方式", choices=code_options(saved_searches.FINANCING_TYPES, blank="不限"),
                                 validators=[Optional()])
    collateral = SelectField("担保方式", choices=code_options(COLLATERAL_CODES, blank="不限", context="collateral"),
                             validators=[Optional()])
    amount_min = StringField("金额下限（万元）", filters=[strip])
    amount_max = StringField("金额上限（万元）", filters=[strip])
    term_min = StringField("期限下限（月）", filters=[strip])
    term_max = StringField("期限上限（月）", filters=[strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = district_choices("不限")
        self.cluster.choices = cluster_choices("不限")

    def validate_name(self, field):
        if not field.data:
            raise ValidationError(REQUIRED)


INSTITUTIONS = (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)


@bp.route("/saved-searches", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def searches():
    form = SavedSearchForm()
    if request.method == "GET":
        # "Save these filters" on the demand pool links here with the pool's filters in the address.
        for key in saved_searches.FILTER_KEYS:
            if request.args.get(key):
                form[key].data = request.args[key]
    if form.validate_on_submit():
        filters = {k: form[k].data for k in saved_searches.FILTER_KEYS}
        try:
            saved_searches.save_search(current_user, form.name.data, filters, city=current_app.extensions["city"])
        except saved_searches.SavedSearchError as e:
            form.name.errors = [*form.name.errors, str(e)]
        else:
            flash(f"已保存筛选条件「{form.name.data}」。有新的需求符合时将通知您的机构。", "success")
            return redirect(url_for("notifications.searches"))
    return render_template("notifications/saved_searches.html", form=form,
                           rows=saved_searches.searches_of(current_user.org_id), action_form=FlaskForm())


@bp.route("/saved-searches/<int:search_id>/delete", methods=["POST"])
@role_required(*INSTITUTIONS)
def delete_search(search_id):
    if not FlaskForm().validate_on_submit():
        abort(400)
    search = db_session.get(SavedSearch, search_id)
    if search is None or search.org_id != current_user.org_id:
        abort(404)
    saved_searches.delete_search(current_user, search)
    flash("已删除筛选条件。", "success")
    return redirect(url_for("notifications.searches"))
