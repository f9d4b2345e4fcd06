"""Plain factory functions for test data: make_enterprise(...), make_user(...), small_world()."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from werkzeug.security import generate_password_hash

from models import Organization, OrgKind, OrgStatus, Size, User, UserRole, db_session
from models.organizations import uscc_check_char

PASSWORD = "password1"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def valid_uscc(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    body = f"91370481{n:09d}"
    return body + uscc_check_char(body)


def make_org(kind: OrgKind | str = OrgKind.ENTERPRISE, *, district: str | None = "滕州市", commit: bool = True,
             **kw) -> Organization:
    kind = OrgKind(kind)
    n = next(_seq)
    defaults = {"ref": f"{kind.value[:3]}-{n:05d}", "name": f"测试{kind.value}{n}", "status": OrgStatus.APPROVED}
    if kind == OrgKind.ENTERPRISE:
        defaults.update(uscc=valid_uscc(n), industry="高端装备", size=Size.SMALL, revenue=Decimal(3000),
                        employees=120, rd_ratio=Decimal("0.035"), tags=["专精特新"],
                        contact_name="张经理", contact_phone="13800000000")
    org = Organization(kind=kind, district=district, **{**defaults, **kw})
    db_session.add(org)
    if commit:
        db_session.commit()
    return org


def make_enterprise(**kw) -> Organization:
    return make_org(OrgKind.ENTERPRISE, **kw)


def make_user(org: Organization, *, role: UserRole | str = UserRole.ADMIN, commit: bool = True, **kw) -> User:
    n = next(_seq)
    user = User(ref=f"u-{n:05d}", org=org, username=kw.pop("username", f"user{n}"), name=kw.pop("name", f"用户{n}"),
                password_hash=password_hash(), role=UserRole(role), **kw)
    db_session.add(user)
    if commit:
        db_session.commit()
    return user


@dataclass
class World:
    enterprise: User          # enterprise A (滕州市)
    enterprise_b: User        # enterprise B (薛城区)
    bank: User
    other_bank: User
    fund: User
    guarantor: User
    district_bureau: User     # 滕州市
    other_district_bureau: User  # 薛城区
    city_bureau: User


def small_world() -> World:
    return World(
        enterprise=make_user(make_enterprise(district="滕州市")),
        enterprise_b=make_user(make_enterprise(district="薛城区")),
        bank=make_user(make_org(OrgKind.BANK, district="市中区")),
        other_bank=make_user(make_org(OrgKind.BANK, district="滕州市")),
        fund=make_user(make_org(OrgKind.FUND, district=None)),
        guarantor=make_user(make_org(OrgKind.GUARANTOR, district=None)),
        district_bureau=make_user(make_org(OrgKind.BUREAU, district="滕州市")),
        other_district_bureau=make_user(make_org(OrgKind.BUREAU, district="薛城区")),
        city_bureau=make_user(make_org(OrgKind.BUREAU, district=None)),
    )


def make_project(org: Organization, *, commit: bool = True, **kw):
    """A technical-transformation project of `org` (an enterprise)."""
    from datetime import date

    from models import TechProject

    n = next(_seq)
    defaults = {"ref": f"tp-{n:05d}", "name": f"智能化改造项目{n}", "category": "smart_upgrade",
                "total_investment": Decimal(5000), "equipment_investment": Decimal(3200),
                "start_on": date(2026, 1, 1), "end_on": date(2027, 6, 30), "district": org.district}
    project = TechProject(org=org, **{**defaults, **kw})
    db_session.add(project)
    if commit:
        db_session.commit()
    return project


def make_demand(org: Organization, *, status: str = "draft", commit: bool = True, **kw):
    """A demand of `org` in `status`, without running the life cycle (as an import would)."""
    from datetime import date, timedelta

    from models import Demand
    from models.types import utcnow

    n = next(_seq)
    defaults = {"ref": f"dm-{n:05d}", "title": f"设备更新贷款需求{n}", "description": "购置数控加工中心",
                "amount": Decimal(2000), "term_months": 36, "purpose": "smart_upgrade",
                "financing_types": ["loan"], "collateral": ["equipment"], "max_rate": Decimal("4.5"),
                "valid_until": date.today() + timedelta(days=180), "contact_name": "李会计",
                "contact_phone": "13911112222", "status": status,
                "published_at": utcnow() if status == "published" else None}
    demand = Demand(org=org, **{**defaults, **kw})
    db_session.add(demand)
    if commit:
        db_session.commit()
    return demand


def make_product(org: Organization, *, commit: bool = True, **kw):
    """A product of `org` with plain loan terms unless told otherwise."""
    from models.products import Product, ProductKind, ProductStatus

    n = next(_seq)
    values = dict(
        ref=f"pd-{n:05d}", kind=ProductKind.LOAN, name=f"测试产品{n}", description="",
        amount_min=Decimal(100), amount_max=Decimal(1000), term_min=6, term_max=36,
        rate_min=Decimal("3.5"), rate_max=Decimal("5.5"), collateral=["none"], industries=[], districts=[],
        sizes=[], purposes=[], tags=[], status=ProductStatus.ACTIVE,
    )
    values.update(kw)
    product = Product(org=org, **values)
    db_session.add(product)
    if commit:
        db_session.commit()
    return product
