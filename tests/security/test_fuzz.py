"""Hostile input to every form and to `data import`: no server error, stored text escaped, nothing saved lost.

Each form is posted by a user of the role that may use it, with hypothesis mixing a valid base (so
that some examples are stored and shown) with script tags, SQL fragments, 100,000-character strings,
NUL, RTL overrides, emoji, combining marks, lone surrogates (sent as the bytes a broken client
sends), and text, negative, huge, NaN and Infinity values in number and date fields. Every example
runs in a transaction rolled back afterwards (tests/security/harness.py), on the world of the
authorization matrix.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TimeField,
)
from wtforms.fields.core import UnboundField

from tests import factories
from tests.security import world as W
from tests.security.harness import client_for, shared_world

SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(2)>'
# What must never reach a page unescaped.
RAW_MARKERS = ("<script>alert(", "<svg onload=alert(")
HOSTILE_TEXT = [
    SCRIPT, SVG, "' OR 1=1 --", "'; DROP TABLE demands; --", "x" * 100_000, "\x00", "a\x00b", "\u202eevil",
    "😀" * 50, "e\u0301\u0301\u0301", "\ud800", "\udfff lone", "{{7*7}}", "${7*7}", "../../etc/passwd", "\r\n\t",
    "%00", "\\", "　", "",
]
HOSTILE_NUMBER = ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1", "-0", "0", "1e-30",
                  "99999999999999999999999999", "-99999999999999999999", "1,000", "abc", "0x10", "１２", " 5 "]
HOSTILE_DATE = ["2026-02-30", "0000-00-00", "9999-12-31", "0001-01-01", "2026-13-01", "abc", "-1", "26/11/2026",
                "2026-11-26T25:61"]

text_values = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30),
                        st.tuples(st.sampled_from(HOSTILE_TEXT), st.text(max_size=10)).map("".join))
number_values = st.one_of(st.sampled_from(HOSTILE_NUMBER), st.integers().map(str),
                          st.floats(allow_nan=True, allow_infinity=True).map(str), text_values)
date_values = st.one_of(st.sampled_from(HOSTILE_DATE), st.dates().map(str), text_values)


def _today(days: int = 0) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass
class Spec:
    """One form: who posts it where, its fields, a valid base, and the saved object it may change."""

    endpoint: str
    role: str
    form: type | None = None
    base: dict = field(default_factory=dict)
    args: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    fields: tuple[str, ...] = ()        # for views that read request.form without a form class
    target: str | None = None           # the protected object a successful post may change
    stores: bool = True                 # the base alone is accepted (a redirect)
    method: str = "POST"                # GET: a form read from the query string (the values go there)


def _forms():
    from matchmaker.accounts.forms import MemberActionForm, MemberForm
    from matchmaker.api.forms import TokenForm, WebhookForm
    from matchmaker.attachments.forms import UploadForm
    from matchmaker.auth.forms import LoginForm, PasswordChangeForm, ReauthForm, RegistrationForm
    from matchmaker.bureau.forms import InstitutionForm, ReviewForm
    from matchmaker.catalog.forms import ProductForm
    from matchmaker.demands.forms import ActionForm, BanksForm, BatchForm, BatchItemForm, DemandForm
    from matchmaker.events.forms import EventForm, OutcomeForm
    from matchmaker.events.forms import RegistrationForm as EventRegistrationForm
    from matchmaker.exchange.forms import ExportForm, ImportForm
    from matchmaker.notices.forms import NoticeForm
    from matchmaker.notifications.views import EmailForm, SavedSearchForm
    from matchmaker.offers.forms import ApplyForm, DisburseForm, OfferForm, ReasonForm, SignForm
    from matchmaker.projects.forms import FollowUpForm, MajorForm, ProgressForm, ProjectForm

    product = {"kind": "loan", "name": "模糊测试贷", "description": "说明", "amount_min": "100", "amount_max": "1000",
               "term_min": "6", "term_max": "36", "rate_min": "3.5", "rate_max": "5.5", "collateral": ["none"],
               "tags": "信用贷", "approval_days": "10"}
    demand = {"title": "模糊测试需求", "description": "购置设备", "amount": "500", "term_months": "12",
              "purpose": "equipment", "financing_types": ["loan"], "collateral": ["equipment"], "max_rate": "5",
              "valid_until": _today(60), "contact_name": "王会计", "contact_phone": "13911112222", "project": ""}
    event = {"kind": "bank_enterprise_meeting", "title": "模糊测试对接会", "date": _today(30), "venue": "会议中心",
             "start_time": "09:00", "slots": "4", "slot_minutes": "15", "breaks": "", "break_minutes": "0",
             "tables": "3", "description": "说明"}
    offer = {"product": "@product_bank", "amount": "500", "rate": "4.5", "term_months": "36",
             "collateral": ["equipment"], "conditions": "设备抵押", "valid_until": _today(30)}
    project = {"name": "模糊测试项目", "category": "smart_upgrade", "total_investment": "1000",
               "equipment_investment": "500", "start_on": "2026-01-01", "end_on": "2027-01-01",
               "district": W.A_DISTRICT, "description": "简介"}
    password = "Fuzz-Passw0rd-2026"
    return [
        Spec("auth.login", "anonymous", LoginForm, {"username": "nobody", "password": "x"}, stores=False),
        Spec("auth.register", "anonymous", RegistrationForm,
             {"kind": "enterprise", "org_name": "模糊测试企业", "uscc": factories.valid_uscc(990001),
              "district": W.A_DISTRICT, "industry": "高端装备", "size": "small", "founded": "2010", "revenue": "1000",
              "employees": "50", "rd_ratio": "3", "contact_name": "赵经理", "contact_phone": "13800000001",
              "name": "赵经理", "username": "fuzz-user", "password": password, "confirm": password}),
        Spec("auth.password", "ent_a", PasswordChangeForm,
             {"old": factories.PASSWORD, "new": password, "confirm": password}, target="user_ent_a"),
        # Not ent_a: its wrong passwords would count against user_ent_a, a protected row.
        Spec("auth.reauth", "fund", ReauthForm, {"password": factories.PASSWORD}),
        Spec("accounts.new_member", "ent_a", MemberForm,
             {"name": "钱会计", "username": "fuzz-member", "phone": "13800000002", "role": "member",
              "password": password}),
        Spec("accounts.member_action", "ent_a", MemberActionForm, {"action": "disable"}, args={"ref": "member_a"}),
        Spec("api_tokens.index", "bank", TokenForm, {"name": "对接系统", "scopes": ["read"]}, stores=False),
        Spec("api_tokens.webhook_index", "bank", WebhookForm,
             {"url": "https://hooks.example.com/fuzz", "events": ["offer.applied"]}, stores=False),
        Spec("bureau.organization", "city", ReviewForm, {"decision": "approve", "note": "同意"},
             args={"ref": "org_ent_b"}, stores=False),
        Spec("bureau.new_institution", "city", InstitutionForm,
             {"kind": "bank", "org_name": "模糊测试银行", "district": "市中区", "parent_ref": "", "contact_name": "孙行长",
              "contact_phone": "13800000003", "name": "孙行长", "username": "fuzz-bank", "password": password}),
        Spec("catalog.new", "bank", ProductForm, product),
        Spec("catalog.edit", "bank", ProductForm, product, args={"ref": "product_bank"}, target="product_bank"),
        Spec("catalog.status", "bank", None, {"action": "pause", "back": "product"}, args={"ref": "product_bank"},
             fields=("action", "back"), target="product_bank"),
        Spec("demands.new", "ent_a", DemandForm, demand),
        Spec("demands.edit", "ent_a", DemandForm, demand, args={"ref": "demand_a_draft"}, target="demand_a_draft"),
        Spec("demands.action", "bureau_a", ActionForm, {"action": "return", "note": "请补充材料"},
             args={"ref": "demand_a_submitted"}, target="demand_a_submitted"),
        Spec("demands.banks", "ent_a", BanksForm, {"banks": ["@org_bank"]}, args={"ref": "demand_a_published"},
             target="demand_a_published"),
        Spec("demands.batches", "bureau_a", BatchForm, {"title": "模糊测试清单"}),
        Spec("demands.batch", "bureau_b", BatchItemForm, {"op": "add", "demand": "@demand_b"}, args={"ref": "batch_b"},
             stores=False),
        Spec("events.new", "bureau_a", EventForm, event),
        Spec("events.edit", "bureau_a", EventForm, event, args={"ref": "event_a"}, target="event_a"),
        Spec("events.register", "fund", EventRegistrationForm, {"attendees": "王五", "max_meetings": "3", "note": "备注"},
             args={"ref": "event_a"}),
        Spec("events.new_request", "fund", None, {"to_org": "@org_ent_a", "message": "希望洽谈"},
             args={"ref": "event_a"}, fields=("to_org", "message"), stores=False),
        Spec("events.transition", "bureau_a", None, {"to": "scheduling"}, args={"ref": "event_a"}, fields=("to",),
             target="event_a"),
        Spec("events.invite", "bureau_a", None, {"org_ref": "@org_other_bank"}, args={"ref": "event_a"},
             fields=("org_ref",)),
        Spec("events.checkin", "bureau_a", None, {"org": "@org_ent_a", "present": "1"}, args={"ref": "event_a"},
             fields=("org", "present")),
        Spec("events.outcome", "bank", OutcomeForm,
             {"held": "y", "intent_amount": "100", "signed_amount": "", "disbursed_amount": "", "demand_ref": "",
              "offer_ref": "", "note": "洽谈顺利"}, args={"ref": "event_a", "meeting_id": "meeting_a"},
             target="meeting_a", stores=False),  # outcomes wait for the published agenda
        Spec("notices.new", "city", NoticeForm, {"kind": "policy", "title": "模糊测试公告", "body": "正文"}),
        Spec("notifications.inbox", "ent_a", EmailForm, {"email": "a@example.com"}, target="user_ent_a"),
        Spec("notifications.searches", "bank", SavedSearchForm, {"name": "模糊测试订阅", "district": W.A_DISTRICT}),
        Spec("offers.new", "guarantor", OfferForm, offer | {"product": "@product_guarantor"},
             args={"demand_ref": "demand_b"}),
        Spec("offers.answer", "other_bank", OfferForm, offer | {"product": "@product_other_bank"},
             args={"ref": "offer_request_a"}, target="offer_request_a"),
        Spec("offers.revise", "bank", OfferForm, {k: v for k, v in offer.items() if k != "product"},
             args={"ref": "offer_bid_a"}, target="offer_bid_a"),
        Spec("offers.act", "other_bank", ReasonForm, {"reason": "不符合准入条件"},
             args={"ref": "offer_request_a", "action": "=decline"}, target="offer_request_a"),
        Spec("offers.apply", "ent_a", ApplyForm, {"demand": "@demand_a_published", "product": "@product_guarantor",
                                                  "note": "请审批"}, query={"product": "@product_guarantor"},
             stores=False),
        Spec("offers.sign", "bank", SignForm, {"signed_amount": "500", "signed_on": _today(), "rate": "4.2",
                                               "term_months": "36"}, args={"ref": "offer_accepted_a"}, stores=False),
        Spec("offers.disburse", "bank", DisburseForm, {"amount": "100", "disbursed_on": _today()},
             args={"ref": "offer_accepted_a"}, target="deal_a"),
        Spec("projects.new", "ent_a", ProjectForm, project),
        Spec("projects.edit", "ent_a", ProjectForm, project, args={"ref": "project_a"}, target="project_a"),
        Spec("projects.detail", "ent_a", ProgressForm, {"percent": "50", "done": "完成安装", "problems": "无"},
             args={"ref": "project_a"}, target="project_a"),
        Spec("projects.follow_up", "bureau_a", FollowUpForm, {"update_id": "@update_a", "note": "已协调", "resolve": ""},
             args={"ref": "project_a"}),
        Spec("projects.major", "bureau_a", MajorForm, {"is_major": "0"}, args={"ref": "project_a"},
             target="project_a"),
        # File fields posted as text (not multipart): refused at the field, never a server error.
        Spec("attachments.upload", "ent_a", UploadForm, {"kind": "business_licence", "file": "licence.pdf"},
             args={"owner_type": "=demand", "ref": "demand_a_draft"}, target="demand_a_draft", stores=False),
        Spec("exchange.import_page", "bank", ImportForm, {"file": "outcomes.jsonl"}, stores=False),
        # The export is a GET: hostile periods and districts in the query string, asking for the file.
        Spec("exchange.export_page", "bureau_a", ExportForm,
             {"start": "2026-01-01", "end": _today(), "district": W.A_DISTRICT, "format": "jsonl"},
             query={"download": "1"}, stores=False, method="GET"),
        Spec("console.scorecard_admin", "city", None, {"start": "2026-01", "end": "2026-06"},
             fields=("start", "end", "action")),
    ]


SPECS = _forms()

# Saved rows that no failed post may touch (and a successful one only if it is its target).
PROTECTED = {
    "demand_a_published": ("demands", "ref"), "demand_a_draft": ("demands", "ref"),
    "demand_a_submitted": ("demands", "ref"), "demand_b": ("demands", "ref"), "project_a": ("tech_projects", "ref"),
    "product_bank": ("products", "ref"), "event_a": ("events", "ref"), "offer_request_a": ("offers", "ref"),
    "offer_bid_a": ("offers", "ref"), "deal_a": ("deals", "ref"), "meeting_a": ("meetings", "id"),
    "user_ent_a": ("users", "id"),
}


def _snapshot(world) -> dict[str, dict]:
    from models import db_session

    out = {}
    for name, (table, key) in PROTECTED.items():
        value = world.obj["uid_ent_a"] if name == "user_ent_a" else world.obj[name]
        row = db_session.execute(sa.text(f'SELECT * FROM "{table}" WHERE {key} = :v'), {"v": value}).mappings().one()
        out[name] = dict(row)
    db_session.remove()
    return out


def _field_kinds(form) -> dict[str, str]:
    kinds = {}
    for name in dir(form):
        attr = getattr(form, name, None)
        if not isinstance(attr, UnboundField):
            continue
        cls = attr.field_class
        if issubclass(cls, (DecimalField, IntegerField)):
            kinds[name] = "number"
        elif issubclass(cls, (DateField, DateTimeLocalField, TimeField)):
            kinds[name] = "date"
        elif issubclass(cls, SelectMultipleField):
            kinds[name] = "multi"
        elif issubclass(cls, (SelectField, BooleanField)):
            kinds[name] = "choice"
        else:
            kinds[name] = "text"
    return kinds


def _strategy(spec: Spec):
    kinds = _field_kinds(spec.form) if spec.form else dict.fromkeys(spec.fields, "text")
    hostile = {"text": text_values, "number": number_values, "date": date_values, "choice": text_values,
               "multi": st.lists(text_values, max_size=3)}
    parts = {}
    for name, kind in kinds.items():
        base = spec.base.get(name)
        # Text fields are hostile half the time; others mostly keep their valid value, so that many
        # examples get past validation and are stored with their hostile text.
        keep = st.just(base) if base is not None else st.just("")
        weight = 1 if kind == "text" else 3
        parts[name] = st.one_of(*([keep] * weight), hostile[kind])
    return st.fixed_dictionaries(parts)


def _encode(world, values: dict) -> bytes:
    """application/x-www-form-urlencoded, lone surrogates sent as their (invalid) UTF-8 bytes."""
    pairs = []
    for k, v in values.items():
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, str) and item.startswith("@") and item[1:] in world.obj:
                item = str(world.obj[item[1:]])
            pairs.append(f"{quote(k)}={quote(str(item).encode('utf-8', 'surrogatepass'))}")
    return "&".join(pairs).encode()


def _url(app, world, spec: Spec) -> str:
    from flask import url_for

    def val(v):
        if isinstance(v, str) and v.startswith("="):
            return v[1:]
        if isinstance(v, str) and v.startswith("@"):
            return world.obj[v[1:]]
        return world.obj[v] if isinstance(v, str) and v in world.obj else v

    with app.test_request_context():
        return url_for(spec.endpoint, **{k: val(v) for k, v in spec.args.items()},
                       **{k: val(v) for k, v in spec.query.items()})


def _check_page(resp, where: str) -> None:
    assert resp.status_code < 500, f"{where}: {resp.status_code}"
    if resp.mimetype == "text/html":
        text = resp.get_data(as_text=True)
        for marker in RAW_MARKERS:
            assert marker not in text, f"{where}: unescaped {marker!r}"


def post_and_check(app, world, isolation, spec: Spec, values: dict, before: dict, why: list | None = None) -> bool:
    """Post `values`; check the answer, the page it leads to, and the saved rows. True if it was stored."""
    client = client_for(app, None if spec.role == "anonymous" else world.users[spec.role])
    url = _url(app, world, spec)
    with isolation.rolled_back():
        if spec.method == "GET":
            resp = client.get(f"{url}{'&' if '?' in url else '?'}{_encode(world, values).decode()}")
        else:
            resp = client.post(url, data=_encode(world, values), content_type="application/x-www-form-urlencoded")
        _check_page(resp, f"{spec.method} {url} {values!r:.300}")
        stored = 300 <= resp.status_code < 400
        if why is not None and not stored:
            why += [resp.status_code, *re.findall(r'(?:invalid-feedback|alert-danger)[^>]*>\s*([^<]+)', resp.text)]
        if stored:
            location = urlsplit(resp.headers["Location"])
            follow = client.get(location.path + (f"?{location.query}" if location.query else ""))
            _check_page(follow, f"GET {location.path} after POST {url}")
        after = _snapshot(world)
    for name, row in before.items():
        if stored and name == spec.target:
            continue
        assert after[name] == row, f"POST {url} {values!r:.300} changed {name}"
    return stored


@pytest.fixture
def _clean_database():
    """The module's world is built once (cleared when the module ends)."""
    yield


