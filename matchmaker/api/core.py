"""What every /api/v1 call goes through: bearer-token authentication, scopes, the call log, ETags, idempotency."""
from __future__ import annotations

import contextlib
import hashlib
import json
from functools import wraps

import sqlalchemy as sa
from flask import Response, current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError

from matchmaker.api import tokens
from matchmaker.api.errors import ApiError
from models import IdempotencyKey, OrgKind, db_session, record
from models.api_tokens import hash_secret
from models.types import utcnow

IDEMPOTENCY_KEY_MAX = 200


def bearer_secret() -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, secret = auth.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def rate_limit_key() -> str:
    """Limits count per token (by its hash, before the database is asked); without one, per address."""
    secret = bearer_secret()
    return f"api-token:{hash_secret(secret)}" if secret else f"api-ip:{get_remote_address()}"


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "600 per minute")


def authenticate() -> None:
    """Before every call: the token decides who acts; a session cookie never does (CSRF is off here)."""
    token = tokens.resolve(bearer_secret() or "")
    if token is None:
        raise ApiError(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g.api_token = token
    g.api_actor = tokens.ApiActor(org=token.org, token_ref=token.ref)


def actor() -> tokens.ApiActor:
    return g.api_actor


# Whose tokens a call is for: most calls are an institution's business; the bureau reads the pool and the
# statistics and exports its scope's outcomes.
INSTITUTION, BUREAU = "institution", "bureau"
_WHO_LABEL = {INSTITUTION: "金融机构", BUREAU: "工信局"}


def require_scope(scope: str, who: tuple[str, ...] = (INSTITUTION,)) -> tokens.ApiActor:
    """The acting organisation, once the token is known to carry `scope` and to be of `who` (403 otherwise)."""
    kind = BUREAU if g.api_token.org.kind == OrgKind.BUREAU else INSTITUTION
    if kind not in who:
        names = "或".join(_WHO_LABEL[w] for w in who)
        raise ApiError(403, f"该接口只对{names}的令牌开放", code="wrong_organisation")
    if scope not in (g.api_token.scopes or ()):
        raise ApiError(403, f"令牌没有“{scope}”权限", code="insufficient_scope")
    return g.api_actor


def scoped(scope: str, who: tuple[str, ...] = (INSTITUTION,)):
    """Check the token's scope before the body is parsed: a read-only token hears 403, not a lecture on fields."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_scope(scope, who)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def finish(response: Response) -> Response:
    """After every call: write the call log (token, org, what, status) and answer conditional reads."""
    # Conditional first, so the log says 304 when nothing was sent.
    if request.method == "GET" and response.status_code == 200 and response.is_json:
        response.add_etag()
        response.headers["Cache-Control"] = "private, no-cache"
        response.make_conditional(request)
    elif request.method == "PATCH" and response.status_code == 200 and response.is_json:
        # The new version's tag, for the next If-Match.
        response.add_etag()
    token = getattr(g, "api_token", None)
    if token is not None:
        try:
            token = db_session.merge(token)
            token.last_used_at = utcnow()
            record(g.api_actor, "api.call", token, method=request.method, path=request.path,
                   status=response.status_code, idempotency_key=request.headers.get("Idempotency-Key"))
            db_session.commit()
        except Exception:  # the log must not turn a done change into an error; the change is committed
            current_app.logger.exception("API call log failed")
            db_session.rollback()
    return response


def _multipart_digest() -> bytes:
    """A multipart body by its parts: a retry's boundary differs, its fields and files do not."""
    parts = []
    for name, f in sorted(request.files.items(multi=True), key=lambda x: x[0]):
        data = f.read()
        f.seek(0)
        parts.append([name, f.filename, hashlib.sha256(data).hexdigest()])
    parts += sorted([k, v] for k, v in request.form.items(multi=True))
    return json.dumps(parts, ensure_ascii=False).encode()


def _request_hash() -> str:
    if request.mimetype == "multipart/form-data":
        body = _multipart_digest()
        return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()
    body = request.get_data() or b""
    # Key order and spacing do not make another request.
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def _replay(row: IdempotencyKey, request_hash: str) -> Response:
    if row.request_hash != request_hash:
        raise ApiError(422, "该幂等键已用于另一个请求，请换一个新的 Idempotency-Key", code="idempotency_key_reused",
                       fields={"Idempotency-Key": "已用于内容不同的请求"})
    if row.status_code is None:
        raise ApiError(409, "使用同一幂等键的请求正在处理中，请稍后重试", code="idempotency_in_progress")
    resp = Response(row.response_body, status=row.status_code, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _find(key: str) -> IdempotencyKey | None:
    return db_session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.token_id == g.api_token.id,
                                                              IdempotencyKey.key == key))


def idempotent(view):
    """A creating call retried with the same Idempotency-Key gets the first answer and creates nothing twice.

    The key row is committed before the work starts: of two calls racing with one key, the unique
    constraint lets one through and the other hears 409 (still running) or gets the stored answer.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX:
            raise ApiError(400, f"Idempotency-Key 应为1至{IDEMPOTENCY_KEY_MAX}个字符",
                           fields={"Idempotency-Key": "长度不符"})
        h = _request_hash()
        if (row := _find(key)) is not None:
            return _replay(row, h)
        db_session.add(IdempotencyKey(token_id=g.api_token.id, key=key, request_hash=h))
        try:
            db_session.commit()
        except IntegrityError:
            db_session.rollback()
            return _replay(_find(key), h)
        try:
            resp = view(*args, **kwargs)
        except Exception:
            # Nothing was created: a retry may run again.
            db_session.rollback()
            db_session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.token_id == g.api_token.id,
                                                               IdempotencyKey.key == key))
            db_session.commit()
            raise
        resp = current_app.make_response(resp)
        row = _find(key)
        row.status_code, row.response_body = resp.status_code, resp.get_data(as_text=True)
        db_session.commit()
        return resp

    return wrapped
