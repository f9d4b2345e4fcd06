"""The navigation bar per role: each domain adds its entries here; links to absent pages are hidden."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for

from models import OrgKind

E, B, F, G, U = OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR, OrgKind.BUREAU


@dataclass(frozen=True)
class NavItem:
    title: str
    endpoint: str
    kinds: tuple[OrgKind, ...]
    prefix: str


NAV: list[NavItem] = [
    NavItem("注册审核", "bureau.reviews", (U,), "/bureau/reviews"),
    NavItem("机构名录", "bureau.organizations", (U,), "/bureau/organizations"),
    NavItem("需求审核", "demands.review", (U,), "/demands/review"),
    NavItem("项目台账", "projects.ledger_page", (U,), "/projects/ledger"),
    NavItem("推送清单", "demands.batches", (U,), "/demands/batches"),
    NavItem("我的技改项目", "projects.mine", (E,), "/projects"),
    NavItem("我的融资需求", "demands.mine", (E,), "/demands/mine"),
    NavItem("需求项目库", "demands.pool", (B, F, G, U), "/demands/pool"),
    NavItem("推送清单", "demands.inbox", (B,), "/demands/inbox"),
    NavItem("对接活动", "events.index", (E, B, F, G, U), "/events"),
    NavItem("本机构", "accounts.profile", (E, B, F, G, U), "/account"),
]


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    prefix: str


def nav_items(user) -> list[Link]:
    funcs = current_app.view_functions
    return [
        Link(i.title, url_for(i.endpoint), i.prefix)
        for i in NAV
        if user.org.kind in i.kinds and i.endpoint in funcs
    ]