@pytest.fixture(scope="module")
def fuzz(app, tmp_path_factory):
    with shared_world(app, tmp_path_factory) as (world, isolation):
        with app.app_context():
            before = _snapshot(world)
        yield app, world, isolation, before


def test_every_form_class_is_fuzzed():
    """A new form in matchmaker/**/forms.py (or a view module) without a Spec fails here."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import matchmaker

    seen = set()
    for mod in pkgutil.walk_packages(matchmaker.__path__, "matchmaker."):
        if mod.name.endswith((".forms", ".views")):
            module = importlib.import_module(mod.name)
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, FlaskForm) and obj is not FlaskForm \
                        and obj.__module__ == mod.name:
                    seen.add(obj)
    covered = {s.form for s in SPECS if s.form}
    # RevokeForm has no fields (a CSRF token only); InviteForm and RequestForm are read through request.form.
    missing = sorted(f.__name__ for f in seen - covered if f.__name__ not in ("RevokeForm", "InviteForm", "RequestForm"))
    assert not missing, f"forms without a fuzzing Spec in tests/security/test_fuzz.py: {missing}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.endpoint)
def test_hostile_text_is_stored_escaped(fuzz, spec):
    """Every text field carrying a script tag: accepted where the base is valid, and shown escaped."""
    app, world, isolation, before = fuzz
    kinds = _field_kinds(spec.form) if spec.form else dict.fromkeys(spec.fields, "text")
    texts = {k for k, kind in kinds.items() if kind == "text" and k in spec.base and not k.startswith(
        ("password", "confirm", "old", "new", "username", "uscc", "email", "url", "contact_phone", "phone", "update_id",
         "demand", "product", "action", "decision", "op", "is_major", "start", "end", "back", "tags", "breaks"))
        and k not in ("to", "to_org", "org", "org_ref")}
    values = dict(spec.base)
    for k in texts:
        values[k] = f"{SCRIPT}{spec.base[k]}"
    why: list = []
    stored = post_and_check(app, world, isolation, spec, values, before, why)
    if spec.stores:
        assert stored, f"{spec.endpoint}: the base with script tags in {sorted(texts)} was not accepted: {why}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.endpoint)
def test_fuzz_form(fuzz, spec):
    app, world, isolation, before = fuzz

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(values=_strategy(spec))
    def run(values):
        post_and_check(app, world, isolation, spec, values, before)

    run()


# --- data import --------------------------------------------------------------------------------------

IMPORT_BASE = [
    {"type": "organization", "ref": "ent-fz01", "kind": "enterprise", "name": "导入测试企业",
     "uscc": factories.valid_uscc(990002), "district": "滕州市", "industry": "高端装备", "size": "small",
     "founded": 2011, "revenue": 8600, "employees": 240, "rd_ratio": 0.034, "tags": ["专精特新"]},
    {"type": "user", "ref": "u-fz01", "org": "ent-fz01", "username": "fz-user", "password": "Imp0rt-Passw0rd",
     "role": "admin", "name": "导入用户"},
    {"type": "tech_project", "ref": "tp-fz01", "org": "ent-fz01", "name": "导入项目", "category": "smart_upgrade",
     "total_investment": 5000, "equipment_investment": 3200, "start": "2026-01-01", "end": "2027-06-30",
     "progress": 40, "major": True},
    {"type": "demand", "ref": "dm-fz01", "org": "ent-fz01", "project": "tp-fz01", "title": "导入需求",
     "description": "购置设备", "amount": 2000, "term_months": 36, "purpose": "smart_upgrade",
     "financing_types": ["loan"], "collateral": ["equipment"], "max_rate": 4.5, "status": "published",
     "created": "2026-03-01T09:00:00"},
    {"type": "organization", "ref": "bank-fz01", "kind": "bank", "name": "导入测试银行", "district": "市中区"},
    {"type": "product", "ref": "pd-fz01", "org": "bank-fz01", "kind": "loan", "name": "导入产品", "description": "",
     "amount_min": 100, "amount_max": 5000, "term_min": 6, "term_max": 60, "rate_min": 3.2, "rate_max": 5.5,
     "collateral": ["none"], "industries": [], "districts": [], "sizes": [], "purposes": [], "tags": [],
     "status": "active"},
]
HOSTILE_JSON = st.one_of(
    st.sampled_from(HOSTILE_TEXT), st.sampled_from([None, True, False, 0, -1, 10**30, 1.5, -1e308, [], {}, [None],
                                                    {"a": 1}, ["x" * 1000]]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=20),
)


FREE_TEXT = ("name", "title", "description")


@st.composite
def import_files(draw) -> list[str]:
    lines = [dict(line) for line in IMPORT_BASE]
    if draw(st.booleans()):
        # Hostile text where free text belongs: a file that may well import, and must then be whole.
        for line in lines:
            for key in FREE_TEXT:
                if key in line and draw(st.booleans()):
                    line[key] = draw(text_values)
        return [json.dumps(line, ensure_ascii=False) for line in lines]
    for line in lines:
        for key in list(line):
            if key != "type" and draw(st.integers(0, 9)) == 0:
                line[key] = draw(HOSTILE_JSON)
        if draw(st.integers(0, 14)) == 0:
            line[draw(st.sampled_from(["colour", "type"]))] = draw(HOSTILE_JSON)
    out = [json.dumps(line, ensure_ascii=False) for line in lines]
    # Now and then a line that is not JSON, a JSON non-object, or JSON with NaN, or a line dropped.
    for _ in range(draw(st.integers(0, 2))):
        junk = draw(st.sampled_from(["{", "[]", "null", '{"type": NaN}', "\x00", "{'type': 'user'}", SCRIPT,
                                     '{"type":"demand","ref":' + "9" * 400 + "}"]))
        out.insert(draw(st.integers(0, len(out))), junk)
    if draw(st.booleans()):
        del out[draw(st.integers(0, len(out) - 1))]
    return out


COUNTED = ("organizations", "users", "tech_projects", "demands", "products")


def _counts() -> dict[str, int]:
    from models import db_session

    return {t: db_session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in COUNTED}


def test_fuzz_data_import(fuzz, tmp_path_factory, monkeypatch_module):
    app, world, isolation, _before = fuzz
    folder = tmp_path_factory.mktemp("imports")
    runner = app.test_cli_runner()
    outcomes = {0: 0, 1: 0}

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(lines=import_files())
    def run(lines):
        path = folder / "in.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        with isolation.rolled_back():
            before = _counts()
            result = runner.invoke(args=["data", "import", str(path)])
            after = _counts()
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{type(result.exception).__name__}: {result.exception} for {lines!r:.500}")
        assert result.exit_code in (0, 1), result.output
        outcomes[result.exit_code] += 1
        if result.exit_code == 1:
            # A clean refusal: each bad line by its number, and not one row written.
            assert "行" in result.output and "未导入任何数据" in result.output, result.output[-500:]
            assert after == before, f"partial import: {before} -> {after}"
        else:
            objects = [json.loads(raw) for raw in lines if raw.strip()]
            assert sum(after.values()) - sum(before.values()) == sum(
                1 for o in objects if o.get("type") in ("organization", "user", "tech_project", "demand",
                                                         "product")), f"{before} -> {after}"

    run()
    # Both ways out were taken: files imported whole, and files refused whole.
    assert outcomes[0] and outcomes[1], outcomes


@pytest.fixture(scope="module")
def monkeypatch_module():
    """The import's search sync is off: the rows it would index are rolled back after each example."""
    from _pytest.monkeypatch import MonkeyPatch

    mp = MonkeyPatch()
    mp.setattr("matchmaker.interchange.cli.sync_all", lambda: None)
    yield mp
    mp.undo()


