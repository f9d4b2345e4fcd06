"""A small constructed history for the console, with every figure worked out by hand in EXPECTED."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from models import Deal, DemandHistory, Disbursement, Event, Meeting, Offer, OrgKind, ProgressUpdate, db_session
from tests import factories

D = Decimal


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class History:
    city_bureau: object
    tengzhou_bureau: object
    xuecheng_bureau: object
    bank: object
    refs: dict


def build() -> History:
    """Three enterprises in two districts; demands, projects, events and meetings around 2026-09..11."""
    a1 = factories.make_enterprise(name="滕州装备有限公司", district="滕州市", industry="高端装备", size="small")
    a2 = factories.make_enterprise(name="滕州锂电有限公司", district="滕州市", industry="锂电", size="medium")
    b1 = factories.make_enterprise(name="薛城精工有限公司", district="薛城区", industry="高端装备", size="micro")
    bank = factories.make_org(OrgKind.BANK, name="工商银行枣庄分行", district="市中区")
    bank2 = factories.make_org(OrgKind.BANK, name="农业银行滕州支行", district="滕州市")
    refs = {}

    def demand(key, org, **kw):
        refs[key] = factories.make_demand(org, ref=f"dm-{key}", title=f"需求{key}", **kw)
        return refs[key]

    # Posted in September, published in September: a credit loan, but no first loan (d2 was signed before).
    demand("d1", a1, amount=D(1000), purpose="smart_upgrade", financing_types=["loan"], collateral=["none"],
           status="published", created_at=utc("2026-09-10T02:00"), published_at=utc("2026-09-12T02:00"))
    # Before the period: signed, so a1's later loans are not first loans (首贷).
    demand("d2", a1, amount=D(500), purpose="equipment", financing_types=["loan", "leasing"],
           collateral=["equipment"], status="signed", max_rate=D("4.0"), term_months=24,
           created_at=utc("2026-08-01T02:00"), published_at=utc("2026-08-05T02:00"))
    # 2026-10-31T17:00Z is 01:00 on 1 November in Zaozhuang.
    demand("d3", a1, amount=D(300), purpose="working_capital", financing_types=["loan"], collateral=["property"],
           status="submitted", created_at=utc("2026-10-31T17:00"))
    # 2026-10-31T15:59:59Z is still 31 October, 23:59:59 local.
    demand("d4", a2, amount=D(2000), purpose="green", financing_types=["equity"], collateral=["none"],
           status="published", created_at=utc("2026-10-31T15:59:59"), published_at=utc("2026-11-02T01:00"))
    # Created in September as a draft, submitted in October, then returned.
    d5 = demand("d5", b1, amount=D(800), purpose="smart_upgrade", financing_types=["loan"], collateral=["ip"],
                status="returned", created_at=utc("2026-09-20T02:00"), submitted_at=utc("2026-10-05T03:00"))
    db_session.add_all([
        DemandHistory(demand=d5, action="submit", from_status="draft", to_status="submitted",
                      at=utc("2026-10-05T03:00")),
        DemandHistory(demand=d5, action="return", from_status="submitted", to_status="returned",
                      at=utc("2026-10-06T03:00")),
    ])
    demand("d6", b1, status="draft", created_at=utc("2026-10-01T02:00"))
    demand("d7", b1, status="withdrawn", created_at=utc("2026-10-01T02:00"))

    refs["p1"] = factories.make_project(a1, ref="tp-p1", name="装备智能化改造", created_at=utc("2026-09-15T02:00"),
                                        total_investment=D(5000), equipment_investment=D(3200),
                                        category="smart_upgrade", progress=40)
    # 2026-11-30T16:30Z is already December locally: outside the period, inside the ledger.
    refs["p2"] = factories.make_project(b1, ref="tp-p2", name="精工设备更新", created_at=utc("2026-11-30T16:30"),
                                        total_investment=D(10000), equipment_investment=D(8000),
                                        category="equipment", progress=100)
    db_session.add(ProgressUpdate(project=refs["p2"], percent=100, done="设备安装完成", problems="电力增容未批复"))
    refs["p3"] = factories.make_project(a2, ref="tp-p3", name="锂电研发中心", created_at=utc("2026-10-10T02:00"),
                                        total_investment=D(2000), equipment_investment=D(1000),
                                        category="rnd", progress=75)

    ev1 = Event(ref="ev-1", kind="bank_enterprise_meeting", title="全市银企对接会", status="held", district=None,
                date=date(2026, 10, 20))
    ev2 = Event(ref="ev-2", kind="financing_negotiation", title="滕州融资洽谈会", status="closed", district="滕州市",
                date=date(2026, 11, 5))
    ev3 = Event(ref="ev-3", kind="roadshow", title="薛城项目路演", status="published", district="薛城区",
                date=date(2026, 11, 10))
    db_session.add_all([ev1, ev2, ev3])

    def meeting(event, slot, ent, inst, held, intent=None, signed=None, disbursed=None):
        db_session.add(Meeting(event=event, slot=slot, table_no=1, enterprise=ent, institution=inst, is_held=held,
                               intent_amount=intent, signed_amount=signed, disbursed_amount=disbursed))

    meeting(ev1, 0, a1, bank, True, D(500), D(300), D(100))
    meeting(ev1, 1, b1, bank, True, D(200))
    meeting(ev1, 2, a2, bank2, False)
    meeting(ev2, 0, a2, bank, True, D(1000), D(800))
    meeting(ev3, 0, b1, bank, True, D(999))  # not held yet: counts nowhere

    def offer(key, demand, inst, origin, status, created, *, answered=None, accepted=None, amount=None, **kw):
        refs[key] = Offer(ref=f"of-{key}", demand=refs[demand], org=inst, origin=origin, kind="loan",
                          status=status, created_at=utc(created), asked_at=utc(created) if origin == "application"
                          else None, answered_at=utc(answered) if answered else None,
                          accepted_at=utc(accepted) if accepted else None, amount=amount,
                          rate=D("4.2") if amount else None, term_months=36 if amount else None, collateral=[], **kw)
        db_session.add(refs[key])
        return refs[key]

    def deal(key, of, amount, signed_on, *paid):
        refs[key] = Deal(ref=f"dl-{key}", offer=of, signed_amount=amount, signed_on=signed_on, rate=D("4.2"),
                         term_months=36, disbursements=[Disbursement(amount=a, disbursed_on=on) for a, on in paid])
        db_session.add(refs[key])

    # Before the period: offered, accepted and signed in August; its money arrives on 1 September.
    o5 = offer("o5", "d2", bank, "bid", "accepted", "2026-08-10T02:00", answered="2026-08-10T02:00",
               accepted="2026-08-12T02:00", amount=D(500))
    deal("k0", o5, D(500), date(2026, 8, 20), (D(500), date(2026, 9, 1)))
    # A bid in September, accepted in October, signed 600 in October, paid 200 in October and 250 in November.
    o1 = offer("o1", "d1", bank, "bid", "accepted", "2026-09-20T02:00", answered="2026-09-20T02:00",
               accepted="2026-10-08T02:00", amount=D(800))
    deal("k1", o1, D(600), date(2026, 10, 15), (D(200), date(2026, 10, 20)), (D(250), date(2026, 11, 30)))
    # An application of September answered in October: the offer is made in October.
    offer("o2", "d1", bank2, "application", "submitted", "2026-09-25T02:00", answered="2026-10-09T02:00",
          amount=D(300))
    # 2026-10-31T16:30Z is already 1 November locally; accepted and signed in November, nothing paid.
    o4 = offer("o4", "d5", bank, "bid", "accepted", "2026-10-31T16:30", answered="2026-10-31T16:30",
               accepted="2026-11-02T02:00", amount=D(500))
    deal("k2", o4, D(400), date(2026, 11, 5))
    offer("o7", "d4", bank, "bid", "submitted", "2026-11-10T02:00", answered="2026-11-10T02:00", amount=D(1500))
    # Applications still waiting or declined carry no terms: no offer made.
    offer("o3", "d4", bank2, "application", "requested", "2026-11-03T02:00")
    offer("o6", "d4", bank2, "application", "declined", "2026-11-03T02:00", answered="2026-11-04T02:00",
          decline_reason="不符合授信条件", declined_by="institution")
    db_session.commit()
    return History(
        city_bureau=factories.make_user(factories.make_org(OrgKind.BUREAU, district=None), username="c-city"),
        tengzhou_bureau=factories.make_user(factories.make_org(OrgKind.BUREAU, district="滕州市"), username="c-tz"),
        xuecheng_bureau=factories.make_user(factories.make_org(OrgKind.BUREAU, district="薛城区"), username="c-xc"),
        bank=factories.make_user(bank, username="c-bank"),
        refs=refs,
    )


PERIOD = ("2026-09", "2026-11")

# Worked out by hand from build(): (city, 滕州市).
EXPECTED = {
    None: {
        "demands_posted": 4, "amount_requested": D(4100), "first_loan": 1, "credit_loan": 2,
        "demands_published": 2, "amount_published": D(3000), "projects": 2, "project_investment": D(7000),
        "events_held": 2, "meetings_held": 3, "intent_amount": D(1700), "signed_amount": D(1100),
        "disbursed_amount": D(100),
        "offers_made": 4, "amount_offered": D(3100), "offers_accepted": 2, "amount_accepted": D(1300),
        "deals_signed": 2, "deal_signed_amount": D(1000), "deal_disbursed_amount": D(950),
    },
    "滕州市": {
        "demands_posted": 3, "amount_requested": D(3300), "first_loan": 0, "credit_loan": 2,
        "demands_published": 2, "amount_published": D(3000), "projects": 2, "project_investment": D(7000),
        "events_held": 1, "meetings_held": 2, "intent_amount": D(1500), "signed_amount": D(1100),
        "disbursed_amount": D(100),
        "offers_made": 3, "amount_offered": D(2600), "offers_accepted": 1, "amount_accepted": D(800),
        "deals_signed": 1, "deal_signed_amount": D(600), "deal_disbursed_amount": D(950),
    },
}
TRENDS = {  # city, months 2026-09, 10, 11
    "demands_posted": [1, 2, 1], "amount_requested": [D(1000), D(2800), D(300)],
    "demands_published": [1, 0, 1], "projects": [1, 1, 0], "events_held": [0, 1, 1],
    "intent_amount": [0, D(700), D(1000)], "signed_amount": [0, D(300), D(800)], "disbursed_amount": [0, D(100), 0],
    "offers_made": [1, 1, 2], "amount_offered": [D(800), D(300), D(2000)], "offers_accepted": [0, 1, 1],
    "amount_accepted": [0, D(800), D(500)], "deals_signed": [0, 1, 1], "deal_signed_amount": [0, D(600), D(400)],
    "deal_disbursed_amount": [D(500), D(200), D(250)],
}
# Each drill-down lists exactly these refs.
DRILLS = {
    ("demands_posted", None, None, None): {"dm-d1", "dm-d3", "dm-d4", "dm-d5"},
    ("demands_posted", "2026-11", None, None): {"dm-d3"},
    ("demands_posted", "2026-10", None, None): {"dm-d4", "dm-d5"},
    ("first_loan", None, None, None): {"dm-d5"},
    ("credit_loan", None, None, None): {"dm-d1", "dm-d4"},
    ("demands_published", "2026-11", None, None): {"dm-d4"},
    ("demands_posted", None, "district", "薛城区"): {"dm-d5"},
    ("demands_posted", None, "cluster", "高端装备"): {"dm-d1", "dm-d3", "dm-d5"},
    ("demands_posted", None, "financing_type", "equity"): {"dm-d4"},
    ("projects", None, None, None): {"tp-p1", "tp-p3"},
    ("events_held", None, None, None): {"ev-1", "ev-2"},
    ("offers_made", None, None, None): {"of-o1", "of-o2", "of-o4", "of-o7"},
    ("offers_made", "2026-10", None, None): {"of-o2"},
    ("offers_made", "2026-11", None, None): {"of-o4", "of-o7"},
    ("amount_offered", None, "cluster", "锂电"): {"of-o7"},
    ("offers_accepted", None, None, None): {"of-o1", "of-o4"},
    ("deals_signed", None, None, None): {"dl-k1", "dl-k2"},
    ("deal_signed_amount", None, "district", "薛城区"): {"dl-k2"},
    # Disbursements are listed under their deal's reference.
    ("deal_disbursed_amount", None, None, None): {"dl-k0", "dl-k1"},
    ("deal_disbursed_amount", "2026-09", None, None): {"dl-k0"},
    ("deal_disbursed_amount", None, "financing_type", "leasing"): {"dl-k0"},
}
# Demands reaching each stage in the period: (city, 滕州市), with the rate against the stage before.
FUNNEL = {
    None: [(2, None), (3, D("150.0")), (2, D("66.7")), (2, D("100.0")), (2, D("100.0"))],
    "滕州市": [(2, None), (2, D("100.0")), (1, D("50.0")), (1, D("100.0")), (2, D("200.0"))],
}
OFFER_KEYS = ("offers_made", "amount_offered", "offers_accepted", "amount_accepted", "deal_signed_amount",
              "deal_disbursed_amount")
# City breakdowns of the offer side, in OFFER_KEYS order.
OFFER_BREAKDOWNS = {
    "institution": {"工商银行枣庄分行": (3, D(2800), 2, D(1300), D(1000), D(950)),
                    "农业银行滕州支行": (1, D(300), 0, 0, 0, 0)},
    "district": {"滕州市": (3, D(2600), 1, D(800), D(600), D(950)), "薛城区": (1, D(500), 1, D(500), D(400), 0)},
    "cluster": {"高端装备": (3, D(1600), 2, D(1300), D(1000), D(950)), "锂电": (1, D(1500), 0, 0, 0, 0)},
    "purpose": {"smart_upgrade": (3, D(1600), 2, D(1300), D(1000), D(450)), "green": (1, D(1500), 0, 0, 0, 0),
                "equipment": (0, 0, 0, 0, 0, D(500))},
    "financing_type": {"loan": (3, D(1600), 2, D(1300), D(1000), D(950)), "equity": (1, D(1500), 0, 0, 0, 0),
                       "leasing": (0, 0, 0, 0, 0, D(500))},
    "size": {"small": (2, D(1100), 1, D(800), D(600), D(950)), "medium": (1, D(1500), 0, 0, 0, 0),
             "micro": (1, D(500), 1, D(500), D(400), 0)},
}
LEDGER = {"projects": 3, "total_investment": D(17000), "equipment_investment": D(12200), "open_problems": 1,
          "equipment_subsidy": D(820), "interest_subsidy": D("222.5"), "budget": D(20000),
          "budget_left": D("18957.5"), "bands": [0, 1, 1, 1]}
