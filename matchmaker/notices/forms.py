"""The notice form: kind, title, body and audience (files come with the request, checked by the service)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from matchmaker.forms import REQUIRED, MultiCheckboxField, code_options, district_choices
from models import NoticeKind, OrgKind


class NoticeForm(FlaskForm):
    kind = SelectField("类型", validators=[DataRequired(REQUIRED)])
    title = StringField("标题", validators=[DataRequired(REQUIRED), Length(max=200, message="标题不超过200字")])
    body = TextAreaField("正文", validators=[DataRequired(REQUIRED), Length(max=20000, message="正文不超过20000字")])
    audience_kinds = MultiCheckboxField("面向机构类型（不选为全部）")
    audience_districts = MultiCheckboxField("面向区（市）（不选为全市）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = code_options([k.value for k in NoticeKind], blank="请选择")
        self.audience_kinds.choices = code_options([k.value for k in OrgKind])
        self.audience_districts.choices = district_choices(blank=None)