# --- the holes the fuzzing found, each pinned by one request ------------------------------------------


@pytest.mark.parametrize("endpoint, role, field, args", [
    ("demands.new", "ent_a", "amount", {}),
    ("catalog.new", "bank", "amount_min", {}),
    ("projects.new", "ent_a", "equipment_investment", {}),
])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf"])
def test_nan_and_infinity_are_no_numbers(fuzz, endpoint, role, field, args, value):
    """They parsed as Decimal and then broke the first comparison (a 500); now a message at the field."""
    app, world, isolation, before = fuzz
    spec = next(s for s in SPECS if s.endpoint == endpoint)
    client = client_for(app, world.users[role])
    with isolation.rolled_back():
        resp = client.post(_url(app, world, spec), data=_encode(world, spec.base | {field: value}),
                           content_type="application/x-www-form-urlencoded")
        assert resp.status_code == 200 and "请输入数字" in resp.text


def test_nul_is_refused_with_a_message(fuzz):
    """PostgreSQL text cannot hold NUL: a form, a query and an API body with one are refused, not a 500."""
    app, world, isolation, before = fuzz
    with isolation.rolled_back():
        resp = client_for(app, None).post("/login", data={"username": "a\x00b", "password": "x"})
        assert resp.status_code == 400 and "NUL" in resp.text
        resp = client_for(app, world.users["bank"]).get("/demands/pool?q=%00")
        assert resp.status_code == 400
        resp = client_for(app, None).post("/api/v1/products", json={"name": "a\x00"},
                                          headers={"Authorization": f"Bearer {world.tokens['bank']}"})
        assert resp.status_code == 400 and "NUL" in resp.get_json()["error"]["message"]
        assert _snapshot(world) == before


