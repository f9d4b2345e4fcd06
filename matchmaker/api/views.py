"""The /api/v1 endpoints: thin views that authorise with the pages' policies and call the same services."""
from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, g, jsonify, render_template, request, send_file
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from matchmaker.api import core
from matchmaker.api import schemas as s
from matchmaker.api.errors import ApiError
from matchmaker.catalog import services as catalog
from matchmaker.console import services as console
from matchmaker.demands import services as demands
from matchmaker.demands.reveal import enterprise_card
from matchmaker.events import agenda
from matchmaker.events import services as events
from matchmaker.exchange import services as exchange
from matchmaker.extensions import limiter
from matchmaker.offers import services as offers
from matchmaker.permissions import can_view, in_bureau_district
from models import Deal, Demand, Event, EventRegistration, Offer, Organization, OrgKind, Product, db_session

bp = Blueprint("api_v1", __name__, description="政银企基金对接平台集成接口（机构令牌）")
bp.before_request(core.authenticate)
bp.after_request(core.finish)
# Per token (the key is the token's hash), counted before the token is looked up; one budget shared by
# every endpoint (a per-route limit would multiply it by the number of endpoints).
limiter.shared_limit(core.rate_limit, scope="api", key_func=core.rate_limit_key)(bp)
# Calls refused for a bad token count per address: guessing tokens (each guess its own key above) is limited.
limiter.shared_limit(lambda: current_app.config.get("API_AUTH_FAILURE_LIMIT", "30 per minute"), scope="api-auth",
                     key_func=get_remote_address, deduct_when=lambda resp: resp.status_code == 401)(bp)

ERRORS = (400, 401, 403, 404, 409, 422, 429)


def _errors(*codes):
    """Document the error shape for these statuses (flask-smorest's alt_response)."""
    def decorator(view):
        for code in codes:
            view = bp.alt_response(code, schema=s.ErrorSchema, description="错误")(view)
        return view
    return decorator


IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": core.IDEMPOTENCY_KEY_MAX},
                   "description": "重试时使用同一个键：同键同内容返回首次的结果，不会重复创建；同键不同内容返回 422"}


def _idempotent(view):
    return bp.doc(parameters=[IDEMPOTENCY_KEY])(core.idempotent(view))


def _conditional(view):
    """Reads carry an ETag; If-None-Match with it answers 304 without a body."""
    return bp.alt_response(304, description="未修改（If-None-Match 与 ETag 相同）")(view)


def _page(q, args) -> tuple[list, int]:
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
    rows = list(db_session.scalars(q.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])))
    return rows, total


def _visible(model, ref: str, user):
    obj = db_session.scalar(sa.select(model).where(model.ref == ref))
    if obj is None or not can_view(user, obj):
        raise ApiError(404)
    return obj


def _demand_out(d: Demand, user, places: int | None = None) -> dict:
    out = {k: getattr(d, k) for k in ("ref", "title", "description", "amount", "term_months", "purpose",
                                      "financing_types", "collateral", "max_rate", "valid_until", "status",
                                      "published_at")}
    out["places_left"] = places if places is not None else offers.places_left(d)
    out["enterprise"] = enterprise_card(user, d).__dict__
    return out


def _offer_error(e: offers.OfferError):
    fields = {k: v for k, v in e.problems.items() if k}
    # Field problems are a bad request body (422); a rule about the current state is a conflict (409).
    raise ApiError(422 if fields else 409, str(e), code="invalid" if fields else "conflict", fields=fields)


# --- demands --------------------------------------------------------------------------------------


BOTH = (core.INSTITUTION, core.BUREAU)


