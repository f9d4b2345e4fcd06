"""Demand forms: the demand, review decisions, intended banks, push lists."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from matchmaker.demands.services import DEMAND_FIELDS, banks_limit, demand_errors
from matchmaker.forms import (
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_A_WHOLE_NUMBER,
    REQUIRED,
    DecimalField,
    MultiCheckboxField,
    add_rule_errors,
    code_options,
    options,
    strip,
)
from models import Collateral, FinancingType, Purpose


class DemandForm(FlaskForm):
    title = StringField("需求标题", filters=[strip])
    project = SelectField("关联技改项目", validators=[Optional()])
    description = TextAreaField("需求说明", filters=[strip])
    amount = DecimalField("融资金额（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                          validators=[InputRequired(REQUIRED)])
    term_months = IntegerField("融资期限（月）", invalid_value_message=NOT_A_WHOLE_NUMBER,
                               validators=[InputRequired(REQUIRED)])
    purpose = SelectField("资金用途", choices=code_options([p.value for p in Purpose], blank="请选择"))
    financing_types = MultiCheckboxField("融资方式（可多选）", choices=code_options([t.value for t in FinancingType]))
    collateral = MultiCheckboxField("可提供的担保方式（可多选）",
                                    choices=code_options([c.value for c in Collateral], context="collateral"))
    max_rate = DecimalField("可接受的年利率上限（%）", places=None, invalid_value_message=NOT_A_NUMBER,
                            validators=[Optional()])
    valid_until = DateField("有效期至", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
    contact_name = StringField("联系人", filters=[strip])
    contact_phone = StringField("联系电话", filters=[strip])
    banks = MultiCheckboxField("意向银行（推送清单用）", validators=[Optional()])

    def __init__(self, *args, projects=(), banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.project.choices = options([("", "不关联")] + [(p.ref, p.name) for p in projects])
        self.banks.choices = options([(b.ref, b.name) for b in banks])

    def values(self) -> dict:
        v = {k: getattr(self, k).data for k in DEMAND_FIELDS}
        v["contact_name"] = v["contact_name"] or None
        v["contact_phone"] = v["contact_phone"] or None
        return v

    def validate_banks(self, field):
        if len(field.data or []) > banks_limit():
            raise ValidationError(f"最多选择{banks_limit()}家意向银行")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return add_rule_errors(self, demand_errors(self.values())) and ok


class ActionForm(FlaskForm):
    action = HiddenField()
    note = TextAreaField("说明", filters=[strip])


class BanksForm(FlaskForm):
    banks = MultiCheckboxField("意向银行")

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.banks.choices = options([(b.ref, b.name) for b in banks])


class BatchForm(FlaskForm):
    title = StringField("清单标题", filters=[strip])


class BatchItemForm(FlaskForm):
    demand = HiddenField()
    op = HiddenField()
