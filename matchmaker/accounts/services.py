"""Member management within one organisation."""
from __future__ import annotations

from matchmaker.auth.services import hash_password, new_ref
from models import User, UserRole, db_session, record


class MemberError(Exception):
    """A member change the rules do not allow; the message is shown to the user."""


def add_member(admin: User, *, username: str, name: str, password: str, role: str, phone: str | None) -> User:
    if not admin.is_admin:
        raise MemberError("只有本机构管理员可以添加成员")
    user = User(
        ref=new_ref("u"), org_id=admin.org_id, username=username.strip(), name=name.strip(),
        password_hash=hash_password(password), role=UserRole(role), phone=phone,
    )
    db_session.add(user)
    db_session.flush()
    record(admin, "user.created", user, role=role)
    db_session.commit()
    return user


def set_member(admin: User, member: User, *, role: str | None = None, active: bool | None = None) -> None:
    """Change a member's role or switch the account on or off, never leaving the org without an admin."""
    if not admin.is_admin or member.org_id != admin.org_id:
        raise MemberError("只能管理本机构的成员")
    if member.id == admin.id and (active is False or role == UserRole.MEMBER):
        raise MemberError("不能停用自己或取消自己的管理员身份")
    if role is not None:
        member.role = UserRole(role)
    if active is not None:
        member.is_active = active
        if not active:
            member.session_version += 1
    record(admin, "user.updated", member, role=str(member.role), active=member.is_active)
    db_session.commit()
