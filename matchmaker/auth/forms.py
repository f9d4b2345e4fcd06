"""Forms for sign-in, registration and password change, with messages in Chinese."""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from matchmaker.auth import services
from matchmaker.forms import (
    PHONE,
    REQUIRED,
    USERNAME,
    DecimalField,
    MultiCheckboxField,
    cluster_choices,
    code_options,
    district_choices,
    options,
    strip,
)
from models.organizations import uscc_error


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64, message="不超过64个字符")])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=128, message="不超过128个字符")])


class RegistrationForm(FlaskForm):
    kind = SelectField(
        "机构类型",
        choices=code_options(("enterprise", "bank", "fund", "guarantor")),
        default="enterprise",
    )
    org_name = StringField("机构名称", filters=[strip], validators=[DataRequired(REQUIRED), Length(2, 100, "机构名称应为2至100个字")])
    uscc = StringField("统一社会信用代码", filters=[strip])
    # No Optional() here: it would stop the chain before the validate_* methods that require
    # these for enterprises only.
    district = SelectField("所在区（市）")
    industry = SelectField("所属产业集群")
    size = SelectField(
        "企业规模", choices=code_options(("large", "medium", "small", "micro"), blank="请选择"),
    )
    founded = IntegerField("成立年份", validators=[Optional(), NumberRange(1900, 2100, "请输入正确的年份")])
    revenue = DecimalField("上年营业收入（万元）", places=2, validators=[Optional(), NumberRange(0, 1e9, "营业收入不能为负")])
    employees = IntegerField("职工人数", validators=[Optional(), NumberRange(0, 10**6, "人数不能为负")])
    rd_ratio = DecimalField("研发投入占比（%）", places=2, validators=[Optional(), NumberRange(0, 100, "应在0至100之间")])
    tags = MultiCheckboxField("企业标签", choices=[])
    contact_name = StringField("联系人", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50, message="不超过50个字")])
    contact_phone = StringField("联系电话", filters=[strip], validators=[DataRequired(REQUIRED), PHONE])
    name = StringField("您的姓名", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50, message="不超过50个字")])
    username = StringField(
        "登录用户名", filters=[strip],
        validators=[DataRequired(REQUIRED), Length(3, 64, "用户名应为3至64个字符"),
                    USERNAME],
    )
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=128, message="不超过128个字符")])
    confirm = PasswordField("确认密码", validators=[DataRequired(REQUIRED), EqualTo("password", "两次输入的密码不一致")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        city = current_app.extensions["city"]
        self.district.choices = district_choices()
        self.industry.choices = cluster_choices()
        self.tags.choices = options((t, t) for t in city.enterprise_tags)

    def validate_uscc(self, field):
        if self.kind.data != "enterprise":
            return
        if not field.data:
            raise ValidationError("企业须填写统一社会信用代码")
        if err := uscc_error(field.data):
            raise ValidationError(err)
        if services.uscc_taken(field.data):
            raise ValidationError("该统一社会信用代码已注册，如需找回账户请联系所在区工信局")

    def validate_district(self, field):
        if self.kind.data == "enterprise" and not field.data:
            raise ValidationError("企业须选择所在区（市）")

    def validate_industry(self, field):
        if self.kind.data == "enterprise" and not field.data:
            raise ValidationError("企业须选择所属产业集群")

    def validate_size(self, field):
        if self.kind.data == "enterprise" and not field.data:
            raise ValidationError("企业须选择企业规模")

    def validate_username(self, field):
        if services.username_taken(field.data):
            raise ValidationError("该用户名已被使用")

    def validate_password(self, field):
        if err := services.password_error(field.data or ""):
            raise ValidationError(err)

    def to_data(self) -> dict:
        data = {k: f.data for k, f in self._fields.items() if k not in ("csrf_token", "confirm")}
        if data["rd_ratio"] is not None:
            data["rd_ratio"] = data["rd_ratio"] / 100
        if data["kind"] != "enterprise":
            for key in ("uscc", "industry", "size", "founded", "revenue", "employees", "rd_ratio"):
                data[key] = None
            data["tags"] = []
        return data


class PasswordChangeForm(FlaskForm):
    old = PasswordField("原密码", validators=[DataRequired(REQUIRED)])
    new = PasswordField("新密码", validators=[DataRequired(REQUIRED), Length(max=128, message="不超过128个字符")])
    confirm = PasswordField("确认新密码", validators=[DataRequired(REQUIRED), EqualTo("new", "两次输入的密码不一致")])


class ReauthForm(FlaskForm):
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=128)])
