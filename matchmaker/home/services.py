"""Figures and to-do lists for the home pages."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from models import Organization, OrgKind, OrgStatus, db_session


@dataclass
class Task:
    title: str
    count: int | None
    url: str
    hint: str


def public_figures() -> dict[str, int]:
    from matchmaker.catalog.services import ProductFilters, browse_query

    rows = db_session.execute(
        sa.select(Organization.kind, sa.func.count())
        .where(Organization.status == OrgStatus.APPROVED)
        .group_by(Organization.kind)
    )
    counts = {str(kind): n for kind, n in rows}
    # Products on sale are those the public supermarket lists with no filter.
    products = db_session.scalar(sa.select(sa.func.count()).select_from(
        browse_query(ProductFilters()).order_by(None).subquery()))
    return {
        "enterprises": counts.get("enterprise", 0),
        "institutions": counts.get("bank", 0) + counts.get("fund", 0) + counts.get("guarantor", 0),
        "products": products,
    }


def tasks_for(user) -> list[Task]:
    """The next things a user of this role should do, with counts where there is a queue."""
    kind = user.org.kind
    tasks: list[Task] = []
    if kind == OrgKind.BUREAU:
        from matchmaker.bureau.services import pending_organizations

        tasks.append(Task("审核注册申请", len(pending_organizations(user)), url_for("bureau.reviews"),
                          "企业注册后需由所在区工信局审核，金融机构由市工信局审核。"))
        tasks.append(Task("机构名录", None, url_for("bureau.organizations"), "查看辖区内企业和金融机构。"))
    if user.org.is_institution:
        from matchmaker.catalog.services import active_product_count

        kind_hint = {OrgKind.BANK: "发布、修改、暂停贷款和融资租赁产品，企业可在金融产品超市中查看。",
                     OrgKind.FUND: "以股权投资产品发布投资偏好（阶段、单笔金额、产业），企业可在金融产品超市中查看。",
                     OrgKind.GUARANTOR: "发布、修改、暂停担保和融资租赁产品，企业可在金融产品超市中查看。"}[kind]
        tasks.append(Task("管理金融产品", active_product_count(user.org), url_for("catalog.mine"), kind_hint))
        tasks.append(Task("需求订阅", None, url_for("notifications.searches"),
                          "保存融资需求筛选条件，有符合条件的新需求时收到通知。"))
    if user.is_admin:
        tasks.append(Task("管理本机构成员", len(user.org.users), url_for("accounts.profile"),
                          "添加同事账户，设置管理员。"))
    return tasks
