"""The navigation bar per role: each domain adds its entries here; links to absent pages are hidden."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for

from models import OrgKind

E, B, F, G, U = OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR, OrgKind.BUREAU
EVERYONE = (E, B, F, G, U)
INSTITUTIONS = (B, F, G)


@dataclass(frozen=True)
class NavItem:
    title: str
    endpoint: str
    kinds: tuple[OrgKind, ...]
    prefix: str
    # Shown to visitors who are not logged in (and to organisations still under review).
    public: bool = False
    # A figure shown next to the title: "unread" is the user's unread messages.
    count: str | None = None


NAV: list[NavItem] = [
    NavItem("金融产品超市", "catalog.index", EVERYONE, "/products", public=True),
    NavItem("我的产品", "catalog.mine", INSTITUTIONS, "/my-products"),
    NavItem("需求订阅", "notifications.searches", INSTITUTIONS, "/saved-searches"),
    NavItem("审核", "bureau.reviews", (U,), "/bureau/reviews"),
    NavItem("机构名录", "bureau.organizations", (U,), "/bureau/organizations"),
    NavItem("消息", "notifications.inbox", EVERYONE, "/inbox", count="unread"),
    NavItem("本机构", "accounts.profile", EVERYONE, "/account"),
]


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    prefix: str
    count: int | None = None


def nav_items(user) -> list[Link]:
    """The entries `user` sees; anonymous visitors and organisations under review see the public ones."""
    funcs = current_app.view_functions
    full = getattr(user, "is_authenticated", False) and user.org.is_approved
    links = []
    for i in NAV:
        if i.endpoint not in funcs:
            continue
        if not (i.public if not full else user.org.kind in i.kinds):
            continue
        links.append(Link(i.title, url_for(i.endpoint), i.prefix, _count(i.count, user)))
    return links


def _count(name: str | None, user) -> int | None:
    if name == "unread":
        from matchmaker.notifications.services import unread_count

        return unread_count(user)
    return None
