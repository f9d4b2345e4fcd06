"""Event forms: the event itself, registration, meeting requests, invitations and outcomes."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from matchmaker.forms import REQUIRED, DecimalField, MultiCheckboxField, code_options, options, strip
from models import EventKind

NUMBER = "请输入整数"
MONEY = "请输入金额（万元）"


def split_list(value: str | None) -> list[str]:
    """Items separated by commas, 、, semicolons or new lines."""
    if not value:
        return []
    for sep in "，、;；\n\r":
        value = value.replace(sep, ",")
    return [v.strip() for v in value.split(",") if v.strip()]


def local_to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    zone = ZoneInfo(current_app.extensions["city"].timezone)
    return value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    zone = ZoneInfo(current_app.extensions["city"].timezone)
    return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


class EventForm(FlaskForm):
    kind = SelectField("活动类型", choices=code_options([k.value for k in EventKind]))
    title = StringField("活动名称", filters=[strip], validators=[DataRequired(REQUIRED), Length(2, 200, "活动名称应为2至200个字")])
    date = DateField("举办日期", validators=[DataRequired("请选择日期")])
    venue = StringField("地点", filters=[strip], validators=[Optional(), Length(max=200, message="不超过200个字")])
    start_time = TimeField("开始时间", validators=[DataRequired("请填写开始时间")])
    registration_deadline = DateTimeLocalField("报名截止", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    slots = IntegerField("洽谈时段数", default=12,
                         validators=[DataRequired(NUMBER), NumberRange(1, 64, "应在1至64之间")])
    slot_minutes = IntegerField("每段时长（分钟）", default=15,
                                validators=[DataRequired(NUMBER), NumberRange(5, 240, "应在5至240之间")])
    breaks = StringField("休息安排（在第几段之后休息，用逗号分隔）", filters=[strip], validators=[Optional()])
    break_minutes = IntegerField("每次休息（分钟）", default=0, validators=[Optional(), NumberRange(0, 240, "应在0至240之间")])
    tables = IntegerField("洽谈桌数", default=10, validators=[DataRequired(NUMBER), NumberRange(1, 500, "应在1至500之间")])
    max_participants = IntegerField("报名上限（家）", validators=[Optional(), NumberRange(1, 100000, "应为正整数")])
    request_expiry_hours = IntegerField("约见申请有效期（小时，不填用全市默认）",
                                        validators=[Optional(), NumberRange(1, 24 * 365, "应为正整数")])
    description = TextAreaField("活动说明", filters=[strip], validators=[Optional(), Length(max=5000, message="不超过5000个字")])

    def validate_breaks(self, field):
        try:
            numbers = [int(x) for x in split_list(field.data)]
        except ValueError:
            raise ValidationError("请填写时段序号，如：4, 8") from None
        slots = self.slots.data or 0
        if any(not 1 <= n < slots for n in numbers):
            raise ValidationError(f"休息须在第1至第{max(slots - 1, 1)}段之后")

    def to_data(self) -> dict:
        return {
            "kind": self.kind.data, "title": self.title.data, "date": self.date.data, "venue": self.venue.data or None,
            "start_time": self.start_time.data, "registration_deadline": local_to_utc(self.registration_deadline.data),
            "slots": self.slots.data, "slot_minutes": self.slot_minutes.data,
            # The form counts slots from 1; stored indices are 0-based.
            "breaks": sorted({int(x) - 1 for x in split_list(self.breaks.data)}),
            "break_minutes": self.break_minutes.data or 0, "tables": self.tables.data,
            "max_participants": self.max_participants.data, "request_expiry_hours": self.request_expiry_hours.data,
            "description": self.description.data or None,
        }

    def load(self, event) -> None:
        for name in ("kind", "title", "date", "venue", "start_time", "slots", "slot_minutes", "break_minutes",
                     "tables", "max_participants", "request_expiry_hours", "description"):
            value = getattr(event, name)
            getattr(self, name).data = value.value if name == "kind" else value
        self.registration_deadline.data = utc_to_local(event.registration_deadline)
        self.breaks.data = ", ".join(str(b + 1) for b in event.breaks or [])


class RegistrationForm(FlaskForm):
    attendees = StringField("参会人员（姓名，用逗号分隔）", filters=[strip],
                            validators=[DataRequired(REQUIRED), Length(max=300, message="不超过300个字")])
    demand_refs = MultiCheckboxField("携带的融资需求", validators=[Optional()])
    available_slots = MultiCheckboxField("可参加的时段（不选表示全天）", coerce=int)
    max_meetings = IntegerField("最多洽谈场数（不填不限）", validators=[Optional(), NumberRange(1, 64, "应为正整数")])
    note = StringField("备注", filters=[strip], validators=[Optional(), Length(max=500, message="不超过500个字")])

    def set_slots(self, times: list[tuple[str, str]]) -> None:
        self.available_slots.choices = options((str(i), f"{i + 1}（{a}-{b}）") for i, (a, b) in enumerate(times))

    def set_demands(self, demands) -> None:
        """The enterprise's own demands that are in the pool are the ones it can bring."""
        self.demand_refs.choices = options((d.ref, f"{d.title}（{d.amount.normalize():f} 万元）") for d in demands)


class RequestForm(FlaskForm):
    to_org = SelectField("约见对象", validators=[DataRequired("请选择约见对象")])
    message = StringField("留言", filters=[strip], validators=[Optional(), Length(max=500, message="不超过500个字")])


class InviteForm(FlaskForm):
    org_ref = SelectField("邀请机构", validators=[DataRequired("请选择机构")])


class OutcomeForm(FlaskForm):
    held = BooleanField("已按议程洽谈", default=True)
    intent_amount = DecimalField("意向金额（万元）", places=None, validators=[Optional(), NumberRange(0, 10**7, MONEY)])
    signed_amount = DecimalField("签约金额（万元）", places=None, validators=[Optional(), NumberRange(0, 10**7, MONEY)])
    disbursed_amount = DecimalField("放款金额（万元）", places=None,
                                    validators=[Optional(), NumberRange(0, 10**7, MONEY)])
    demand_ref = StringField("对应融资需求编号", filters=[strip], validators=[Optional(), Length(max=64, message="不超过64个字")])
    offer_ref = SelectField("形成的融资方案", validators=[Optional()])
    note = TextAreaField("备注", filters=[strip], validators=[Optional(), Length(max=500, message="不超过500个字")])

    def set_offers(self, offers) -> None:
        """The institution's offers on the enterprise's demands: linking one puts the money in the pipeline."""
        self.offer_ref.choices = options(
            [("", "不关联")] + [(o.ref, f"{o.demand.title} · {o.amount.normalize():f} 万元 · {o.ref}") for o in offers])
