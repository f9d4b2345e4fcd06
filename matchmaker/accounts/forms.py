"""Member forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from matchmaker.auth import services as auth_services
from matchmaker.forms import PHONE, REQUIRED, USERNAME, options, strip


class MemberForm(FlaskForm):
    name = StringField("姓名", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50, message="不超过50个字")])
    username = StringField(
        "用户名", filters=[strip],
        validators=[DataRequired(REQUIRED), Length(3, 64, "用户名应为3至64个字符"),
                    USERNAME],
    )
    phone = StringField("电话", filters=[strip], validators=[Optional(), PHONE])
    role = SelectField("角色", choices=options([("member", "成员"), ("admin", "管理员")]))
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED)])

    def validate_username(self, field):
        if auth_services.username_taken(field.data):
            raise ValidationError("该用户名已被使用")

    def validate_password(self, field):
        if err := auth_services.password_error(field.data or ""):
            raise ValidationError(err)


class MemberActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
