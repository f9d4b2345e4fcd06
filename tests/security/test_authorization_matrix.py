"""The authorization matrix: every registered route, every role, objects that belong to someone else.

How to add a route
------------------
Add one line to MATRIX below, keyed by the endpoint name (`blueprint.function`):

    "notices.detail": case(PUBLIC, ref="notice_public"),

- the first argument says who gets what: a role group (PUBLIC, LOGGED_IN, ENTERPRISES, INSTITUTIONS,
  BUREAUS, CITY_ONLY, API ...) or one built with `own(owner_roles, base)` / `base | {"ent_b": HIDE}`;
  outcomes are OK (2xx/3xx, or 400/409/422 to a write: it got past authorisation), LOGIN (401 or
  redirect to the login page), DENY (403 wrong role), HIDE (404 outside scope), REFUSED (a redirect
  with an error message: the rules refused, nothing changed; OK also accepts it);
- the keyword arguments fill the URL's arguments with objects of tests/security/world.py by name
  (`ref="demand_b"`); arguments not given use DEFAULT_ARGS; `method=` limits a case to one method,
  `query=` adds a query string, `data=` / `json=` a body ("@name" is replaced by the object's ref or id);
- several cases for one endpoint go in a list (e.g. a draft and a published demand);
- a non-administrator member of bank is walked too and expected to fare as bank, unless the case says
  otherwise (`| ADMIN_ONLY` for the pages of an organisation's administrators); a bank still waiting
  for review (`pending_bank`) is expected to get what a visitor gets and nothing more (CLOSED: login,
  403, 404 or PENDING, sent home to its review state), unless the case names it (`| PENDING_MAY`).
API routes are called with the token of the role's organisation (institutions' read/offers/deals, bureaus'
read-only: API, API_BUREAUS, API_BOTH) or with none, and with the role's session cookie, which must not count.
Sessions are signed in as if the password had just been entered, so pages behind `fresh_login_required`
answer for real (a redirect to /reauth is never OK); a page that gets that decorator goes into SENSITIVE
below, where a stale sign-in must be sent to /reauth.
Every request runs in a transaction rolled back afterwards (tests/security/harness.py), so a POST
that really acts does not change the world for the next one.

Besides the status, every page a role may open is checked for the names of enterprises it must not
know (NAME_SEEN_BY): the identity of an enterprise reaches only those the reveal rule allows.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import pytest

from tests.security import world as W
from tests.security.harness import (
    CLOSED,
    DENY,
    HIDE,
    LOGIN,
    OK,
    REAUTH,
    REFUSED,
    classify,
    client_for,
    matches,
    shared_world,
)

ROLES = W.ROLES
INSTITUTION_ROLES = ("bank", "other_bank", "fund", "guarantor")
BUREAU_ROLES = ("bureau_a", "bureau_b", "city")
ENTERPRISE_ROLES = ("ent_a", "ent_b")


def _group(default: str, **roles: str) -> dict[str, str]:
    out = {r: default for r in ROLES}
    out["anonymous"] = LOGIN
    out.update(roles)
    return out


def _only(allowed, deny=DENY) -> dict[str, str]:
    return _group(deny, **{r: OK for r in allowed})


# --- role groups ------------------------------------------------------------------------------------
PUBLIC = {r: OK for r in ROLES}
LOGGED_IN = _group(OK)
ENTERPRISES = _only(ENTERPRISE_ROLES)
INSTITUTIONS = _only(INSTITUTION_ROLES)
BUREAUS = _only(BUREAU_ROLES)
CITY_ONLY = _only(("city",))
# Pages of an object of enterprise A (or in A's district): B, and B's bureau, do not know it exists.
ENTERPRISE_A_OWN = ENTERPRISES | {"ent_b": HIDE}
BUREAU_A_SCOPED = BUREAUS | {"bureau_b": HIDE}
# /api/v1: institutions call with their token; bureaus with their read-only one, which the institutions'
# endpoints refuse (403); everyone else has none and hears 401.
API = _group(LOGIN, **{r: OK for r in INSTITUTION_ROLES}, **{r: DENY for r in BUREAU_ROLES})
API_BUREAUS = _group(LOGIN, **{r: DENY for r in INSTITUTION_ROLES}, **{r: OK for r in BUREAU_ROLES})
API_BOTH = _group(LOGIN, **{r: OK for r in (*INSTITUTION_ROLES, *BUREAU_ROLES)})
HIDDEN_FROM_ALL = {r: HIDE for r in ROLES}
# Pages an organisation waiting for review may use (its own account, its messages).
PENDING_MAY = {W.PENDING: OK}
# Pages of an organisation's administrators: bank's member is refused.
ADMIN_ONLY = {W.MEMBER: DENY}


def own(owners, base: dict[str, str]) -> dict[str, str]:
    """`base`, with every role that passes the role check but is not among `owners` getting 404."""
    return {r: (HIDE if v == OK and r not in owners else v) for r, v in base.items()}


def _today() -> str:
    return date.today().isoformat()


@dataclass
class Case:
    expect: dict[str, str]
    args: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    query: dict | None = None
    data: dict | None = None
    json: dict | None = None
    names: dict[str, set[str]] = field(default_factory=dict)


def case(expect, *, method=None, query=None, data=None, json=None, names=None, **args) -> Case:
    return Case(expect, args, method, query, data, json, names or {})


# URL arguments no case names: which object fills them.
DEFAULT_ARGS = {"req_id": "request_a", "meeting_id": "meeting_a", "org_ref": "org_ent_a", "file_id": "notice_b_file",
                "notification_id": "notification_a", "search_id": "search_bank", "action": "=withdraw",
                "filename": "=app/app.css"}

# The export's period: the page's form reads start/end, the API from/to.
EXPORT_PERIOD = {"start": "2026-01-01", "end": _today()}
EXPORT_API_PERIOD = {"from": "2026-01-01", "to": _today()}
TERMS = {"amount": 500, "rate": 4.1, "term_months": 36, "valid_until": "2099-12-31"}
PRODUCT = {"kind": "loan", "name": "矩阵测试贷", "amount_min": 100, "amount_max": 1000, "term_min": 6, "term_max": 36,
           "rate_min": 3.5, "rate_max": 5.5, "collateral": ["none"]}

A_NAME, B_NAME = "甲企业机密名称", "乙企业机密名称"
# A's published demand with bank's bid: nobody outside A and its bureaus knows whose it is.
A_UNREVEALED = {A_NAME: {"ent_a", "bureau_a", "city"}}
# The pool: A revealed itself to other bank (applied) on a pool demand, B to bank; bank's accepted demand left the pool.
POOL_NAMES = {A_NAME: {"ent_a", "other_bank", "bureau_a", "city"}, B_NAME: {"ent_b", "bank", "bureau_b", "city"}}
MATRIX: dict[str, Case | list[Case]] = {
    # --- accounts and sign-in
    "accounts.profile": case(LOGGED_IN | PENDING_MAY),
    "accounts.new_member": case(LOGGED_IN | ADMIN_ONLY),
    "accounts.member_action": case(own(("ent_a",), _group(HIDE, ent_a=OK)) | ADMIN_ONLY, ref="member_a",
                                   data={"action": "disable"}),
    "auth.login": case(PUBLIC),
    "auth.logout": case(_group(LOGIN)),  # everyone lands on the login page
    "auth.password": case(LOGGED_IN | PENDING_MAY),
    "auth.register": case(PUBLIC),
    "auth.reauth": case(LOGGED_IN | PENDING_MAY),
    "home.index": case(PUBLIC),
    "static": case(PUBLIC),
    # --- the bureau's directory and reviews
    "bureau.reviews": case(BUREAUS),
    "bureau.organizations": [case(BUREAUS), case(BUREAUS, query={"q": "甲企业"})],
    "bureau.organization": [case(BUREAU_A_SCOPED, ref="org_ent_a"), case(BUREAUS | {"bureau_a": HIDE}, ref="org_ent_b"),
                            case(BUREAUS, ref="org_bank", method="GET")],
    "bureau.new_institution": case(CITY_ONLY),
    "bureau.jobs": case(CITY_ONLY),
    # --- the audit log (a district bureau's list is its district's)
    "audit.index": [case(BUREAUS), case(BUREAUS, query={"object_type": "demand"})],
    "audit.export": case(BUREAUS),
    # --- projects
    "projects.mine": case(ENTERPRISES),
    "projects.new": case(ENTERPRISES),
    "projects.edit": case(ENTERPRISE_A_OWN, ref="project_a"),
    "projects.detail": [
        case(_group(HIDE, ent_a=OK, bureau_a=OK, city=OK), ref="project_a", method="GET"),
        case(_group(HIDE, ent_a=OK, bureau_a=DENY, city=DENY), ref="project_a", method="POST"),
        case(_group(HIDE, ent_b=OK, bureau_b=OK, city=OK), ref="project_b", method="GET"),
    ],
    "projects.follow_up": case(BUREAU_A_SCOPED, ref="project_a", data={"update_id": "@update_a", "note": "已协调"}),
    "projects.major": case(BUREAU_A_SCOPED, ref="project_a", data={"is_major": "0"}),
    "projects.ledger_page": case(BUREAUS),
    "projects.ledger_export": case(BUREAUS),
    # --- demands
    "demands.mine": case(ENTERPRISES),
    "demands.new": case(ENTERPRISES),
    "demands.edit": case(ENTERPRISE_A_OWN, ref="demand_a_draft"),
    "demands.detail": [
        case(_group(HIDE, ent_a=OK), ref="demand_a_draft"),
        case(_group(HIDE, ent_a=OK, bureau_a=OK, city=OK), ref="demand_a_submitted"),
        # Published: every approved organisation sees it (anonymised), except a bureau of another district.
        case(LOGGED_IN | {"bureau_b": HIDE}, ref="demand_a_published", names=A_UNREVEALED),
        # Matched (left the pool): the enterprise, its bureaus and the institution it accepted.
        case(_group(HIDE, ent_a=OK, bank=OK, bureau_a=OK, city=OK), ref="demand_a_revealed"),
    ],
    "demands.action": [
        case(_group(HIDE, ent_a=OK, bureau_a=OK, city=OK), ref="demand_a_submitted", data={"action": "publish"}),
        case(LOGGED_IN | {r: REFUSED for r in ("ent_b", *INSTITUTION_ROLES, "bureau_a", "city")} | {"bureau_b": HIDE},
             ref="demand_a_published", data={"action": "withdraw"}),
    ],
    "demands.banks": case(_group(DENY, ent_a=OK, ent_b=DENY, bureau_a=OK, bureau_b=HIDE, city=OK),
                          ref="demand_a_published"),
    "demands.pool": case(_only((*INSTITUTION_ROLES, *BUREAU_ROLES)), names=POOL_NAMES),
    "demands.inbox": case(_only(("bank", "other_bank"))),
    "demands.inbox_batch": case(_only(("bank", "other_bank")) | {"other_bank": HIDE}, ref="batch_a",
                                names=A_UNREVEALED),
    "demands.review": case(BUREAUS),
    "demands.batches": case(BUREAUS),
    "demands.batch": case(own(("bureau_a",), BUREAUS), ref="batch_a",
                          data={"op": "remove", "demand": "@demand_a_published"}),
    # --- products
    "catalog.index": case(PUBLIC),
    "catalog.product": [
        case(PUBLIC, ref="product_bank"),
        case(_group(HIDE, anonymous=HIDE, bank=OK, **{r: OK for r in BUREAU_ROLES}), ref="product_bank_paused"),
    ],
    "catalog.mine": case(INSTITUTIONS),
    "catalog.new": case(INSTITUTIONS),
    "catalog.edit": case(own(("bank",), INSTITUTIONS), ref="product_bank"),
    "catalog.status": case(own(("bank",), INSTITUTIONS), ref="product_bank", data={"action": "pause"}),
    # --- offers and deals
    "offers.mine": case(_only(("ent_a", "ent_b", *INSTITUTION_ROLES))),
    "offers.overdue": case(BUREAUS),
    "offers.apply": [
        case(ENTERPRISES, query={"product": "@product_bank"}),
        case(_only(ENTERPRISE_ROLES, DENY) | {"ent_a": HIDE, "ent_b": HIDE}, query={"product": "@product_bank_paused"}),
        # B naming A's demand is refused at the field (it is not one of B's demands to choose).
        case(ENTERPRISES, method="POST", data={"product": "@product_bank",
                                                                  "demand": "@demand_a_published"}),
    ],
    "offers.new": [
        case(INSTITUTIONS, demand_ref="demand_b"),
        case(INSTITUTIONS, demand_ref="demand_a_published", method="GET", names=A_UNREVEALED),
        case(own((), INSTITUTIONS), demand_ref="demand_a_draft"),
    ],
    "offers.detail": [
        case(_group(HIDE, ent_a=OK, bank=OK, bureau_a=OK, city=OK), ref="offer_bid_a", names=A_UNREVEALED),
        case(_group(HIDE, ent_b=OK, bank=OK, bureau_b=OK, city=OK), ref="offer_request_b"),
        case(_group(HIDE, ent_a=OK, other_bank=OK, bureau_a=OK, city=OK), ref="offer_request_a"),
    ],
    "offers.revise": [
        case(own(("bank",), INSTITUTIONS), ref="offer_bid_a", data=TERMS, names=A_UNREVEALED),
        # An application is not a bid to revise: its institution is sent back to it with a message.
        case(own(("other_bank",), INSTITUTIONS), ref="offer_request_a", data=TERMS),
    ],
    "offers.answer": case(own(("other_bank",), INSTITUTIONS), ref="offer_request_a", data=TERMS),
    "offers.act": [
        case(_group(HIDE, ent_a=OK, bank=REFUSED, bureau_a=REFUSED, city=REFUSED), ref="offer_bid_a", action="=accept"),
        case(_group(HIDE, ent_a=REFUSED, bank=OK, bureau_a=REFUSED, city=REFUSED), ref="offer_bid_a",
             action="=withdraw", data={"reason": "撤回"}),
        case(_group(HIDE, ent_a=REFUSED, other_bank=OK, bureau_a=REFUSED, city=REFUSED), ref="offer_request_a",
             action="=decline", data={"reason": "不符合条件"}),
    ],
    "offers.sign": case(own(("bank",), INSTITUTIONS), ref="offer_accepted_a",
                        data={"signed_amount": "500", "signed_on": _today(), "rate": "4.2", "term_months": "36"}),
    "offers.disburse": case(own(("bank",), INSTITUTIONS), ref="offer_accepted_a",
                            data={"amount": "100", "disbursed_on": _today()}),
    "offers.compare": case(_group(DENY, ent_a=OK, ent_b=HIDE, bureau_a=OK, bureau_b=HIDE, city=OK),
                           demand_ref="demand_a_published"),
    "ranking.recommended": case(INSTITUTIONS, names=POOL_NAMES),
    # --- events
    "events.index": case(LOGGED_IN),
    "events.new": case(BUREAUS),
    "events.detail": [
        # Who else registered is for the organiser and the participants' own meetings only.
        case(LOGGED_IN | {"ent_b": HIDE, "bureau_b": HIDE}, ref="event_a",
             names={A_NAME: {"ent_a", "bank", "bureau_a", "city"}}),
        case(_group(HIDE, bureau_a=OK, city=OK), ref="event_draft"),
        case(LOGGED_IN | {"ent_a": HIDE, "bureau_a": HIDE}, ref="event_b",
             names={B_NAME: {"ent_b", "other_bank", "bureau_b", "city"}}),
    ],
    "events.edit": case(BUREAU_A_SCOPED, ref="event_a"),
    "events.transition": case(BUREAU_A_SCOPED, ref="event_a", data={"to": "scheduling"}),
    "events.register": case(_only(("ent_a", "ent_b", *INSTITUTION_ROLES)) | {"ent_b": HIDE}, ref="event_a",
                            data={"attendees": "李四", "max_meetings": "4"}),
    "events.withdraw": case(_only(("ent_a", "bank"), HIDE) | {r: DENY for r in BUREAU_ROLES}, ref="event_a"),
    "events.invite": case(BUREAU_A_SCOPED, ref="event_a", data={"org_ref": "@org_other_bank"}),
    "events.decide": case(BUREAU_A_SCOPED, ref="event_a", org_ref="org_ent_a", data={"decision": "accept"}),
    "events.new_request": case(_only(("ent_a", *INSTITUTION_ROLES)) | {"ent_b": HIDE}, ref="event_a",
                               data={"to_org": "@org_bank"}),
    "events.answer": case(_only(("ent_a", "bank"), HIDE) | {r: DENY for r in BUREAU_ROLES}, ref="event_a",
                          req_id="request_a", data={"decision": "accept"}),
    "events.schedule": case(BUREAU_A_SCOPED, ref="event_a"),
    "events.lock": case(BUREAU_A_SCOPED, ref="event_a", meeting_id="meeting_a", data={"locked": "1"}),
    "events.agenda_view": case(_group(HIDE, ent_a=OK, bank=OK, bureau_a=OK, city=OK), ref="event_a"),
    "events.agenda_xlsx": case(BUREAU_A_SCOPED, ref="event_a"),
    "events.checkin": case(BUREAU_A_SCOPED, ref="event_a", data={"org": "@org_ent_a", "present": "1"}),
    "events.outcome": case(_group(HIDE, ent_a=DENY, ent_b=DENY, bank=OK, bureau_a=OK, city=OK), ref="event_a",
                           meeting_id="meeting_a"),
    "events.report": case(BUREAU_A_SCOPED, ref="event_a"),
    # --- notifications and saved searches
    "notifications.inbox": case(LOGGED_IN | PENDING_MAY),
    "notifications.read": [case(_group(HIDE, ent_a=OK), notification_id="notification_a"),
                           case(_group(HIDE, ent_b=OK), notification_id="notification_b")],
    "notifications.read_all": case(LOGGED_IN | PENDING_MAY),
    "notifications.searches": case(INSTITUTIONS),
    "notifications.delete_search": case(own(("bank",), INSTITUTIONS), search_id="search_bank"),
    # --- notices
    "notices.index": case(PUBLIC),
    "notices.new": case(BUREAUS),
    "notices.detail": [
        case(PUBLIC, ref="notice_public"),
        case(HIDDEN_FROM_ALL | {"bank": OK, "other_bank": OK, "city": OK}, ref="notice_banks"),
        case(HIDDEN_FROM_ALL | {"ent_b": OK, "fund": OK, "guarantor": OK, "bureau_b": OK, "city": OK}, ref="notice_b"),
    ],
    "notices.download": [
        case(PUBLIC, ref="notice_public", file_id="notice_public_file"),
        case(HIDDEN_FROM_ALL | {"bank": OK, "other_bank": OK, "city": OK}, ref="notice_banks",
             file_id="notice_banks_file"),
        case(HIDDEN_FROM_ALL | {"ent_b": OK, "fund": OK, "guarantor": OK, "bureau_b": OK, "city": OK}, ref="notice_b",
             file_id="notice_b_file"),
        # A file of another notice, under a notice the role may read.
        case(HIDDEN_FROM_ALL, ref="notice_public", file_id="notice_b_file"),
    ],
    # --- the console
    "console.index": [case(BUREAUS), case(BUREAUS | {"bureau_a": HIDE}, query={"district": W.B_DISTRICT})],
    "console.drill": [
        case(BUREAUS, query={"metric": "demands_posted"}),
        case(BUREAUS | {"bureau_a": HIDE}, query={"metric": "demands_posted", "district": W.B_DISTRICT}),
    ],
    "console.service_page": [case(BUREAUS), case(BUREAUS | {"bureau_a": HIDE}, query={"district": W.B_DISTRICT})],
    "console.monthly_report": [case(BUREAUS),
                               case(BUREAUS | {"bureau_a": HIDE}, query={"district": W.B_DISTRICT})],
    "console.scorecard_admin": [case(BUREAUS, method="GET"),
                                case(CITY_ONLY, method="POST", data={"action": "withdraw"})],
    "scorecard.public_scorecard": case(PUBLIC),
    # --- API tokens (institutions' and bureaus' administrators) and webhooks (institutions')
    "api_tokens.index": case(_only((*INSTITUTION_ROLES, *BUREAU_ROLES)) | ADMIN_ONLY),
    "api_tokens.revoke": [case(own(("bank",), _only((*INSTITUTION_ROLES, *BUREAU_ROLES))) | ADMIN_ONLY, ref="token_bank"),
                          case(own(("bureau_a",), _only((*INSTITUTION_ROLES, *BUREAU_ROLES))) | ADMIN_ONLY,
                               ref="token_bureau_a")],
    "api_tokens.webhook_index": case(INSTITUTIONS | ADMIN_ONLY),
    "api_tokens.webhook_disable": case(own(("bank",), INSTITUTIONS) | ADMIN_ONLY, ref="webhook_bank"),
    "api_tokens.webhook_replay": case(own(("bank",), INSTITUTIONS) | ADMIN_ONLY, ref="delivery_bank"),
    # --- /api/v1
    "api.docs": case(PUBLIC),
    "api-docs.openapi_json": case(PUBLIC),
    "api_v1.pool": case(API_BOTH, names=POOL_NAMES),
    "api_v1.demand": [
        case(API_BOTH | {"bureau_b": HIDE}, ref="demand_a_published", names=A_UNREVEALED),
        case(own((), API_BOTH), ref="demand_a_draft"),
        case(own(("bank", "bureau_a", "city"), API_BOTH), ref="demand_a_revealed"),
        # A district bureau's token reads its district only.
        case(API_BOTH | {"bureau_a": HIDE}, ref="demand_b"),
    ],
    "api_v1.make_offer": [case(API, ref="demand_b", json=TERMS), case(own((), API), ref="demand_a_draft", json=TERMS)],
    "api_v1.offer_list": case(API),
    "api_v1.offer": [case(own(("bank",), API), ref="offer_bid_a", names=A_UNREVEALED),
                     case(own(("other_bank",), API), ref="offer_request_a")],
    "api_v1.revise_offer": [case(own(("bank",), API), ref="offer_bid_a", json={"rate": 4.0, "conditions": "无需抵押"}),
                            case(own(("other_bank",), API), ref="offer_request_a", json={"rate": 4.0})],
    "api_v1.answer": case(own(("other_bank",), API), ref="offer_request_a", json=TERMS),
    "api_v1.decline": case(own(("other_bank",), API), ref="offer_request_a", json={"reason": "不符合条件"}),
    "api_v1.withdraw": case(own(("bank",), API), ref="offer_bid_a", json={"reason": "撤回"}),
    "api_v1.sign": case(own(("bank",), API), ref="offer_accepted_a", json={"signed_amount": 500, "signed_on": _today()}),
    "api_v1.disburse": case(own(("bank",), API), ref="deal_a", json={"amount": 100, "disbursed_on": _today()}),
    "api_v1.products": case(API),
    "api_v1.create_product": case(API, json=PRODUCT),
    "api_v1.product": [case(API, ref="product_other_bank"), case(own(("bank",), API), ref="product_bank_paused")],
    "api_v1.update_product": case(own(("bank",), API), ref="product_bank", json=PRODUCT),
    "api_v1.product_status": case(own(("bank",), API), ref="product_bank", json={"action": "pause"}),
    "api_v1.event_list": case(API),
    "api_v1.event_agenda": [case(own(("bank",), API), ref="event_a"), case(own(("other_bank",), API), ref="event_b")],
    "api_v1.statistics": [case(API_BUREAUS), case(API_BUREAUS | {"bureau_a": HIDE}, query={"district": W.B_DISTRICT})],
    "api_v1.exchange_export": [
        case(API_BUREAUS, query=EXPORT_API_PERIOD | {"format": "jsonl"}),
        case(API_BUREAUS | {"bureau_a": HIDE}, query=EXPORT_API_PERIOD | {"format": "xlsx", "district": W.B_DISTRICT}),
    ],
    # No file: refused at the field (422) once the token may import at all.
    "api_v1.exchange_import": case(API),
    # --- bulk exchange pages
    "exchange.export_page": [
        case(BUREAUS),
        case(BUREAUS, query=EXPORT_PERIOD | {"format": "xlsx", "download": "1"}),
        case(BUREAUS | {"bureau_a": HIDE}, query=EXPORT_PERIOD | {"district": W.B_DISTRICT, "download": "1"}),
    ],
    "exchange.import_page": case(INSTITUTIONS),
    # --- attachments: the owner uploads while the object is open; those who may see the list get 403, others 404
    "attachments.upload": [
        case(_group(HIDE, ent_a=OK), owner_type="=demand", ref="demand_a_draft"),
        case(_group(HIDE, ent_a=OK, bureau_a=DENY, city=DENY), owner_type="=demand", ref="demand_a_published"),
        case(_group(HIDE, ent_a=OK, other_bank=DENY, bureau_a=DENY, city=DENY), owner_type="=demand",
             ref="demand_a_applied"),
        case(_group(HIDE, ent_a=OK, bank=DENY, bureau_a=DENY, city=DENY), owner_type="=demand",
             ref="demand_a_revealed"),
        case(_group(HIDE, ent_a=OK, bureau_a=DENY, city=DENY), owner_type="=tech_project", ref="project_a"),
        case(_group(HIDE, bank=OK, ent_a=DENY, bureau_a=DENY, city=DENY), owner_type="=offer", ref="offer_bid_a"),
        # Signed: no more documents; bank is sent back to the offer with a message.
        case(_group(HIDE, bank=OK, ent_a=DENY, bureau_a=DENY, city=DENY), owner_type="=offer",
             ref="offer_accepted_a"),
        case(_group(HIDE), owner_type="=event", ref="event_a"),
    ],
    "attachments.download": [
        case(_group(HIDE, ent_a=OK), attachment_id="att_demand_a_draft"),
        # A demand's documents name the enterprise: institutions see them once the reveal rule lets them.
        case(_group(HIDE, ent_a=OK, bureau_a=OK, city=OK), attachment_id="att_demand_a_published"),
        case(_group(HIDE, ent_a=OK, other_bank=OK, bureau_a=OK, city=OK), attachment_id="att_demand_a_applied"),
        case(_group(HIDE, ent_a=OK, bank=OK, bureau_a=OK, city=OK), attachment_id="att_demand_a_revealed"),
        case(_group(HIDE, ent_a=OK, bank=OK, bureau_a=OK, city=OK), attachment_id="att_offer_bid_a"),
        case(_group(HIDE, ent_a=OK, bureau_a=OK, city=OK), attachment_id="att_project_a"),
        case(_group(HIDE), attachment_id="att_deleted"),
    ],
    "attachments.delete": [
        case(_group(HIDE, ent_a=OK), attachment_id="att_demand_a_draft"),
        # Published: what others have relied on stays; even A is refused.
        case(_group(HIDE, ent_a=DENY, bureau_a=DENY, city=DENY), attachment_id="att_demand_a_published"),
        case(_group(HIDE, ent_a=DENY, bank=DENY, bureau_a=DENY, city=DENY), attachment_id="att_demand_a_revealed"),
        case(_group(HIDE, bank=OK, ent_a=DENY, bureau_a=DENY, city=DENY), attachment_id="att_offer_bid_a"),
        case(_group(HIDE, ent_a=OK, bureau_a=DENY, city=DENY), attachment_id="att_project_a"),
        case(_group(HIDE), attachment_id="att_deleted"),
    ],
}

# Who may ever read an enterprise's name (a case narrows it with names=, e.g. on a demand not revealed): itself, the institutions it revealed itself to, its bureaus.
NAME_SEEN_BY = {
    A_NAME: {"ent_a", "bank", "other_bank", "bureau_a", "city"},   # accepted bank's offer, applied to other bank
    B_NAME: {"ent_b", "bank", "bureau_b", "city"},                  # applied to bank's product
}


# --- the walk -------------------------------------------------------------------------------------------


def _want(c: Case, role: str) -> str:
    if role in c.expect:
        return c.expect[role]
    if role == W.MEMBER:
        return c.expect["bank"]
    # Not yet approved: what a visitor may open, and nothing more.
    return OK if c.expect["anonymous"] == OK else CLOSED


def _cases(endpoint: str) -> list[Case]:
    entry = MATRIX[endpoint]
    return entry if isinstance(entry, list) else [entry]


def _value(world, name: str):
    if name.startswith("="):
        return name[1:]
    return world.obj[name]


def _resolve(world, value):
    if isinstance(value, str) and value.startswith("@"):
        return world.obj[value[1:]]
    return value


@pytest.fixture
def _clean_database():
    """This module builds its world once (rows are cleared when the module ends, not after each test)."""
    yield


@pytest.fixture(scope="module")
def sec(app, tmp_path_factory):
    with shared_world(app, tmp_path_factory) as (world, isolation):
        yield app, world, isolation


def _rules(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def walk(app, world, isolation, endpoint: str) -> list[str]:
    """Every case of `endpoint` for every role and method; returns the mismatches as readable lines."""
    from flask import url_for

    rule = _rules(app)[endpoint]
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    problems = []
    for c in _cases(endpoint):
        args = {a: _value(world, c.args.get(a) or DEFAULT_ARGS[a]) for a in rule.arguments}
        with app.test_request_context():
            url = url_for(endpoint, **args, **{k: _resolve(world, v) for k, v in (c.query or {}).items()})
        for method in [c.method] if c.method else methods:
            for role in (*ROLES, W.MEMBER, W.PENDING):
                got, text = _request(app, world, isolation, endpoint, role, method, url, c)
                want = _want(c, role)
                as_ = "bank" if role == W.MEMBER else role
                if not matches(want, got):
                    problems.append(f"{method} {url} as {role}: expected {want}, got {got}")
                for name, allowed in (NAME_SEEN_BY | c.names).items():
                    if got == OK and as_ not in allowed and name in text:
                        problems.append(f"{method} {url} as {role}: shows {name}")
    return problems


def _request(app, world, isolation, endpoint, role, method, url, c: Case) -> tuple[str, str]:
    headers = {}
    api = endpoint.startswith("api_v1.")
    token = world.tokens.get("bank" if role == W.MEMBER else role)
    if api and token:
        # A token is the institution's: bank's member calls with bank's.
        headers["Authorization"] = f"Bearer {token}"
    # Logged-in roles carry their session cookie to the API too: a cookie alone must never be a token.
    client = client_for(app, None if role == "anonymous" else world.users[role])
    kwargs = {}
    if method != "GET":
        if c.json is not None:
            kwargs["json"] = c.json
        elif c.data is not None:
            kwargs["data"] = {k: _resolve(world, v) for k, v in c.data.items()}
        elif api:
            kwargs["json"] = {}
    with isolation.rolled_back():
        resp = client.open(url, method=method, headers=headers, **kwargs)
        got = classify(client, method, resp)
        text = _text_of(resp)
        resp.close()
    if os.environ.get("MATRIX_DUMP"):
        print(f"{endpoint:32} {method:5} {role:11} {got:8} {url}")
    return got, text


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text_of(resp) -> str:
    """What a person could read in the response: the page, the JSON, or the cells of an Excel download."""
    if resp.mimetype in ("text/html", "application/json", "application/x-ndjson"):
        return resp.get_data(as_text=True)
    if resp.mimetype == XLSX:
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(resp.get_data())) as z:
            return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    return ""


# --- the tests ------------------------------------------------------------------------------------------


def test_every_route_has_an_entry(app):
    endpoints = set(_rules(app))
    missing = sorted(endpoints - set(MATRIX))
    assert not missing, (
        f"Routes without an entry in the authorization matrix: {missing}.\n"
        "Add one line per endpoint to MATRIX in tests/security/test_authorization_matrix.py, e.g.\n"
        '    "notices.detail": case(PUBLIC, ref="notice_public"),\n'
        "(see 'How to add a route' at the top of that file)."
    )
    stale = sorted(set(MATRIX) - endpoints)
    assert not stale, f"Entries for routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_matrix(sec, endpoint):
    app, world, isolation = sec
    if endpoint not in _rules(app):
        pytest.fail(f"{endpoint} is in MATRIX but not registered")
    problems = walk(app, world, isolation, endpoint)
    assert not problems, "\n".join(problems)


# --- sensitive pages: a sign-in whose password is not fresh is sent to /reauth --------------------------

# The pages behind `fresh_login_required` (matchmaker/auth/sessions.py). Listed, so that a page losing the
# decorator fails here as surely as a new one without an entry.
SENSITIVE = {
    "accounts.new_member", "accounts.member_action", "auth.password", "api_tokens.index", "api_tokens.revoke",
    "api_tokens.webhook_index", "api_tokens.webhook_disable", "api_tokens.webhook_replay", "audit.export",
    "exchange.export_page", "projects.ledger_export", "console.monthly_report", "bureau.new_institution",
}


def _needs_fresh_login(view) -> bool:
    import types

    from matchmaker.auth import sessions

    inner = next(c for c in sessions.fresh_login_required.__code__.co_consts
                 if isinstance(c, types.CodeType) and c.co_name == "wrapped")
    while view is not None:
        if getattr(view, "__code__", None) is inner:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_sensitive_pages_are_the_listed_ones(app):
    found = {e for e, view in app.view_functions.items() if _needs_fresh_login(view)}
    assert found == SENSITIVE


@pytest.mark.parametrize("endpoint", sorted(SENSITIVE))
def test_stale_sign_in_is_sent_to_reauth(sec, endpoint):
    """Signed in long enough ago: the sensitive page asks for the password again instead of answering."""
    from urllib.parse import parse_qs, urlsplit

    from flask import url_for

    app, world, isolation = sec
    rule = _rules(app)[endpoint]
    c = _cases(endpoint)[0]
    role = next(r for r in ROLES if c.expect.get(r) == OK)
    args = {a: _value(world, c.args.get(a) or DEFAULT_ARGS[a]) for a in rule.arguments}
    with app.test_request_context():
        url = url_for(endpoint, **args, **{k: _resolve(world, v) for k, v in (c.query or {}).items()})
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        client = client_for(app, world.users[role], fresh=False)
        data = {k: _resolve(world, v) for k, v in (c.data or {}).items()}
        with isolation.rolled_back():
            # The sign-in itself is still valid: an ordinary page answers.
            assert client.get("/").status_code == 200
            resp = client.open(url, method=method, data=data if method != "GET" else None,
                               headers={"Referer": f"http://localhost{url}"})
            assert classify(client, method, resp) == REAUTH, f"{method} {url} as {role}: {resp.status_code}"
            location = urlsplit(resp.headers["Location"])
            # Back to the page after the password (a GET), or to the page the form was on (a POST).
            assert parse_qs(location.query)["next"] == [url], f"{method} {url}: {resp.headers['Location']}"
            assert resp.mimetype != XLSX
