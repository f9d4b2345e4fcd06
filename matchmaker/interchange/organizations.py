"""Interchange of organisations and users."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from matchmaker.auth.services import hash_password
from matchmaker.interchange import fields as f
from matchmaker.interchange.registry import ImportContext, InterchangeType, register
from models import Organization, OrgKind, OrgStatus, Size, User, UserRole, db_session
from models.organizations import uscc_error

ORG_KEYS = frozenset({
    "ref", "kind", "name", "uscc", "district", "industry", "size", "founded", "revenue", "employees",
    "rd_ratio", "tags", "parent", "status", "contact_name", "contact_phone", "description",
})
USER_KEYS = frozenset({"ref", "org", "username", "password", "password_hash", "role", "name", "phone", "email",
                       "active"})


def load_organization(d: dict, ctx: ImportContext) -> Organization:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Organization, "organization", ref):
        raise f.LineError("ref", f"机构“{ref}”已存在")
    kind = f.code(d, "kind", OrgKind)
    name = f.text(d, "name")
    district = f.text(d, "district", required=False, max_len=50)
    if district is not None and district not in ctx.city.districts:
        raise f.LineError("district", f"“{district}”不是本市的区（市）：{'、'.join(ctx.city.districts)}")
    industry = f.text(d, "industry", required=False, max_len=50)
    if industry is not None and industry not in ctx.city.clusters:
        raise f.LineError("industry", f"“{industry}”不是本市的产业集群")
    uscc = f.text(d, "uscc", required=False, max_len=18)
    if kind == OrgKind.ENTERPRISE:
        if uscc is None:
            raise f.LineError("uscc", "企业须有统一社会信用代码")
        if district is None:
            raise f.LineError("district", "企业须有所在区（市）")
    elif uscc is not None:
        raise f.LineError("uscc", "只有企业填写统一社会信用代码")
    if uscc is not None:
        if err := uscc_error(uscc):
            raise f.LineError("uscc", err)
        taken = any(getattr(o, "uscc", None) == uscc for o in ctx.created.values()) or db_session.scalar(
            sa.select(Organization.id).where(Organization.uscc == uscc)
        )
        if taken:
            raise f.LineError("uscc", f"统一社会信用代码“{uscc}”已被其他企业使用")
    parent = None
    if d.get("parent") is not None:
        parent = ctx.lookup(Organization, "organization", d["parent"], "parent")
        if kind != OrgKind.BANK or parent.kind != OrgKind.BANK:
            raise f.LineError("parent", "只有银行的支行可以有上级机构（上级须为银行）")
    org = Organization(
        ref=ref, kind=kind, name=name, district=district, industry=industry, uscc=uscc, parent=parent,
        status=f.code(d, "status", OrgStatus, required=False) or OrgStatus.APPROVED,
        size=f.code(d, "size", Size, required=False),
        founded=f.integer(d, "founded", lo=1800, hi=2100),
        revenue=f.decimal(d, "revenue", lo=0),
        employees=f.integer(d, "employees", lo=0, hi=10**7),
        rd_ratio=f.decimal(d, "rd_ratio", lo=0, hi=1),
        tags=f.strings(d, "tags"),
        contact_name=f.text(d, "contact_name", required=False, max_len=50),
        contact_phone=f.text(d, "contact_phone", required=False, max_len=30),
        description=f.text(d, "description", required=False, max_len=5000),
    )
    db_session.add(org)
    return org


def dump_organization(o: Organization, ctx: ImportContext) -> dict:
    line = {
        "ref": o.ref, "kind": o.kind.value, "name": o.name, "district": o.district, "status": o.status.value,
    }
    optional = {
        "uscc": o.uscc, "industry": o.industry, "size": o.size.value if o.size else None,
        "founded": o.founded, "revenue": f.plain_number(o.revenue), "employees": o.employees,
        "rd_ratio": f.plain_number(o.rd_ratio), "tags": o.tags or None,
        "parent": o.parent.ref if o.parent else None, "contact_name": o.contact_name,
        "contact_phone": o.contact_phone, "description": o.description,
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


def export_organizations():
    # Head offices before their branches, so a branch's parent is always on an earlier line.
    parent = aliased(Organization)
    q = (
        sa.select(Organization)
        .outerjoin(parent, Organization.parent_id == parent.id)
        .order_by(Organization.parent_id.is_not(None), parent.parent_id.is_not(None), Organization.id)
    )
    return db_session.scalars(q)


def load_user(d: dict, ctx: ImportContext) -> User:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(User, "user", ref):
        raise f.LineError("ref", f"用户“{ref}”已存在")
    org = ctx.lookup(Organization, "organization", d.get("org"), "org")
    username = f.text(d, "username", max_len=64)
    clash = any(getattr(o, "username", "").lower() == username.lower() for o in ctx.created.values()
                if isinstance(o, User)) or db_session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    )
    if clash:
        raise f.LineError("username", f"用户名“{username}”已被使用")
    password = f.text(d, "password", required=False, max_len=128)
    password_hash = f.text(d, "password_hash", required=False, max_len=256)
    if (password is None) == (password_hash is None):
        raise f.LineError("password", "须提供 password（初始密码）或 password_hash 之一")
    if password_hash is not None and not password_hash.startswith(("scrypt:", "pbkdf2:")):
        raise f.LineError("password_hash", "不是可识别的密码哈希")
    user = User(
        ref=ref, org=org, username=username, name=f.text(d, "name", max_len=50),
        role=f.code(d, "role", UserRole, required=False) or UserRole.MEMBER,
        password_hash=password_hash or hash_password(password),
        phone=f.text(d, "phone", required=False, max_len=30),
        email=f.text(d, "email", required=False, max_len=200),
        is_active=f.boolean(d, "active", default=True),
    )
    db_session.add(user)
    return user


def dump_user(u: User, ctx: ImportContext) -> dict:
    line = {
        "ref": u.ref, "org": u.org.ref, "username": u.username, "password_hash": u.password_hash,
        "role": u.role.value, "name": u.name, "active": u.is_active,
    }
    if u.phone:
        line["phone"] = u.phone
    if u.email:
        line["email"] = u.email
    return line


register(InterchangeType("organization", ORG_KEYS, load_organization, dump_organization, export_organizations, 10))
register(InterchangeType(
    "user", USER_KEYS, load_user, dump_user,
    lambda: db_session.scalars(sa.select(User).order_by(User.id)), 20,
))
