"""Organisations (enterprises, banks, funds, guarantors, bureaus) and their user accounts."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.codes import INSTITUTION_KINDS, OrgKind, OrgStatus, Size, UserRole
from models.db import Base
from models.types import CodeEnum, Money, utcnow

# GB 32100-2015: the 31 characters a unified social credit code may use, and the weights of its check.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code (in Chinese), or None when it is."""
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位"
    if code != code.upper():
        return "统一社会信用代码的字母须大写"
    bad = [c for c in code if c not in USCC_CHARSET]
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(dict.fromkeys(bad))}（不使用I、O、Z、S、V）"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3至8位应为行政区划代码（数字）"
    if uscc_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None


def valid_uscc(code: str) -> bool:
    return uscc_error(code) is None


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[OrgKind] = mapped_column(CodeEnum(OrgKind))
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[OrgStatus] = mapped_column(CodeEnum(OrgStatus), default=OrgStatus.APPROVED)
    # Null for the city bureau and for institutions that serve the whole city.
    district: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))

    # Enterprise profile.
    uscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    industry: Mapped[str | None] = mapped_column(sa.String(50))
    size: Mapped[Size | None] = mapped_column(CodeEnum(Size))
    founded: Mapped[int | None]
    revenue: Mapped[Decimal | None] = mapped_column(Money)  # 万元 per year
    employees: Mapped[int | None]
    rd_ratio: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 4))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    description: Mapped[str | None] = mapped_column(sa.Text)

    # Private: revealed only by the rules of the demand pool.
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", use_alter=True))
    review_note: Mapped[str | None] = mapped_column(sa.String(500))

    parent: Mapped[Organization | None] = relationship(remote_side=[id], back_populates="branches")
    branches: Mapped[list[Organization]] = relationship(back_populates="parent")
    users: Mapped[list[User]] = relationship(
        back_populates="org", foreign_keys="User.org_id", order_by="User.id"
    )

    @property
    def is_institution(self) -> bool:
        return self.kind in INSTITUTION_KINDS

    @property
    def is_city_bureau(self) -> bool:
        return self.kind == OrgKind.BUREAU and self.district is None

    @property
    def is_approved(self) -> bool:
        return self.status == OrgStatus.APPROVED

    def __repr__(self) -> str:
        return f"<Organization {self.ref} {self.kind} {self.name}>"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[UserRole] = mapped_column(CodeEnum(UserRole), default=UserRole.MEMBER)
    name: Mapped[str] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    # Notifications are also mailed here when the site has an SMTP server configured.
    email: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Lock-out state is in the database so every web worker sees the same count.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped on password change: sessions carrying an older value are logged out everywhere.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    org: Mapped[Organization] = relationship(back_populates="users", foreign_keys=[org_id])

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN

    # The session identity carries the version, so a password change ends other sessions.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def kind(self) -> OrgKind:
        return self.org.kind

    def __repr__(self) -> str:
        return f"<User {self.username}>"
