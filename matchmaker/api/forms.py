"""Forms of the API token page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from matchmaker.forms import REQUIRED, options, strip
from models.api_tokens import SCOPE_LABELS


class TokenForm(FlaskForm):
    name = StringField("令牌名称", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=100, message="不超过100个字")])
    scopes = SelectMultipleField(
        "权限", choices=options(SCOPE_LABELS.items()), default=["read"],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired("请至少选择一项权限")],
    )

    def __init__(self, *args, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        if org is not None:
            from matchmaker.api.tokens import scopes_for

            self.scopes.choices = options([(s, SCOPE_LABELS[s]) for s in scopes_for(org)])


class RevokeForm(FlaskForm):
    pass


class WebhookForm(FlaskForm):
    url = StringField("回调地址", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=500, message="不超过500个字符")])
    events = SelectMultipleField(
        "事件", choices=[], option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired("请至少选择一种事件")],
    )

    def __init__(self, *args, **kwargs):
        from matchmaker.api.webhooks import EVENTS

        super().__init__(*args, **kwargs)
        self.events.choices = options(EVENTS.items())