def test_import_reports_bad_bytes_and_nul_by_line(fuzz, tmp_path, monkeypatch_module):
    app, world, isolation, _before = fuzz
    good = json.dumps(IMPORT_BASE[0], ensure_ascii=False).encode()
    nul = json.dumps(IMPORT_BASE[4] | {"name": "银行\x00"}, ensure_ascii=False).encode()
    path = tmp_path / "bad.jsonl"
    runner = app.test_cli_runner()
    for body, message in ((good + b"\n" + b'{"type": "user", "name": "\xed\xa0\x80"}', "第2行：不是有效的 UTF-8 文本"),
                          (good + b"\n" + nul, "第2行：字段 name：含有无效的控制字符（NUL）")):
        path.write_bytes(body)
        with isolation.rolled_back():
            before = _counts()
            result = runner.invoke(args=["data", "import", str(path)])
            assert _counts() == before
        assert result.exit_code == 1 and message in result.output, result.output


# --- search and list pages: hostile query strings ---------------------------------------------------------

LIST_PAGES = [
    ("bank", "/demands/pool", ("q", "district", "cluster", "purpose", "financing_type", "collateral", "amount_band",
                               "amount_min", "amount_max", "term_min", "term_max", "page", "sort")),
    ("anonymous", "/products/", ("q", "kind", "district", "cluster", "size", "purpose", "collateral", "tag", "amount",
                                 "org_kind", "page", "sort")),
    ("city", "/bureau/organizations", ("q", "kind", "status", "district", "cluster", "page", "sort")),
    ("city", "/console/", ("start", "end", "district")),
    ("bureau_a", "/console/list", ("metric", "month", "dim", "value", "page", "start", "end", "district")),
    ("city", "/console/service", ("start", "end", "district")),
    ("city", "/projects/ledger", ("district", "cluster", "category", "progress", "problems", "major", "page")),
    ("anonymous", "/notices/", ("kind", "page")),
    ("ent_a", "/inbox", ("page", "unread")),
    ("ent_a", "/demands/@demand_a_published", ("rate",)),
    ("bank", "/api/v1/demands", ("district", "cluster", "purpose", "amount_min", "amount_max", "page", "per_page")),
    ("bank", "/api/v1/products", ("kind", "mine", "page", "per_page")),
]


