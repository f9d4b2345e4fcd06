"""Account services: registration, authentication with lock-out, password changes."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from models import Organization, OrgKind, OrgStatus, User, UserRole, db_session, record
from models.types import utcnow

# scrypt is werkzeug's default and a memory-hard modern scheme.
HASH_METHOD = "scrypt"
# Compared against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = generate_password_hash("not-a-password", method=HASH_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def password_error(password: str) -> str | None:
    """Why a new password is too weak (in Chinese), or None."""
    if len(password) < 8:
        return "密码至少8位"
    if password.isdigit() or password.isalpha():
        return "密码须同时包含字母和数字"
    return None


def new_ref(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None


def authenticate(username: str, password: str, *, max_failures: int, lock_minutes: int) -> LoginResult:
    """Check a password; after `max_failures` wrong ones in a row the account locks for a while."""
    user = db_session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower()).with_for_update()
    )
    now = utcnow()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None, "用户名或密码错误")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        db_session.commit()
        return LoginResult(None, f"连续输错密码次数过多，账户已被锁定，请约{minutes}分钟后再试。")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            record(user, "user.locked", user, minutes=lock_minutes)
            db_session.commit()
            return LoginResult(None, f"连续输错密码次数过多，账户已被锁定{lock_minutes}分钟。")
        left = max_failures - user.failed_logins
        db_session.commit()
        return LoginResult(None, f"用户名或密码错误，再输错{left}次账户将被锁定。")
    if not user.is_active:
        db_session.commit()
        return LoginResult(None, "该账户已停用，请联系本机构管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(user, "user.login", user)
    db_session.commit()
    return LoginResult(user)


def register_organization(data: dict) -> User:
    """Self-registration: a pending organisation with its first user as administrator."""
    kind = OrgKind(data["kind"])
    prefix = {"enterprise": "ent", "bank": "bank", "fund": "fund", "guarantor": "gua"}[kind.value]
    org = Organization(
        ref=new_ref(prefix),
        kind=kind,
        name=data["org_name"].strip(),
        status=OrgStatus.PENDING,
        district=data.get("district") or None,
        uscc=data.get("uscc") or None,
        industry=data.get("industry") or None,
        size=data.get("size") or None,
        founded=data.get("founded"),
        revenue=data.get("revenue"),
        employees=data.get("employees"),
        rd_ratio=data.get("rd_ratio"),
        tags=list(data.get("tags") or []),
        contact_name=data.get("contact_name"),
        contact_phone=data.get("contact_phone"),
    )
    user = User(
        ref=new_ref("u"),
        org=org,
        username=data["username"].strip(),
        password_hash=hash_password(data["password"]),
        role=UserRole.ADMIN,
        name=data["name"].strip(),
        phone=data.get("contact_phone"),
    )
    db_session.add_all([org, user])
    db_session.flush()
    record(user, "organization.registered", org, kind=kind.value)
    db_session.commit()
    return user


def username_taken(username: str) -> bool:
    return (
        db_session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower()))
        is not None
    )


def uscc_taken(uscc: str) -> bool:
    return db_session.scalar(sa.select(Organization.id).where(Organization.uscc == uscc)) is not None


def change_password(user: User, old: str, new: str) -> str | None:
    """Change a password; returns an error message or None. Other sessions are logged out."""
    if not check_password_hash(user.password_hash, old):
        return "原密码不正确"
    if err := password_error(new):
        return err
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(user, "user.password_changed", user)
    db_session.commit()
    return None


@dataclass
class ReauthResult:
    ok: bool
    error: str | None = None
    locked: bool = False


def reauthenticate(user: User, password: str, *, max_failures: int, lock_minutes: int) -> ReauthResult:
    """The signed-in user enters the password again before a sensitive action.

    Wrong passwords count towards the same lock-out as sign-in: a stolen session cannot guess it.
    """
    user = db_session.scalar(sa.select(User).where(User.id == user.id).with_for_update())
    if check_password_hash(user.password_hash, password):
        user.failed_logins = 0
        record(user, "user.reauthenticated", user)
        db_session.commit()
        return ReauthResult(True)
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = utcnow() + timedelta(minutes=lock_minutes)
        user.failed_logins = 0
        user.session_version += 1  # every session of the account ends
        record(user, "user.locked", user, minutes=lock_minutes)
        db_session.commit()
        return ReauthResult(False, f"连续输错密码次数过多，账户已被锁定{lock_minutes}分钟，请稍后重新登录。", locked=True)
    left = max_failures - user.failed_logins
    db_session.commit()
    return ReauthResult(False, f"密码不正确，再输错{left}次账户将被锁定。")
