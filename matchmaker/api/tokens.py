"""API tokens: create (the secret is shown once), revoke, resolve a bearer secret to the token."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from matchmaker.auth.services import new_ref
from matchmaker.permissions import OrgActor
from models import ApiToken, Organization, OrgKind, db_session, record
from models.api_tokens import BUREAU_SCOPES, PREFIX_LEN, SCOPES, hash_secret
from models.types import utcnow

SECRET_PREFIX = "mm_"
NAME_MAX = 100


class TokenError(Exception):
    """A token change the rules do not allow (Chinese message)."""


@dataclass(frozen=True)
class ApiActor(OrgActor):
    """The organisation acting through a token; the token ref goes into the API call log."""

    token_ref: str = ""


def may_hold_tokens(org: Organization) -> bool:
    """Approved institutions, and the bureaus (city or district), which read their scope and the statistics."""
    return (org.is_institution or org.kind == OrgKind.BUREAU) and org.is_approved


def scopes_for(org: Organization) -> tuple[str, ...]:
    """What a token of `org` may carry: a bureau only reads."""
    return BUREAU_SCOPES if org.kind == OrgKind.BUREAU else SCOPES


def may_manage(user) -> bool:
    """Only the administrators of an approved institution or bureau hold tokens for their organisation."""
    return bool(getattr(user, "is_authenticated", False) and user.is_admin and may_hold_tokens(user.org))


def tokens_of(org: Organization) -> list[ApiToken]:
    return list(db_session.scalars(
        sa.select(ApiToken).where(ApiToken.org_id == org.id).order_by(ApiToken.revoked_at.is_not(None),
                                                                      ApiToken.id.desc())))


def create_token(actor, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token of the actor's institution; returns it with its secret, which is never stored."""
    if not may_manage(actor):
        raise TokenError("只有已审核金融机构或工信局的管理员可以创建API令牌")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise TokenError(f"令牌名称应为1至{NAME_MAX}个字")
    allowed = scopes_for(actor.org)
    if set(scopes or ()) - set(allowed):
        raise TokenError("工信局的令牌只能读取（read）")
    scopes = [s for s in allowed if s in set(scopes or ())]
    if not scopes:
        raise TokenError("请至少选择一项权限")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(ref=new_ref("tk"), org_id=actor.org_id, name=name, prefix=secret[:PREFIX_LEN],
                     secret_hash=hash_secret(secret), scopes=scopes, created_by_id=actor.id)
    db_session.add(token)
    db_session.flush()
    record(actor, "api_token.created", token, name=name, scopes=scopes)
    db_session.commit()
    return token, secret


def revoke_token(actor, token: ApiToken) -> ApiToken:
    """Revoke at once: the next call with it answers 401."""
    if not may_manage(actor) or token.org_id != actor.org_id:
        raise TokenError("只能吊销本机构的API令牌")
    if token.revoked_at is not None:
        raise TokenError("该令牌已吊销")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    record(actor, "api_token.revoked", token, name=token.name)
    db_session.commit()
    return token


def resolve(secret: str) -> ApiToken | None:
    """The active token of an approved institution or bureau whose secret this is, else None."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    # Looked up by hash (a unique index), then compared in constant time.
    token = db_session.scalar(sa.select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None or not token.matches(secret) or not token.is_active:
        return None
    if not may_hold_tokens(token.org):
        return None
    return token