@pytest.mark.parametrize("role, path, keys", LIST_PAGES, ids=[p for _, p, _ in LIST_PAGES])
def test_fuzz_query_strings(fuzz, role, path, keys):
    """Search boxes and filters: any query string gets a page (or a 4xx), never a 5xx or unescaped text."""
    app, world, isolation, _before = fuzz
    if "@" in path:
        head, name = path.split("@")
        path = head + str(world.obj[name])
    api = path.startswith("/api/")

    @settings(max_examples=15, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(args=st.dictionaries(st.sampled_from(keys), st.one_of(text_values, number_values, date_values),
                                max_size=4))
    def run(args):
        query = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in args.items())
        client = client_for(app, None if role == "anonymous" or api else world.users[role])
        headers = {"Authorization": f"Bearer {world.tokens[role]}"} if api else {}
        with isolation.rolled_back():
            resp = client.get(f"{path}?{query}", headers=headers)
            _check_page(resp, f"GET {path}?{query[:300]}")
            assert resp.status_code in (200, 400, 404, 422), f"GET {path}?{query[:300]}: {resp.status_code}"

    run()


def test_filters_out_of_range_get_a_page(fuzz):
    """A ledger category that is no category, and a pool amount beyond the index's integers, were 500s."""
    app, world, isolation, _before = fuzz
    with isolation.rolled_back():
        resp = client_for(app, world.users["city"]).get("/projects/ledger?category=%3Cscript%3E")
        assert resp.status_code == 200 and "<script>" not in resp.text
        resp = client_for(app, world.users["bank"]).get("/demands/pool?amount_min=1e20&term_max=99999999999999999999")
        assert resp.status_code == 200


@pytest.mark.parametrize("role, path", [("anonymous", "/notices/"), ("anonymous", "/products/"), ("ent_a", "/inbox"),
                                        ("city", "/projects/ledger"), ("city", "/audit/")])
def test_a_page_number_beyond_any_integer_gets_a_page(fuzz, role, path):
    """page=99999999999999999999 overflowed SQLite's OFFSET (found by the query-string fuzzing)."""
    app, world, isolation, _before = fuzz
    with isolation.rolled_back():
        client = client_for(app, None if role == "anonymous" else world.users[role])
        resp = client.get(f"{path}?page=99999999999999999999")
        assert resp.status_code == 200, (path, resp.status_code)
