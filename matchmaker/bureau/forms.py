"""Bureau forms: review decisions and new institutions."""
from __future__ import annotations

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from matchmaker.auth import services as auth_services
from matchmaker.forms import PHONE, REQUIRED, USERNAME, code_options, district_choices, options, strip
from models import Organization, OrgKind, db_session


class ReviewForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired(REQUIRED)])
    note = TextAreaField("审核意见", filters=[strip], validators=[Optional(), Length(max=500, message="不超过500字")])


class InstitutionForm(FlaskForm):
    kind = SelectField("机构类型", choices=code_options(("bank", "fund", "guarantor")))
    org_name = StringField("机构名称", filters=[strip], validators=[DataRequired(REQUIRED), Length(2, 100, "机构名称应为2至100个字")])
    district = SelectField("所在区（市）", validators=[Optional()])
    parent_ref = SelectField("上级机构（分行）", validators=[Optional()])
    contact_name = StringField("联系人", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50, message="不超过50个字")])
    contact_phone = StringField("联系电话", filters=[strip], validators=[DataRequired(REQUIRED), PHONE])
    name = StringField("管理员姓名", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50, message="不超过50个字")])
    username = StringField(
        "管理员用户名", filters=[strip],
        validators=[DataRequired(REQUIRED), Length(3, 64, "用户名应为3至64个字符"),
                    USERNAME],
    )
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = district_choices("全市")
        banks = db_session.execute(
            sa.select(Organization.ref, Organization.name)
            .where(Organization.kind == OrgKind.BANK, Organization.parent_id.is_(None))
            .order_by(Organization.name)
        )
        self.parent_ref.choices = options([("", "无（总行或分行）")] + [tuple(r) for r in banks])

    def validate_username(self, field):
        if auth_services.username_taken(field.data):
            raise ValidationError("该用户名已被使用")

    def validate_password(self, field):
        if err := auth_services.password_error(field.data or ""):
            raise ValidationError(err)

    def validate_parent_ref(self, field):
        if field.data and self.kind.data != "bank":
            raise ValidationError("只有银行可以设置上级机构")
