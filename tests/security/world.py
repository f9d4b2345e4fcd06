"""A world with two of everything, for the authorization matrix: who owns what, by name.

Enterprise A (滕州市) and enterprise B (薛城区) each have projects, demands in several states,
offers, deals, event registrations and meetings, notifications; bank and other bank each have
products, offers, saved searches, API tokens and webhooks; a fund, a guarantor, the bureau of A's
district, the bureau of B's district and the city bureau. The world is built through the services
wherever they exist, so its rows are in the states the pages really meet.

`build()` returns a `SecurityWorld`: `users[role]` (the flask-login id of each role's user), `usernames[role]`,
`tokens[role]` (an API secret for roles that can hold one) and `obj[name]` (a ref or an integer id).
Attachments are written to ATTACHMENT_DIR: the caller points it at a temporary folder first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.api import tokens, webhooks
from matchmaker.attachments import content as attachment_content
from matchmaker.attachments import services as attachments
from matchmaker.console import scorecard
from matchmaker.console import services as console
from matchmaker.demands import services as demands
from matchmaker.demands.services import local_today
from matchmaker.notices import services as notices
from matchmaker.notifications import saved_searches
from matchmaker.notifications.services import notify
from matchmaker.offers import services as offers
from matchmaker.projects import services as projects
from models import (
    DeliveryStatus,
    Demand,
    Event,
    EventKind,
    EventRegistration,
    EventStatus,
    Meeting,
    MeetingRequest,
    Notification,
    Offer,
    OrgKind,
    RegistrationStatus,
    RequestStatus,
    TechProject,
    WebhookDelivery,
    db_session,
)
from tests import factories
from tests.attachments import files

# Every role the matrix walks, in the order its table columns are printed.
ROLES = ("anonymous", "ent_a", "ent_b", "bank", "other_bank", "fund", "guarantor", "bureau_a", "bureau_b", "city")
# A member (not an administrator) of bank: walked too, expected to fare as bank unless a case says otherwise.
MEMBER = "bank_member"
# A bank still waiting for review: walked too, expected to reach only public pages unless a case says so.
PENDING = "pending_bank"
# Roles whose organisation may hold API tokens (institutions); the others call the API without one.
TOKEN_ROLES = ("bank", "other_bank", "fund", "guarantor")
# Bureaus hold read-only tokens (their district, or the city, and the statistics).
BUREAU_TOKEN_ROLES = ("bureau_a", "bureau_b", "city")
A_DISTRICT, B_DISTRICT = "滕州市", "薛城区"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class SecurityWorld:
    users: dict[str, str] = field(default_factory=dict)     # role -> flask-login id ("<id>:<version>")
    usernames: dict[str, str] = field(default_factory=dict)  # role -> username (password: factories.PASSWORD)
    tokens: dict[str, str] = field(default_factory=dict)    # role -> API secret
    obj: dict[str, str | int] = field(default_factory=dict)  # object name -> ref or id


def _terms(**kw) -> dict:
    from datetime import timedelta

    values = {"amount": Decimal(1000), "rate": Decimal("4.2"), "term_months": 36, "collateral": ["equipment"],
              "conditions": "设备抵押", "valid_until": local_today() + timedelta(days=30), "rate_reason": None,
              "stake_percent": None, "valuation_min": None, "valuation_max": None}
    values.update(kw)
    return values


def _event(ref: str, organizer, district: str | None, status: EventStatus) -> Event:
    event = Event(ref=ref, kind=EventKind.BANK_ENTERPRISE_MEETING, title=f"对接会{ref}", date=date(2026, 12, 10),
                  start_time=time(9, 0), status=status, district=district, slots=4, slot_minutes=15, tables=3,
                  organizer_id=organizer.org_id, created_by_id=organizer.id)
    db_session.add(event)
    db_session.flush()
    return event


def _register(event: Event, org, **kw) -> EventRegistration:
    reg = EventRegistration(event=event, org=org, status=RegistrationStatus.ACCEPTED, attendees=["张三"], **kw)
    db_session.add(reg)
    return reg


def build() -> SecurityWorld:
    """Build the world in the current app context and commit it."""
    w = SecurityWorld()
    mk = factories.make_org
    u = {
        "ent_a": factories.make_user(factories.make_enterprise(district=A_DISTRICT, name="甲企业机密名称")),
        "ent_b": factories.make_user(factories.make_enterprise(district=B_DISTRICT, name="乙企业机密名称")),
        "bank": factories.make_user(mk(OrgKind.BANK, district="市中区")),
        "other_bank": factories.make_user(mk(OrgKind.BANK, district=A_DISTRICT)),
        "fund": factories.make_user(mk(OrgKind.FUND, district=None)),
        "guarantor": factories.make_user(mk(OrgKind.GUARANTOR, district=None)),
        "bureau_a": factories.make_user(mk(OrgKind.BUREAU, district=A_DISTRICT)),
        "bureau_b": factories.make_user(mk(OrgKind.BUREAU, district=B_DISTRICT)),
        "city": factories.make_user(mk(OrgKind.BUREAU, district=None)),
    }
    w.users = {role: user.get_id() for role, user in u.items()}
    w.usernames = {role: user.username for role, user in u.items()}
    ent_a, ent_b, bank, other_bank = u["ent_a"], u["ent_b"], u["bank"], u["other_bank"]
    o = w.obj
    # Members (non-administrators) of both enterprises and of the bank.
    o["member_a"] = factories.make_user(ent_a.org, role="member").ref
    o["member_b"] = factories.make_user(ent_b.org, role="member").ref
    member_bank = factories.make_user(bank.org, role="member")
    o["member_bank"] = member_bank.ref
    w.users["bank_member"], w.usernames["bank_member"] = member_bank.get_id(), member_bank.username
    # A bank that registered itself and waits for the city bureau's review.
    from models import OrgStatus

    pending = factories.make_user(mk(OrgKind.BANK, district=A_DISTRICT, status=OrgStatus.PENDING))
    w.users[PENDING], w.usernames[PENDING] = pending.get_id(), pending.username
    for role in ("ent_a", "ent_b", "bank", "other_bank", "fund", "guarantor"):
        o[f"org_{role}"] = u[role].org.ref

    # Projects, one of them major with an open problem the bureau follows up.
    project_a = factories.make_project(ent_a.org, is_major=True)
    project_b = factories.make_project(ent_b.org, is_major=True)
    update_a = projects.add_progress(ent_a, project_a, percent=30, done="厂房改造完成", problems="设备进口清关慢")
    update_b = projects.add_progress(ent_b, project_b, percent=20, done="设备招标", problems="资金缺口")
    o.update(project_a=project_a.ref, project_b=project_b.ref, update_a=update_a.id, update_b=update_b.id)

    # Products: each institution publishes; bank also has a paused one (only it and the bureaus see it).
    p_bank = factories.make_product(bank.org, amount_max=Decimal(5000))
    p_other = factories.make_product(other_bank.org, amount_max=Decimal(5000))
    from models.products import ProductKind, ProductStatus

    p_paused = factories.make_product(bank.org, status=ProductStatus.PAUSED)
    p_fund = factories.make_product(u["fund"].org, kind=ProductKind.EQUITY, rate_min=Decimal(0), rate_max=Decimal(0),
                                    amount_max=Decimal(5000))
    p_guar = factories.make_product(u["guarantor"].org, kind=ProductKind.GUARANTEE, amount_max=Decimal(5000))
    o.update(product_bank=p_bank.ref, product_other_bank=p_other.ref, product_bank_paused=p_paused.ref,
             product_fund=p_fund.ref, product_guarantor=p_guar.ref)

    # Demands of A in several states.
    mkd = factories.make_demand
    d_draft = mkd(ent_a.org, status="draft", project=project_a)
    d_submitted = mkd(ent_a.org, status="submitted", project=project_a)
    d_published = mkd(ent_a.org, status="published", project=project_a)   # bank bid, not revealed
    d_applied = mkd(ent_a.org, status="published", project=project_a)     # A applied to other bank: revealed to it
    d_revealed = mkd(ent_a.org, status="published", project=project_a)    # bank's offer accepted: revealed to bank
    d_b = mkd(ent_b.org, status="published", project=project_b)
    d_b_draft = mkd(ent_b.org, status="draft", project=project_b)
    o.update(demand_a_draft=d_draft.ref, demand_a_submitted=d_submitted.ref, demand_a_published=d_published.ref,
             demand_a_applied=d_applied.ref, demand_a_revealed=d_revealed.ref, demand_b=d_b.ref,
             demand_b_draft=d_b_draft.ref)
    demands.set_intended_banks(ent_a, d_published, [bank.org])
    demands.set_intended_banks(ent_b, d_b, [other_bank.org])

    # Offers: a bid waiting for A, an application waiting for other bank, an accepted and signed deal.
    bid_a = offers.bid(bank, d_published, _terms(), product=p_bank)
    request_a = offers.apply(ent_a, d_applied, p_other, "请尽快答复")
    accepted = offers.bid(bank, d_revealed, _terms(), product=p_bank)
    offers.accept(ent_a, accepted)
    deal = offers.sign(bank, accepted, signed_amount=Decimal(1000), signed_on=local_today(), rate=Decimal("4.2"),
                       term_months=36)
    bid_b = offers.bid(other_bank, d_b, _terms(), product=p_other)
    request_b = offers.apply(ent_b, d_b, p_bank, "乙企业的申请")
    o.update(offer_bid_a=bid_a.ref, offer_request_a=request_a.ref, offer_accepted_a=accepted.ref, deal_a=deal.ref,
             offer_bid_b=bid_b.ref, offer_request_b=request_b.ref)

    # Push lists: A's district bureau pushed A's published demand to bank; B's bureau has a list of its own.
    batch_a = demands.create_batch(u["bureau_a"], "滕州市重大项目清单")
    demands.add_to_batch(u["bureau_a"], batch_a, d_published)
    demands.push_batch(u["bureau_a"], batch_a)
    batch_b = demands.create_batch(u["bureau_b"], "薛城区重大项目清单")
    o.update(batch_a=batch_a.ref, batch_b=batch_b.ref)

    # Events: one in each district, open, with registrations, a pending request and a meeting each.
    ev_a = _event("ev-sec-a", u["bureau_a"], A_DISTRICT, EventStatus.OPEN)
    ev_b = _event("ev-sec-b", u["bureau_b"], B_DISTRICT, EventStatus.OPEN)
    ev_draft = _event("ev-sec-draft", u["bureau_a"], A_DISTRICT, EventStatus.DRAFT)
    _register(ev_a, ent_a.org, demand_refs=[d_published.ref])
    _register(ev_a, bank.org)
    _register(ev_b, ent_b.org)
    _register(ev_b, other_bank.org)
    req_a = MeetingRequest(event=ev_a, from_org=ent_a.org, to_org=bank.org, status=RequestStatus.PENDING)
    req_b = MeetingRequest(event=ev_b, from_org=ent_b.org, to_org=other_bank.org, status=RequestStatus.PENDING)
    m_a = Meeting(event=ev_a, slot=0, table_no=0, enterprise_id=ent_a.org_id, institution_id=bank.org_id,
                  is_requested=True)
    m_b = Meeting(event=ev_b, slot=0, table_no=0, enterprise_id=ent_b.org_id, institution_id=other_bank.org_id,
                  is_requested=True)
    db_session.add_all([req_a, req_b, m_a, m_b])
    db_session.commit()
    o.update(event_a=ev_a.ref, event_b=ev_b.ref, event_draft=ev_draft.ref, request_a=req_a.id, request_b=req_b.id,
             meeting_a=m_a.id, meeting_b=m_b.id)

    # Notifications of A's and B's users (the services above wrote some; these are named).
    n_a = notify(ent_a, "test", "甲的消息")[0]
    n_b = notify(ent_b, "test", "乙的消息")[0]
    db_session.commit()
    o.update(notification_a=n_a.id, notification_b=n_b.id)
    assert db_session.get(Notification, n_a.id).user_id == ent_a.id

    # Saved searches of both banks.
    from flask import current_app

    city = current_app.extensions["city"]
    ss_bank = saved_searches.save_search(bank, "滕州技改", {"district": A_DISTRICT}, city=city)
    ss_other = saved_searches.save_search(other_bank, "薛城", {"district": B_DISTRICT}, city=city)
    o.update(search_bank=ss_bank.id, search_other_bank=ss_other.id)

    # Notices: a public one with a file, one for banks only, one for B's district only.
    pub = notices.publish(u["city"], kind="policy", title="公开政策", body="全体可见", audience_kinds=[],
                          audience_districts=[], uploads=[notices.Upload("policy.png", PNG)])
    for_banks = notices.publish(u["city"], kind="product_promotion", title="银行通知", body="仅银行", audience_kinds=["bank"],
                                audience_districts=[], uploads=[notices.Upload("banks.png", PNG)])
    for_b = notices.publish(u["bureau_b"], kind="event_notice", title="薛城通知", body="仅薛城区", audience_kinds=[],
                            audience_districts=[B_DISTRICT], uploads=[notices.Upload("xuecheng.png", PNG)])
    o.update(notice_public=pub.ref, notice_public_file=pub.attachments[0].id, notice_banks=for_banks.ref,
             notice_banks_file=for_banks.attachments[0].id, notice_b=for_b.ref, notice_b_file=for_b.attachments[0].id)

    # API tokens (every institution), webhooks of both banks, a failed delivery of each to replay.
    for role in TOKEN_ROLES:
        token, secret = tokens.create_token(u[role], f"{role}系统", ["read", "offers", "deals"])
        w.tokens[role] = secret
        o[f"token_{role}"] = token.ref
    for role in ("bank", "other_bank"):
        ep, _secret = webhooks.register(u[role], "https://hooks.example.com/mm", ["offer.applied"])
        delivery = WebhookDelivery(ref=f"whd-sec-{role}", endpoint=ep, event="offer.applied", payload="{}",
                                   status=DeliveryStatus.FAILED, attempts=7)
        db_session.add(delivery)
        o[f"webhook_{role}"], o[f"delivery_{role}"] = ep.ref, delivery.ref
    for role in BUREAU_TOKEN_ROLES:
        token, secret = tokens.create_token(u[role], f"{role}统计", ["read"])
        w.tokens[role] = secret
        o[f"token_{role}"] = token.ref
    db_session.commit()

    # Attachments, uploaded by their owners: on A's demands (draft; published, identity not revealed; applied to
    # other bank; matched with bank), on bank's bid, on A's project, and one A deleted.
    def attach(actor, obj, kind: str, name: str) -> int:
        up = attachment_content.Upload(f"{name}.pdf", files.pdf(name))
        return attachments.upload(actor, obj, kind=kind, up=up).id

    def get(model, ref):
        return db_session.scalar(sa.select(model).where(model.ref == ref))

    for name in ("demand_a_draft", "demand_a_published", "demand_a_applied", "demand_a_revealed"):
        o[f"att_{name}"] = attach(ent_a, get(Demand, o[name]), "business_licence", name)
    o["att_offer_bid_a"] = attach(bank, get(Offer, o["offer_bid_a"]), "credit_plan", "offer_bid_a")
    o["att_project_a"] = attach(ent_a, get(TechProject, o["project_a"]), "feasibility_study", "project_a")
    gone = attach(ent_a, get(Demand, o["demand_a_draft"]), "other", "deleted")
    attachments.delete(ent_a, *attachments.visible(ent_a, gone))
    o["att_deleted"] = gone

    # The city bureau published the scorecard, so the public page exists.
    scorecard.publish(u["city"], console.scope_for(u["city"]))

    o["uid_ent_a"] = ent_a.id
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 2
    return w
