"""Offer forms: the terms of an offer, an answer's reason, signing and a disbursement."""
from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from matchmaker.demands.services import local_today
from matchmaker.forms import (
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_A_WHOLE_NUMBER,
    REQUIRED,
    DecimalField,
    MultiCheckboxField,
    code_options,
    options,
    strip,
)
from matchmaker.offers.services import OFFER_FIELDS
from models import Collateral

OFFER_VALID_DAYS = 30


class OfferForm(FlaskForm):
    product = SelectField("对应产品", validators=[Optional()])
    kind = SelectField("方案类型", validators=[Optional()])
    amount = DecimalField("金额（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                          validators=[InputRequired(REQUIRED)])
    rate = DecimalField("年利率（%，担保为年费率）", places=None, invalid_value_message=NOT_A_NUMBER,
                        validators=[Optional()])
    rate_reason = StringField("利率说明（利率超出产品区间时必填）", filters=[strip])
    term_months = IntegerField("期限（月）", invalid_value_message=NOT_A_WHOLE_NUMBER, validators=[Optional()])
    collateral = MultiCheckboxField("担保方式要求",
                                    choices=code_options([c.value for c in Collateral], context="collateral"))
    conditions = TextAreaField("条件与说明", filters=[strip])
    valid_until = DateField("方案有效期至", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
    stake_percent = DecimalField("拟投股权比例（%，可选）", places=None, invalid_value_message=NOT_A_NUMBER,
                                 validators=[Optional()])
    valuation_min = DecimalField("估值下限（万元，可选）", places=None, invalid_value_message=NOT_A_NUMBER,
                                 validators=[Optional()])
    valuation_max = DecimalField("估值上限（万元，可选）", places=None, invalid_value_message=NOT_A_NUMBER,
                                 validators=[Optional()])

    def __init__(self, *args, products=(), kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product.choices = options([("", "不关联产品")] + [(p.ref, p.name) for p in products])
        self.kind.choices = code_options([str(k) for k in kinds])
        if not self.is_submitted() and self.valid_until.data is None:
            self.valid_until.data = local_today() + timedelta(days=OFFER_VALID_DAYS)

    def values(self) -> dict:
        return {k: getattr(self, k).data for k in OFFER_FIELDS}


class ReasonForm(FlaskForm):
    reason = TextAreaField("理由", filters=[strip])


class ApplyForm(FlaskForm):
    demand = SelectField("用哪项融资需求申请", validators=[InputRequired("请选择融资需求")])
    product = HiddenField()
    note = TextAreaField("申请说明（可选）", filters=[strip])

    def __init__(self, *args, demands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.demand.choices = options([("", "请选择")] + [(d.ref, f"{d.title}（{d.amount.normalize():f} 万元）")
                                                          for d in demands])


class SignForm(FlaskForm):
    signed_amount = DecimalField("签约金额（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                                 validators=[InputRequired(REQUIRED)])
    signed_on = DateField("签约日期", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
    rate = DecimalField("签约年利率（%）", places=None, invalid_value_message=NOT_A_NUMBER, validators=[Optional()])
    term_months = IntegerField("期限（月）", invalid_value_message=NOT_A_WHOLE_NUMBER, validators=[Optional()])


class DisburseForm(FlaskForm):
    amount = DecimalField("放款金额（万元）", places=None, invalid_value_message=NOT_A_NUMBER,
                          validators=[InputRequired(REQUIRED)])
    disbursed_on = DateField("放款日期", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
