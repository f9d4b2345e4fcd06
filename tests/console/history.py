"""A small constructed history for the console, with every figure worked out by hand in EXPECTED."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from models import DemandHistory, Event, Meeting, OrgKind, ProgressUpdate, db_session
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
    },
    "滕州市": {
        "demands_posted": 3, "amount_requested": D(3300), "first_loan": 0, "credit_loan": 2,
        "demands_published": 2, "amount_published": D(3000), "projects": 2, "project_investment": D(7000),
        "events_held": 1, "meetings_held": 2, "intent_amount": D(1500), "signed_amount": D(1100),
        "disbursed_amount": D(100),
    },
}
TRENDS = {  # city, months 2026-09, 10, 11
    "demands_posted": [1, 2, 1], "amount_requested": [D(1000), D(2800), D(300)],
    "demands_published": [1, 0, 1], "projects": [1, 1, 0], "events_held": [0, 1, 1],
    "intent_amount": [0, D(700), D(1000)], "signed_amount": [0, D(300), D(800)], "disbursed_amount": [0, D(100), 0],
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
}
LEDGER = {"projects": 3, "total_investment": D(17000), "equipment_investment": D(12200), "open_problems": 1,
          "equipment_subsidy": D(820), "interest_subsidy": D("222.5"), "budget": D(20000),
          "budget_left": D("18957.5"), "bands": [0, 1, 1, 1]}
