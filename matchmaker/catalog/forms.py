"""The product form: every field keeps what was typed, and every message is next to its field."""
from __future__ import annotations

import re

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from matchmaker.catalog.services import SUGGESTED_TAGS, product_problems
from matchmaker.forms import DecimalField, MultiCheckboxField, code_options, options, strip
from models import OrgKind
from models.products import COLLATERAL_CODES, KINDS_BY_ORG, PURPOSE_CODES, SIZE_CODES, EquityStage


class NumberField(DecimalField):
    """A decimal whose parse error speaks Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("请输入数字") from None


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("请输入整数") from None


class TagListField(StringField):
    """Tags typed as one line, separated by spaces or commas; the line is shown back as typed."""

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        self.data = [t for t in re.split(r"[\s,，、;；]+", raw) if t]

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return " ".join(self.data or [])


class ProductForm(FlaskForm):
    kind = SelectField("产品类型")
    name = StringField("产品名称", filters=[strip])
    description = TextAreaField("产品介绍", filters=[strip], render_kw={"rows": 4})
    amount_min = NumberField("最低金额（万元）", places=2, validators=[InputRequired("请填写最低金额")])
    amount_max = NumberField("最高金额（万元）", places=2, validators=[InputRequired("请填写最高金额")])
    term_min = WholeNumberField("最短期限（月）", validators=[InputRequired("请填写最短期限")])
    term_max = WholeNumberField("最长期限（月）", validators=[InputRequired("请填写最长期限")])
    rate_min = NumberField("最低年化利率（%）", places=2, validators=[Optional()])
    rate_max = NumberField("最高年化利率（%）", places=2, validators=[Optional()])
    collateral = MultiCheckboxField("接受的担保方式", choices=code_options(COLLATERAL_CODES, context="collateral"))
    industries = MultiCheckboxField("支持的产业集群（不选即不限）")
    districts = MultiCheckboxField("服务的区（市）（不选即全市）")
    sizes = MultiCheckboxField("服务的企业规模（不选即不限）", choices=code_options(SIZE_CODES))
    purposes = MultiCheckboxField("支持的资金用途（不选即不限）", choices=code_options(PURPOSE_CODES))
    tags = TagListField("标签")
    approval_days = WholeNumberField("一般审批时间（天）", validators=[Optional()])
    stage = SelectField("投资阶段（股权投资）", choices=code_options([s.value for s in EquityStage], blank="不限"),
                        validators=[Optional()])

    def __init__(self, org_kind: OrgKind, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.org_kind = org_kind
        city = current_app.extensions["city"]
        self.kind.choices = code_options([k.value for k in KINDS_BY_ORG.get(org_kind, ())])
        self.industries.choices = options((c, c) for c in city.clusters)
        self.districts.choices = options((d, d) for d in city.districts)
        self.suggested_tags = SUGGESTED_TAGS

    def values(self) -> dict:
        return {name: self[name].data for name in (
            "kind", "name", "description", "amount_min", "amount_max", "term_min", "term_max", "rate_min",
            "rate_max", "collateral", "industries", "districts", "sizes", "purposes", "tags", "approval_days",
            "stage")}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # The product rules (ranges, min ≤ max, codes) are the services' rules, shown at their fields.
        city = current_app.extensions["city"]
        for key, message in product_problems(self.values(), self.org_kind, city).items():
            field = self._fields.get(key)
            if field is not None and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        return ok

    def attach(self, problems: dict) -> None:
        """Show a service's refusal at its fields (or at the name when it names none)."""
        for key, message in problems.items():
            field = self._fields.get(key) or self.name
            field.errors = [*field.errors, message]

