"""Form pieces shared by every domain: option lists from the city, common validators and filters."""
from __future__ import annotations

from collections.abc import Iterable

import wtforms
from flask import current_app
from wtforms import SelectChoice, SelectMultipleField, widgets
from wtforms.validators import Regexp

from models.codes import label

REQUIRED = "此项为必填项"
PHONE = Regexp(r"^[0-9+\-() ]{7,20}$", message="请输入有效的电话号码")
USERNAME = Regexp(r"^[A-Za-z0-9_.\-]+$", message="用户名只能包含字母、数字、下划线、点和短横线")


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, text) for value, text in pairs]


def code_options(codes: Iterable[str], blank: str | None = None, context: str | None = None) -> list[SelectChoice]:
    """Options for stored codes, shown with their Chinese labels."""
    head = [("", blank)] if blank is not None else []
    return options(head + [(c, label(c, context)) for c in codes])


def district_choices(blank: str | None = "请选择") -> list[SelectChoice]:
    city = current_app.extensions["city"]
    head = [("", blank)] if blank else []
    return options(head + [(d, d) for d in city.districts])


def cluster_choices(blank: str | None = "请选择") -> list[SelectChoice]:
    city = current_app.extensions["city"]
    head = [("", blank)] if blank else []
    return options(head + [(c, c) for c in city.clusters])


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


NOT_A_NUMBER = "请输入数字"
NOT_A_WHOLE_NUMBER = "请输入整数"
NOT_A_DATE = "请输入有效日期（如 2026-12-31）"


class DecimalField(wtforms.DecimalField):
    """WTForms' decimal, refusing NaN and Infinity (Decimal parses them; every later comparison raises)."""

    def __init__(self, *args, invalid_value_message=NOT_A_NUMBER, **kwargs):
        super().__init__(*args, invalid_value_message=invalid_value_message, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.invalid_value_message)


def add_rule_errors(form, errors: dict[str, str]) -> bool:
    """Attach a service's rule messages to the fields they name; True when there were none.

    The rules live in the domain services (shared with the import); a field that already failed
    to parse keeps its own message.
    """
    for name, message in errors.items():
        f = getattr(form, name, None)
        if f is not None and not f.errors:
            f.errors = [*f.errors, message]
    return not errors
