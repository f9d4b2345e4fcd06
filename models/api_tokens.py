"""API tokens of institutions and bureaus (stored hashed) and the idempotency keys of their creating calls."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.organizations import Organization, User
from models.types import utcnow

# What a token may do: read everything its organisation's users may read; make and answer offers and
# manage the institution's products; record signings and disbursements.
SCOPES = ("read", "offers", "deals")
# A bureau's token reads what its users read (its district, or the city) and the statistics; it changes nothing.
BUREAU_SCOPES = ("read",)
SCOPE_LABELS = {"read": "读取", "offers": "报价、答复与产品管理", "deals": "签约与放款"}
# The visible start of a token ("mm_3f9a…"): enough for a person to tell tokens apart, useless to a thief.
PREFIX_LEN = 11


def hash_secret(secret: str) -> str:
    """sha256 of a high-entropy secret: no salt or slow hash is needed, a guess is hopeless anyway."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    org: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))

    def __repr__(self) -> str:
        return f"<ApiToken {self.ref} {self.prefix}…>"


class IdempotencyKey(Base):
    """The first answer to a creating call, replayed when the client retries with the same key."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(sa.String(200))
    # sha256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    # Empty while the first call is still running.
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
