"""The API token page of an institution's or a bureau's admin: list, create (secret shown once), revoke."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from matchmaker.api import tokens, webhooks
from matchmaker.api.forms import RevokeForm, TokenForm, WebhookForm
from matchmaker.auth.sessions import fresh_login_required
from matchmaker.navigation import INSTITUTIONS
from matchmaker.permissions import role_required
from models import ApiToken, OrgKind, WebhookDelivery, WebhookEndpoint, db_session
from models.api_tokens import SCOPE_LABELS

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@bp.route("/", methods=["GET", "POST"])
@role_required(*INSTITUTIONS, OrgKind.BUREAU, admin=True)
@fresh_login_required
def index():
    form = TokenForm(org=current_user.org)
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(current_user, form.name.data, form.scopes.data)
            flash(f"已创建令牌“{token.name}”。请立即复制保存，离开本页后将无法再次查看。", "success")
            form = TokenForm(formdata=None, org=current_user.org)
        except tokens.TokenError as e:
            form.name.errors = [*form.name.errors, str(e)]
    # The secret is rendered in this response only; it is neither stored nor put in the session.
    return render_template("api/tokens.html", form=form, secret=secret, tokens=tokens.tokens_of(current_user.org),
                           revoke_form=RevokeForm(), scope_labels=SCOPE_LABELS,
                           bureau=current_user.org.kind == OrgKind.BUREAU)


@bp.route("/<ref>/revoke", methods=["POST"])
@role_required(*INSTITUTIONS, OrgKind.BUREAU, admin=True)
@fresh_login_required
def revoke(ref):
    token = db_session.scalar(sa.select(ApiToken).where(ApiToken.ref == ref))
    if token is None or token.org_id != current_user.org_id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(current_user, token)
        flash(f"令牌“{token.name}”已吊销，使用它的调用立即失效。", "success")
    except tokens.TokenError as e:
        flash(str(e), "danger")
    return redirect(url_for("api_tokens.index"))


@bp.route("/webhooks", methods=["GET", "POST"])
@role_required(*INSTITUTIONS, admin=True)
@fresh_login_required
def webhook_index():
    form = WebhookForm()
    secret = None
    if form.validate_on_submit():
        try:
            ep, secret = webhooks.register(current_user, form.url.data, form.events.data)
            flash("已登记回调地址。签名密钥只显示这一次，请立即保存。", "success")
            form = WebhookForm(formdata=None)
        except webhooks.WebhookError as e:
            form.url.errors = [*form.url.errors, str(e)]
    return render_template("api/webhooks.html", form=form, secret=secret,
                           endpoints=webhooks.endpoints_of(current_user.org),
                           deliveries=webhooks.recent_deliveries(current_user.org), action_form=RevokeForm(),
                           events=webhooks.EVENTS)


def _own(model, ref: str):
    obj = db_session.scalar(sa.select(model).where(model.ref == ref))
    org_id = obj.org_id if isinstance(obj, WebhookEndpoint) else obj.endpoint.org_id if obj else None
    if obj is None or org_id != current_user.org_id or not RevokeForm().validate_on_submit():
        abort(404)
    return obj


@bp.route("/webhooks/<ref>/disable", methods=["POST"])
@role_required(*INSTITUTIONS, admin=True)
@fresh_login_required
def webhook_disable(ref):
    webhooks.disable(current_user, _own(WebhookEndpoint, ref))
    flash("回调已停用。", "success")
    return redirect(url_for("api_tokens.webhook_index"))


@bp.route("/webhooks/deliveries/<ref>/replay", methods=["POST"])
@role_required(*INSTITUTIONS, admin=True)
@fresh_login_required
def webhook_replay(ref):
    try:
        webhooks.replay(current_user, _own(WebhookDelivery, ref))
        flash("已重新排队发送。", "success")
    except webhooks.WebhookError as e:
        flash(str(e), "danger")
    return redirect(url_for("api_tokens.webhook_index"))
