"""Project forms: the project itself, a progress report, a bureau follow-up."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from matchmaker.forms import (
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_A_WHOLE_NUMBER,
    REQUIRED,
    DecimalField,
    add_rule_errors,
    code_options,
    district_choices,
    strip,
)
from matchmaker.projects.services import PROJECT_FIELDS, progress_errors, project_errors
from models import Purpose


class ProjectForm(FlaskForm):
    name = StringField("项目名称", filters=[strip])
    category = SelectField("项目类别", choices=code_options([p.value for p in Purpose], blank="请选择"))
    total_investment = DecimalField("总投资（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                                    validators=[InputRequired(REQUIRED)])
    equipment_investment = DecimalField("其中设备投资（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                                        validators=[InputRequired(REQUIRED)])
    start_on = DateField("计划开工日期", invalid_value_message=NOT_A_DATE, validators=[Optional()])
    end_on = DateField("计划竣工日期", invalid_value_message=NOT_A_DATE, validators=[Optional()])
    district = SelectField("建设地点", validators=[Optional()])
    description = TextAreaField("项目简介", filters=[strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = district_choices("与企业所在地相同")

    def values(self) -> dict:
        v = {k: getattr(self, k).data for k in PROJECT_FIELDS}
        # Blank choices and texts are stored as "not given".
        v["district"] = v["district"] or None
        v["description"] = v["description"] or None
        return v

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return add_rule_errors(self, project_errors(self.values())) and ok


class ProgressForm(FlaskForm):
    percent = IntegerField("当前进度（%）", invalid_value_message=NOT_A_WHOLE_NUMBER,
                           validators=[InputRequired(REQUIRED)])
    done = TextAreaField("本期完成的工作", filters=[strip])
    problems = TextAreaField("遇到的问题", filters=[strip])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return add_rule_errors(self, progress_errors(self.percent.data, self.done.data, self.problems.data)) and ok


class FollowUpForm(FlaskForm):
    update_id = HiddenField()
    note = TextAreaField("跟踪情况", filters=[strip])
    resolve = BooleanField("问题已解决")


class MajorForm(FlaskForm):
    is_major = HiddenField()
