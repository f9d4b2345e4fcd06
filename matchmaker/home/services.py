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
    rows = db_session.execute(
        sa.select(Organization.kind, sa.func.count())
        .where(Organization.status == OrgStatus.APPROVED)
        .group_by(Organization.kind)
    )
    counts = {str(kind): n for kind, n in rows}
    return {
        "enterprises": counts.get("enterprise", 0),
        "institutions": counts.get("bank", 0) + counts.get("fund", 0) + counts.get("guarantor", 0),
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
    if user.is_admin:
        tasks.append(Task("管理本机构成员", len(user.org.users), url_for("accounts.profile"),
                          "添加同事账户，设置管理员。"))
    return tasks
