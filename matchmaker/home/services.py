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
    from matchmaker.console.services import headline_figures

    # The headline figures are the console's own definitions, for the whole city and all time.
    return {**headline_figures(), "products": products,
            "enterprises": counts.get("enterprise", 0),
            "institutions": counts.get("bank", 0) + counts.get("fund", 0) + counts.get("guarantor", 0)}


def tasks_for(user) -> list[Task]:
    """The next things a user of this role should do, with counts where there is a queue."""
    kind = user.org.kind
    tasks: list[Task] = []
    if kind == OrgKind.BUREAU:
        from matchmaker.bureau.services import pending_organizations

        tasks.append(Task("审核注册申请", len(pending_organizations(user)), url_for("bureau.reviews"),
                          "企业注册后需由所在区工信局审核，金融机构由市工信局审核。"))
        tasks.append(Task("机构名录", None, url_for("bureau.organizations"), "查看辖区内企业和金融机构。"))
        tasks.append(Task("产融对接工作台", None, url_for("console.index"),
                          "按月查看需求、项目、活动成效和分区、分产业统计，导出月报。"))
    tasks.extend(_demand_tasks(user))
    tasks.extend(_offer_tasks(user))
    tasks.extend(_event_tasks(user))
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


def _offer_tasks(user) -> list[Task]:
    """Applications waiting for the institution, offers waiting for the enterprise, overdue ones for the bureau."""
    from models import Demand, Offer, OfferStatus

    kind = user.org.kind
    if kind == OrgKind.BUREAU:
        from matchmaker.offers.services import overdue_query

        n = db_session.scalar(sa.select(sa.func.count()).select_from(overdue_query(user).order_by(None).subquery()))
        return [Task("逾期未答复", n, url_for("offers.overdue"), "企业申请产品后，金融机构超过答复期限仍未答复的申请。")]
    if kind == OrgKind.ENTERPRISE:
        n = db_session.scalar(sa.select(sa.func.count(Offer.id)).join(Offer.demand).where(
            Demand.org_id == user.org_id, Offer.status == OfferStatus.SUBMITTED))
        return [Task("申请与方案", n, url_for("offers.mine"), "比较金融机构的方案，接受一个或组合接受贷款与担保。")]
    if user.org.is_institution:
        n = db_session.scalar(sa.select(sa.func.count(Offer.id)).where(
            Offer.org_id == user.org_id, Offer.status == OfferStatus.REQUESTED))
        return [Task("待答复的申请", n, url_for("offers.mine"), "企业申请贵机构的产品后，须在规定工作日内提出方案或说明理由拒绝。")]
    return []


def _demand_tasks(user) -> list[Task]:
    """Projects and demands: the enterprise's own, the institutions' pool, the bureau's review and ledger."""
    from matchmaker.demands import services as demands
    from matchmaker.projects import services as projects

    kind = user.org.kind
    if kind == OrgKind.ENTERPRISE:
        mine = demands.demands_of(user.org)
        returned = sum(1 for d in mine if d.status == "returned")
        return [
            Task("我的技改项目", len(projects.projects_of(user.org)), url_for("projects.mine"),
                 "登记技改项目，填报进度和遇到的问题，查看设备奖补测算。"),
            Task("我的融资需求", len(mine), url_for("demands.mine"),
                 f"有 {returned} 项需求被退回，请修改后重新提交。" if returned
                 else "发布融资需求，经所在区工信局审核后进入需求项目库。"),
        ]
    if kind == OrgKind.BUREAU:
        return [
            Task("融资需求审核", demands.review_count(user), url_for("demands.review"),
                 "审核辖区企业提交的融资需求：发布到需求项目库，或退回修改。"),
            Task("技改项目台账", None, url_for("projects.ledger_page"), "跟踪项目进度和遇到的问题，导出 Excel 台账。"),
            Task("推送清单", None, url_for("demands.batches"), "把重大项目融资需求编成清单推送给意向银行。"),
        ]
    tasks = [Task("融资需求项目库", demands.published_count(), url_for("demands.pool"),
                  "按区域、产业、用途、金额和期限筛选已发布的融资需求。")]
    if kind == OrgKind.BANK:
        tasks.append(Task("推送清单", len(demands.inbox(user.org)), url_for("demands.inbox"),
                          "工信局推送给本行的重大项目融资需求清单。"))
    return tasks


def _event_tasks(user) -> list[Task]:
    """Upcoming matching events: the next one by name, and how many are ahead."""
    from matchmaker.events.services import registration_of, upcoming_events

    events = upcoming_events(user)
    if not events:
        return []
    first = events[0]
    if user.org.kind == OrgKind.BUREAU:
        hint = f"最近：{first.date.isoformat()}「{first.title}」。管理报名、排期、签到与对接成效。"
    else:
        reg = registration_of(first, user.org)
        state = "已报名" if reg is not None and reg.status in ("pending", "accepted") else "可报名参加、约见洽谈对象"
        hint = f"最近：{first.date.isoformat()}「{first.title}」，{state}。"
    return [Task("即将举办的对接活动", len(events), url_for("events.index"), hint)]
