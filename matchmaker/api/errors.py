"""The one error shape of the API: {"error": {"code", "message", "fields"}} with its HTTP status."""
from __future__ import annotations

import time

from flask import jsonify

from models import db_session

TITLES = {
    400: ("bad_request", "请求有误，无法解析"),
    401: ("unauthorized", "缺少有效的API令牌，或令牌已吊销"),
    403: ("forbidden", "令牌没有执行此操作的权限"),
    404: ("not_found", "对象不存在，或不在本机构的查看范围内"),
    405: ("method_not_allowed", "不支持该请求方式"),
    409: ("conflict", "当前状态不允许此操作"),
    412: ("precondition_failed", "对象已被修改，请重新读取"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请求内容应为JSON"),
    422: ("invalid", "提交的内容有误"),
    429: ("rate_limited", "请求次数过多，请稍后再试"),
    500: ("server_error", "服务器处理请求时出错，请稍后再试"),
    503: ("unavailable", "服务暂不可用，请稍后再试"),
}

# marshmallow's and webargs' English messages, as the API's users read them.
_MESSAGES = {
    "Unknown field.": "不允许的字段",
    "Missing data for required field.": "此项为必填项",
    "Field may not be null.": "不能为空",
    "Not a valid number.": "应为数字",
    "Not a valid integer.": "应为整数",
    "Not a valid string.": "应为字符串",
    "Not a valid date.": "应为日期（YYYY-MM-DD）",
    "Not a valid list.": "应为列表",
    "Not a valid boolean.": "应为布尔值",
    "Invalid input type.": "应为JSON对象",
    "Special numeric values (nan or infinity) are not permitted.": "不允许NaN或无穷大",
}


class ApiError(Exception):
    """Raised anywhere under /api/: becomes the error shape with `status`."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                 lines: list[dict] | None = None):
        default_code, default_message = TITLES.get(status, ("error", "请求失败"))
        self.status, self.code = status, code or default_code
        self.message, self.fields, self.headers = message or default_message, fields or {}, headers or {}
        self.lines = lines
        super().__init__(self.message)


def _translate(msg: str) -> str:
    if msg in _MESSAGES:
        return _MESSAGES[msg]
    if msg.startswith("Must be one of"):
        return "取值不在允许的范围内"
    if msg.startswith(("Must be greater", "Must be less", "Must be at least", "Must be at most")):
        return "数值超出允许的范围"
    if msg.startswith(("Longer than", "Shorter than", "Length must")):
        return "长度超出允许的范围"
    return msg


def flatten(messages, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested {"field": ["msg"]} (or {0: {...}} for lists) as {"field": "中文", "a.0": "…"}."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            out.update(flatten(value, f"{prefix}.{name}".strip(".") if name else prefix))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "body"] = "；".join(_translate(m) for m in messages)
        else:
            for m in messages:
                out.update(flatten(m, prefix))
    else:
        out[prefix or "body"] = _translate(str(messages))
    return out


def response(status: int, message: str | None = None, *, code: str | None = None,
             fields: dict | None = None, headers: dict | None = None):
    e = ApiError(status, message, code=code, fields=fields, headers=headers)
    return error_response(e)


def error_response(e: ApiError):
    body = {"error": {"code": e.code, "message": e.message, "fields": e.fields}}
    if getattr(e, "lines", None) is not None:
        body["error"]["lines"] = e.lines
    resp = jsonify(body)
    resp.status_code = e.status
    resp.headers.update(e.headers)
    return resp


def from_http_exception(e) -> ApiError:
    """Any werkzeug HTTPException under /api/ (webargs' 422, Flask-Limiter's 429, a 404) in the one shape."""
    # The failed call's changes (and its row locks) end here, before the call log is written.
    db_session.rollback()
    status = getattr(e, "code", 500) or 500
    data = getattr(e, "data", None) or {}
    if status == 422 and "messages" in data:
        # webargs: {"json": {...}} or {"query": {...}}; the location is not part of a field's name.
        fields: dict[str, str] = {}
        for msgs in data["messages"].values():
            fields.update(flatten(msgs))
        names = "、".join(fields)
        return ApiError(422, f"提交的内容有误：{names}", code="invalid", fields=fields)
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    if status == 405 and hasattr(e, "get_headers"):
        headers.update({k: v for k, v in e.get_headers() if k == "Allow"})
    return ApiError(status, headers=headers)


def _retry_after() -> int:
    from matchmaker.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)
