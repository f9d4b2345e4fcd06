"""Forms of the exchange pages: the bureau's export period and the institution's file upload."""
from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField
from wtforms.validators import InputRequired, Optional

from matchmaker.demands.services import local_today
from matchmaker.forms import NOT_A_DATE, REQUIRED, district_choices, options


class ExportForm(FlaskForm):
    """Read from the query string: a download is a GET that changes nothing (the audit entry aside)."""

    class Meta:
        csrf = False

    start = DateField("起始日期", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
    end = DateField("结束日期", invalid_value_message=NOT_A_DATE, validators=[InputRequired(REQUIRED)])
    district = SelectField("区（市）", validators=[Optional()])
    format = SelectField("格式", choices=options([("xlsx", "Excel（省平台模板）"), ("jsonl", "JSON Lines（DESIGN §9）")]))

    def __init__(self, *args, own_district=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = options([(own_district, own_district)]) if own_district else \
            district_choices(blank="全市")
        # By default the previous month and this one so far.
        today = local_today()
        if not self.start.raw_data:
            self.start.data = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        if not self.end.raw_data:
            self.end.data = today


class ImportForm(FlaskForm):
    file = FileField("报送文件（.xlsx 省平台模板的“金融产品”“对接结果”表，或 .jsonl）", validators=[InputRequired("请选择文件")])
