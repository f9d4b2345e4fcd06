"""The institution admin's API token page: list, create (secret shown once), revoke."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from matchmaker.api import tokens
from matchmaker.api.forms import RevokeForm, TokenForm
from matchmaker.navigation import INSTITUTIONS
from matchmaker.permissions import role_required
from models import ApiToken, db_session
from models.api_tokens import SCOPE_LABELS

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@bp.route("/", methods=["GET", "POST"])
@role_required(*INSTITUTIONS, admin=True)
def index():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(current_user, form.name.data, form.scopes.data)
            flash(f"已创建令牌“{token.name}”。请立即复制保存，离开本页后将无法再次查看。", "success")
            form = TokenForm(formdata=None)
        except tokens.TokenError as e:
            form.name.errors = [*form.name.errors, str(e)]
    # The secret is rendered in this response only; it is neither stored nor put in the session.
    return render_template("api/tokens.html", form=form, secret=secret, tokens=tokens.tokens_of(current_user.org),
                           revoke_form=RevokeForm(), scope_labels=SCOPE_LABELS)


@bp.route("/<ref>/revoke", methods=["POST"])
@role_required(*INSTITUTIONS, admin=True)
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
