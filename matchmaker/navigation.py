"""The navigation bar per role: each domain adds its entries here; links to absent pages are hidden."""
from __future__ import annotations

from dataclasses import dataclass, field

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
    # Entries of one group share a drop-down menu of that title when a user sees more than one.
    group: str | None = None


NAV: list[NavItem] = [
    NavItem("工作台", "console.index", (U,), "/console"),
    NavItem("注册审核", "bureau.reviews", (U,), "/bureau/reviews", group="审核"),
    NavItem("需求审核", "demands.review", (U,), "/demands/review", group="审核"),
    NavItem("我的技改项目", "projects.mine", (E,), "/projects"),
    NavItem("我的融资需求", "demands.mine", (E,), "/demands/mine"),
    NavItem("需求项目库", "demands.pool", (B, F, G, U), "/demands/pool"),
    NavItem("为您推荐", "ranking.recommended", INSTITUTIONS, "/recommended"),
    NavItem("申请与方案", "offers.mine", (E, B, F, G), "/offers/", group="对接"),
    NavItem("逾期未答复", "offers.overdue", (U,), "/offers/overdue", group="审核"),
    NavItem("审计日志", "audit.index", (U,), "/audit", group="审核"),
    NavItem("项目台账", "projects.ledger_page", (U,), "/projects/ledger", group="台账与上报"),
    NavItem("推送清单", "demands.batches", (U,), "/demands/batches", group="台账与上报"),
    NavItem("推送清单", "demands.inbox", (B,), "/demands/inbox"),
    NavItem("对接活动", "events.index", EVERYONE, "/events"),
    NavItem("金融产品超市", "catalog.index", EVERYONE, "/products", public=True, group="金融产品"),
    NavItem("我的产品", "catalog.mine", INSTITUTIONS, "/my-products", group="金融产品"),
    NavItem("需求订阅", "notifications.searches", INSTITUTIONS, "/saved-searches"),
    NavItem("机构名录", "bureau.organizations", (U,), "/bureau/organizations"),
    NavItem("成果上报", "exchange.export_page", (U,), "/exchange/export", group="台账与上报"),
    NavItem("报送对接结果", "exchange.import_page", INSTITUTIONS, "/exchange/import", group="对接"),
    NavItem("通知公告", "notices.index", EVERYONE, "/notices", public=True),
    NavItem("消息", "notifications.inbox", EVERYONE, "/inbox", count="unread"),
]


@dataclass
class Link:
    title: str
    url: str
    prefix: str
    count: int | None = None
    children: list[Link] = field(default_factory=list)

    def active(self, path: str) -> bool:
        return path.startswith(self.prefix) or any(c.active(path) for c in self.children)


def nav_items(user) -> list[Link]:
    """The entries `user` sees; anonymous visitors and organisations under review see the public ones."""
    funcs = current_app.view_functions
    full = getattr(user, "is_authenticated", False) and user.org.is_approved
    links: list[Link] = []
    groups: dict[str, Link] = {}
    for i in NAV:
        if i.endpoint not in funcs:
            continue
        if not (i.public if not full else user.org.kind in i.kinds):
            continue
        link = Link(i.title, url_for(i.endpoint), i.prefix, _count(i.count, user))
        if i.group is None:
            links.append(link)
        elif i.group not in groups:
            groups[i.group] = Link(i.group, "", "\0", children=[link])
            links.append(groups[i.group])
        else:
            groups[i.group].children.append(link)
    # A group with a single entry is shown as that entry.
    return [g.children[0] if len(g.children) == 1 else g for g in links]


def _count(name: str | None, user) -> int | None:
    if name == "unread":
        from matchmaker.notifications.services import unread_count

        return unread_count(user)
    return None