@bp.route("/demands")
@_conditional
@core.scoped("read", BOTH)
@bp.arguments(s.PoolArgs, location="query")
@bp.response(200, s.PoolPageSchema)
@_errors(401, 403, 422, 429)
def pool(args):
    """需求项目库：已发布的需求（筛选、分面、分页），企业身份按披露规则匿名；工信局令牌只见本辖区。"""
    user = core.require_scope("read", BOTH)
    f = demands.PoolFilters(**{k: args.get(k) for k in ("district", "cluster", "purpose", "financing_type",
                                                         "collateral", "amount_min", "amount_max", "term_min",
                                                         "term_max")})
    demands.expire_demands()
    q = demands.pool_query(f)
    if user.org.kind == OrgKind.BUREAU:
        # A district bureau's pool is its district's, as on its pages.
        q = in_bureau_district(q, user)
    rows, total = _page(q, args)
    places = offers.places_left_many([d.id for d in rows])
    return {"items": [_demand_out(d, user, places[d.id]) for d in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"], "facets": _facets(q)}


def _facets(q) -> dict:
    """Counts of the filtered pool by district, cluster and purpose (as the search page's facets)."""
    sub = q.order_by(None).subquery()
    out = {}
    ids = sa.select(sub.c.id)
    for name, col in (("district", Organization.district), ("cluster", Organization.industry),
                      ("purpose", Demand.purpose)):
        rows = db_session.execute(sa.select(col, sa.func.count()).select_from(Demand).join(Demand.org)
                                  .where(Demand.id.in_(ids)).group_by(col).order_by(sa.func.count().desc()))
        out[name] = [{"value": str(v), "count": n} for v, n in rows if v is not None]
    return out


@bp.route("/demands/<ref>")
@_conditional
@core.scoped("read", BOTH)
@bp.response(200, s.DemandSchema)
@_errors(401, 403, 404, 429)
def demand(ref):
    """读取一项需求；不在查看范围内为 404，企业联系方式仅在披露后给出（工信局：本辖区的需求）。"""
    user = core.require_scope("read", BOTH)
    return _demand_out(_visible(Demand, ref, user), user)


@bp.route("/demands/<ref>/offers", methods=["POST"])
@core.scoped("offers")
@_idempotent
@bp.arguments(s.BidSchema)
@bp.response(201, s.OfferSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def make_offer(body, ref):
    """就需求报价（基金为股权意向）；支持 Idempotency-Key。"""
    user = core.require_scope("offers")
    d = _visible(Demand, ref, user)
    product = None
    if ref_ := body.pop("product", None):
        product = db_session.scalar(sa.select(Product).where(Product.ref == ref_))
        if product is None or product.org_id != user.org_id:
            raise ApiError(422, "只能选择本机构的产品", fields={"product": "不是本机构的产品"})
    kind = body.pop("kind", None)
    try:
        return offers.bid(user, d, body, product=product, kind=kind)
    except offers.OfferError as e:
        _offer_error(e)


# --- offers ---------------------------------------------------------------------------------------


@bp.route("/offers")
@_conditional
@core.scoped("read")
@bp.arguments(s.OfferArgs, location="query")
@bp.response(200, s.OfferPageSchema)
@_errors(401, 403, 422, 429)
def offer_list(args):
    """本机构的申请与方案（最新在前）。"""
    user = core.require_scope("read")
    q = sa.select(Offer).where(Offer.org_id == user.org_id).order_by(Offer.updated_at.desc(), Offer.id.desc())
    if args.get("status"):
        q = q.where(Offer.status == args["status"])
    rows, total = _page(q, args)
    return {"items": rows, "total": total, "page": args["page"], "per_page": args["per_page"]}


@bp.route("/offers/<ref>")
@_conditional
@core.scoped("read")
@bp.response(200, s.OfferSchema)
@_errors(401, 403, 404, 429)
def offer(ref):
    """读取本机构的一项申请或方案（其他机构的方案为 404）。"""
    return _visible(Offer, ref, core.require_scope("read"))


def _own_offer(ref: str, scope: str):
    user = core.require_scope(scope)
    return user, _visible(Offer, ref, user)


IF_MATCH = {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": "读取方案时得到的 ETag：方案此后被改动过则返回 412，不会覆盖他人的修改"}


def _etag_of(schema, obj) -> str:
    """The ETag a GET of `obj` answers with (same serialisation, same hash)."""
    resp = jsonify(schema.dump(obj))
    resp.add_etag()
    return resp.get_etag()[0]


@bp.route("/offers/<ref>", methods=["PATCH"])
@core.scoped("offers")
@bp.doc(parameters=[IF_MATCH])
@bp.arguments(s.OfferPatchSchema)
@bp.response(200, s.OfferSchema)
@_errors(400, 401, 403, 404, 409, 412, 422, 429)
def revise_offer(body, ref):
    """修改待企业确认的方案条款（金额、利率、期限、担保方式、条件、有效期等，只传要改的项）；企业接受、婉拒，或方案撤回、失效后为 409。"""
    user, o = _own_offer(ref, "offers")
    if not body:
        raise ApiError(422, "请至少给出一项要修改的条款", fields={"body": "没有要修改的字段"})
    if_match = request.if_match
    if if_match and not if_match.star_tag and not if_match.contains(_etag_of(s.OfferSchema(), o)):
        raise ApiError(412, "方案在您读取之后已被修改，请重新读取后再修改", code="precondition_failed",
                       fields={"If-Match": "与当前 ETag 不符"})
    try:
        return offers.revise(user, o, body)
    except offers.OfferError as e:
        _offer_error(e)


@bp.route("/offers/<ref>/answer", methods=["POST"])
@core.scoped("offers")
@bp.arguments(s.TermsSchema)
@bp.response(200, s.OfferSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def answer(body, ref):
    """以方案答复企业的申请。"""
    user, o = _own_offer(ref, "offers")
    try:
        return offers.answer(user, o, body)
    except offers.OfferError as e:
        _offer_error(e)


@bp.route("/offers/<ref>/decline", methods=["POST"])
@core.scoped("offers")
@bp.arguments(s.DeclineSchema)
@bp.response(200, s.OfferSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def decline(body, ref):
    """拒绝企业的申请（须写明理由）。"""
    user, o = _own_offer(ref, "offers")
    try:
        return offers.decline(user, o, body["reason"])
    except offers.OfferError as e:
        _offer_error(e)


@bp.route("/offers/<ref>/withdraw", methods=["POST"])
@core.scoped("offers")
@bp.arguments(s.ReasonSchema)
@bp.response(200, s.OfferSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def withdraw(body, ref):
    """在企业接受前撤回方案。"""
    user, o = _own_offer(ref, "offers")
    try:
        return offers.withdraw(user, o, body.get("reason"))
    except offers.OfferError as e:
        _offer_error(e)


# --- deals ----------------------------------------------------------------------------------------


@bp.route("/offers/<ref>/deal", methods=["POST"])
@core.scoped("deals")
@_idempotent
@bp.arguments(s.SignSchema)
@bp.response(201, s.DealSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def sign(body, ref):
    """登记已接受方案的签约；支持 Idempotency-Key。"""
    user, o = _own_offer(ref, "deals")
    try:
        return offers.sign(user, o, signed_amount=body["signed_amount"], signed_on=body["signed_on"],
                           rate=body.get("rate"), term_months=body.get("term_months"))
    except offers.OfferError as e:
        _offer_error(e)


@bp.route("/deals/<ref>/disbursements", methods=["POST"])
@core.scoped("deals")
@_idempotent
@bp.arguments(s.DisburseSchema)
@bp.response(201, s.DealSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def disburse(body, ref):
    """登记一笔放款；支持 Idempotency-Key。"""
    user = core.require_scope("deals")
    deal = _visible(Deal, ref, user)
    try:
        offers.disburse(user, deal, amount=body["amount"], disbursed_on=body["disbursed_on"])
    except offers.OfferError as e:
        _offer_error(e)
    return deal


# --- products -------------------------------------------------------------------------------------


@bp.route("/products")
@_conditional
@core.scoped("read")
@bp.arguments(s.ProductArgs, location="query")
@bp.response(200, s.ProductPageSchema)
@_errors(401, 403, 422, 429)
def products(args):
    """金融产品超市（mine=true：本机构的全部产品）。"""
    user = core.require_scope("read")
    if args["mine"]:
        q = sa.select(Product).where(Product.org_id == user.org_id).order_by(Product.id.desc())
        if args.get("kind"):
            q = q.where(Product.kind == args["kind"])
    else:
        q = catalog.browse_query(catalog.ProductFilters(kind=args.get("kind")))
    rows, total = _page(q, args)
    return {"items": rows, "total": total, "page": args["page"], "per_page": args["per_page"]}


def _product(ref: str, user) -> Product:
    product = _visible(Product, ref, user)
    if product.org_id != user.org_id:
        raise ApiError(404)
    return product


def _product_error(e: catalog.ProductError):
    fields = {k: v for k, v in e.problems.items() if k} if isinstance(e.problems, dict) else {}
    raise ApiError(422 if fields else 409, str(e), code="invalid" if fields else "conflict", fields=fields)


@bp.route("/products", methods=["POST"])
@core.scoped("offers")
@_idempotent
@bp.arguments(s.ProductBodySchema)
@bp.response(201, s.ProductSchema)
@_errors(400, 401, 403, 409, 422, 429)
def create_product(body):
    """发布本机构的产品（立即上架）；支持 Idempotency-Key。"""
    user = core.require_scope("offers")
    try:
        return catalog.create_product(user, body, city=current_app.extensions["city"])
    except catalog.ProductError as e:
        _product_error(e)


@bp.route("/products/<ref>")
@_conditional
@core.scoped("read")
@bp.response(200, s.ProductSchema)
@_errors(401, 403, 404, 429)
def product(ref):
    """读取一项产品（本机构的任一产品，或他机构在架的产品）。"""
    return _visible(Product, ref, core.require_scope("read"))


@bp.route("/products/<ref>", methods=["PUT"])
@core.scoped("offers")
@bp.arguments(s.ProductBodySchema)
@bp.response(200, s.ProductSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def update_product(body, ref):
    """修改本机构产品的条款（整体替换）。"""
    user = core.require_scope("offers")
    try:
        return catalog.update_product(user, _product(ref, user), body, city=current_app.extensions["city"])
    except catalog.ProductError as e:
        _product_error(e)


@bp.route("/products/<ref>/status", methods=["POST"])
@core.scoped("offers")
@bp.arguments(s.ProductStatusSchema)
@bp.response(200, s.ProductSchema)
@_errors(400, 401, 403, 404, 409, 422, 429)
def product_status(body, ref):
    """暂停（pause）、恢复（resume）或下架（retire）本机构的产品。"""
    user = core.require_scope("offers")
    try:
        return catalog.change_status(user, _product(ref, user), body["action"])
    except catalog.ProductError as e:
        _product_error(e)


# --- events ---------------------------------------------------------------------------------------


def _event_out(event: Event, reg: EventRegistration | None) -> dict:
    out = {k: getattr(event, k) for k in ("ref", "title", "kind", "status", "date", "venue", "district")}
    out["registration"] = reg.status if reg else None
    return out


@bp.route("/events")
@_conditional
@core.scoped("read")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.EventPageSchema)
@_errors(401, 403, 422, 429)
def event_list(args):
    """本机构报名的对接活动（日期最近在前）。"""
    user = core.require_scope("read")
    q = (sa.select(Event, EventRegistration).join(EventRegistration, EventRegistration.event_id == Event.id)
         .where(EventRegistration.org_id == user.org_id).order_by(Event.date.desc(), Event.id.desc()))
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
    rows = db_session.execute(q.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).all()
    return {"items": [_event_out(e, r) for e, r in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@bp.route("/events/<ref>/agenda")
@_conditional
@core.scoped("read")
@bp.response(200, s.AgendaSchema)
@_errors(401, 403, 404, 429)
def event_agenda(ref):
    """本机构在活动中的议程：每个时段的桌号与对接企业（未排定时 rows 为空）。"""
    user = core.require_scope("read")
    event = _visible(Event, ref, user)
    reg = events.registration_of(event, user.org)
    if reg is None:
        raise ApiError(404)
    rows = agenda.participant_agenda(event, user.org) if event.meetings else []
    return {"event": _event_out(event, reg), "is_final": bool(event.agenda_is_final),
            "rows": [{"slot": r.slot, "start": r.start, "end": r.end,
                      "table_no": r.meeting.table_no + 1 if r.meeting else None,
                      "partner": r.meeting.enterprise.name if r.meeting else None,
                      "is_requested": r.meeting.is_requested if r.meeting else None} for r in rows]}


# --- the bureau's statistics ----------------------------------------------------------------------


def _number(value):
    return float(value) if isinstance(value, Decimal) else value


@bp.route("/statistics")
@_conditional
@core.scoped("read", (core.BUREAU,))
@bp.arguments(s.StatisticsArgs, location="query")
@bp.response(200, s.StatisticsSchema)
@_errors(401, 403, 404, 422, 429)
def statistics(args):
    """工信局工作台的统计数据（与工作台同一口径）：各项指标的合计与逐月数，首贷、信用贷占比，对接漏斗。

    只对工信局令牌开放；区县工信局只看本区县（指定其他区县为 404）。月份按本市时区，默认最近12个月。
    """
    user = core.require_scope("read", (core.BUREAU,))
    try:
        scope = console.scope_for(user, args.get("start"), args.get("end"), args.get("district"))
    except LookupError:
        raise ApiError(404, "不在本局的统计范围内", fields={"district": "不是本局所辖的区（市）"}) from None
    except console.ConsoleError as e:
        name = "district" if "区（市）" in str(e) else "start"
        raise ApiError(422, str(e), fields={name: str(e)}) from None
    total, trend = console.totals(scope), console.trends(scope)
    return {
        "district": scope.district, "start": scope.labels[0], "end": scope.labels[-1], "months": scope.labels,
        "figures": [{"key": m.key, "title": m.title, "unit": m.unit, "value": _number(total[m.key]),
                     "monthly": [_number(v) for v in trend[m.key]]} for m in console.METRICS],
        "shares": [{k: _number(v) for k, v in row.items() if k != "metric"} for row in console.shares(total)],
        "funnel": [{k: _number(v) for k, v in row.items() if k != "metric"} for row in console.funnel(scope)],
    }


# --- bulk exchange --------------------------------------------------------------------------------

EXPORT_CONTENT = {"application/x-ndjson": {"schema": {"type": "string"}},
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                      {"schema": {"type": "string", "format": "binary"}}}


@bp.route("/exchange/export")
@core.scoped("read", (core.BUREAU,))
@bp.arguments(s.ExportArgs, location="query")
@bp.doc(responses={"200": {"description": "导出文件（附件）", "content": EXPORT_CONTENT}})
@_errors(401, 403, 404, 422, 429)
def exchange_export(args):
    """导出期间内已发布的需求及对接结果（已接受的方案、签约、放款）：JSON Lines 或省平台模板 Excel。

    只对工信局令牌开放；区县工信局只导出本区县（指定其他区县为 404）。
    """
    user = core.require_scope("read", (core.BUREAU,))
    city = current_app.extensions["city"]
    try:
        scope = exchange.export_scope(city, args["start"], args["end"], args.get("district"), user=user)
        data, name, mime = exchange.export_file(args["format"], scope, city, actor=user)
    except LookupError:
        raise ApiError(404, "不在本局的导出范围内", fields={"district": "不是本局所辖的区（市）"}) from None
    except exchange.ExchangeError as e:
        raise ApiError(422, str(e), fields={e.field or "body": str(e)}) from None
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@bp.route("/exchange/import", methods=["POST"])
@core.scoped("offers")
@_idempotent
@bp.arguments(s.ImportFileSchema, location="files")
@bp.response(201, s.ImportResultSchema)
@_errors(400, 401, 403, 409, 413, 422, 429)
def exchange_import(files):
    """报送本机构的产品和对接结果：JSON Lines（product、offer、deal 行）或省平台模板工作簿的“金融产品”“对接结果”表。

    全部通过校验才导入；否则 422，error.lines 列出每一处有误的行、字段与原因，什么也不导入。
    只能报送本机构的数据、本机构可见的需求；签约行（deal）还需要令牌有 deals 权限。
    """
    user = core.require_scope("offers")
    upload = files["file"]
    try:
        report = exchange.import_file(user, upload.filename, upload.read(), current_app.extensions["city"],
                                      scopes=tuple(g.api_token.scopes or ()))
    except exchange.ExchangeError as e:
        raise ApiError(422, str(e), fields={"file": str(e)}) from None
    if not report.ok:
        lines = report.as_json()["errors"]
        raise ApiError(422, f"共 {len(lines)} 处有误，未导入任何数据：{report.errors[0]}", code="invalid_file",
                       fields={"file": str(report.errors[0])}, lines=lines)
    return {"imported": dict(report.counts)}, 201


def docs_page():
    """The browsable documentation (Swagger UI from static/vendor; its init code is a static file)."""
    return render_template("api/docs.html", spec_url="/api/v1/openapi.json",
                           version=current_app.config.get("API_VERSION"))
