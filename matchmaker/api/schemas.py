"""marshmallow schemas of the API: what each call accepts (unknown fields refused) and answers."""
from __future__ import annotations

from datetime import UTC

from flask_smorest.fields import Upload
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from models import Collateral, FinancingType, Purpose
from models.codes import DemandStatus
from models.offers import OfferStatus
from models.products import ProductKind


def _codes(enum) -> validate.OneOf:
    return validate.OneOf([e.value for e in enum])


class Bounds(validate.Validator):
    """A range check for decimals; the document gets plain numbers (validate.Range would print Decimals as strings)."""

    def __init__(self, lo, hi, *, exclusive_min: bool = False):
        self.lo, self.hi, self.exclusive_min = lo, hi, exclusive_min

    def __call__(self, value):
        if value is None:
            return value
        if value < self.lo or value > self.hi or (self.exclusive_min and value == self.lo):
            raise ValidationError(f"应在{self.lo}至{self.hi}之间" + ("（不含下限）" if self.exclusive_min else ""))
        return value


def Decimal(lo, hi, *, exclusive_min: bool = False, **kw) -> fields.Decimal:
    """A decimal in; bounds keep it inside its column (Numeric(14, 4) money, Numeric(6, 3) rates)."""
    meta = {"minimum": lo, "maximum": hi, **({"exclusiveMinimum": True} if exclusive_min else {}),
            **kw.pop("metadata", {})}
    return fields.Decimal(validate=Bounds(lo, hi, exclusive_min=exclusive_min), allow_nan=False, metadata=meta,
                          **kw)


MONEY_MAX = 10**9
TERM = validate.Range(min=1, max=360)
Money = fields.Float   # answers: 万元 as a JSON number (stored exactly; four decimals fit a double)


class DateTime(fields.DateTime):
    """Stored times are naive UTC; answers say so (RFC 3339 wants the offset)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


# --- errors and pages -----------------------------------------------------------------------------


class LineProblemSchema(Schema):
    line = fields.Integer(metadata={"description": "文件中的行号（工作簿为行号，表头为第1行）"})
    sheet = fields.String(metadata={"description": "工作表（仅工作簿）"})
    field = fields.String(allow_none=True, metadata={"description": "字段（工作簿为列名）"})
    message = fields.String()


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    # Before `fields`, which shadows the module inside this class body.
    lines = fields.List(fields.Nested(LineProblemSchema),
                        metadata={"description": "导入文件时：每一处有误的行（此时未导入任何数据）"})
    fields = fields.Dict(keys=fields.String(), values=fields.String())


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item, name: str, **extra) -> type[Schema]:
    attrs = {"items": fields.List(fields.Nested(item), required=True), "total": fields.Integer(required=True),
             "page": fields.Integer(required=True), "per_page": fields.Integer(required=True), **extra}
    return Schema.from_dict(attrs, name=name)


# --- demands --------------------------------------------------------------------------------------


class PoolArgs(PageArgs):
    district = fields.String(validate=validate.Length(max=50))
    cluster = fields.String(validate=validate.Length(max=50))
    purpose = fields.String(validate=_codes(Purpose))
    financing_type = fields.String(validate=_codes(FinancingType))
    collateral = fields.String(validate=_codes(Collateral))
    amount_min = Decimal(0, MONEY_MAX)
    amount_max = Decimal(0, MONEY_MAX)
    term_min = fields.Integer(validate=validate.Range(min=0, max=1000))
    term_max = fields.Integer(validate=validate.Range(min=0, max=1000))


class EnterpriseSchema(Schema):
    """The enterprise as the reveal rule lets this institution see it; identity fields are null until revealed."""

    district = fields.String(allow_none=True)
    cluster = fields.String(allow_none=True)
    size = fields.String(allow_none=True)
    revenue_band = fields.String()
    tags = fields.List(fields.String())
    revealed = fields.Boolean()
    name = fields.String(allow_none=True)
    uscc = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)


class DemandSchema(Schema):
    ref = fields.String()
    title = fields.String()
    description = fields.String()
    amount = Money()
    term_months = fields.Integer()
    purpose = fields.String(validate=_codes(Purpose))
    financing_types = fields.List(fields.String())
    collateral = fields.List(fields.String())
    max_rate = fields.Float(allow_none=True)
    valid_until = fields.Date()
    status = fields.String(validate=_codes(DemandStatus))
    published_at = DateTime(allow_none=True)
    places_left = fields.Integer()
    enterprise = fields.Nested(EnterpriseSchema)


FacetSchema = Schema.from_dict({"value": fields.String(), "count": fields.Integer()}, name="Facet")
PoolPageSchema = page_schema(DemandSchema, "DemandPage", facets=fields.Dict(
    keys=fields.String(), values=fields.List(fields.Nested(FacetSchema))))


# --- offers and deals -----------------------------------------------------------------------------


class TermsSchema(Strict):
    """An offer's terms (万元, % per year, months); equity leaves the rate out and may give stake and valuation."""

    amount = Decimal(0, MONEY_MAX, exclusive_min=True, required=True)
    rate = Decimal(0, 36, allow_none=True)
    term_months = fields.Integer(validate=TERM, allow_none=True)
    collateral = fields.List(fields.String(validate=_codes(Collateral)), load_default=list)
    conditions = fields.String(validate=validate.Length(max=2000), allow_none=True)
    valid_until = fields.Date(required=True)
    rate_reason = fields.String(validate=validate.Length(max=500), allow_none=True)
    stake_percent = Decimal(0, 100, exclusive_min=True, allow_none=True)
    valuation_min = Decimal(0, MONEY_MAX, exclusive_min=True, allow_none=True)
    valuation_max = Decimal(0, MONEY_MAX, exclusive_min=True, allow_none=True)


class OfferPatchSchema(Strict):
    """The terms to change on an offer awaiting the enterprise's decision; what is left out keeps its value."""

    amount = Decimal(0, MONEY_MAX, exclusive_min=True)
    rate = Decimal(0, 36, allow_none=True)
    term_months = fields.Integer(validate=TERM, allow_none=True)
    collateral = fields.List(fields.String(validate=_codes(Collateral)))
    conditions = fields.String(validate=validate.Length(max=2000), allow_none=True)
    valid_until = fields.Date()
    rate_reason = fields.String(validate=validate.Length(max=500), allow_none=True)
    stake_percent = Decimal(0, 100, exclusive_min=True, allow_none=True)
    valuation_min = Decimal(0, MONEY_MAX, exclusive_min=True, allow_none=True)
    valuation_max = Decimal(0, MONEY_MAX, exclusive_min=True, allow_none=True)


class BidSchema(TermsSchema):
    product = fields.String(validate=validate.Length(max=64), allow_none=True,
                            metadata={"description": "本机构产品的 ref（可选）"})
    kind = fields.String(validate=_codes(ProductKind), allow_none=True)


class ReasonSchema(Strict):
    reason = fields.String(validate=validate.Length(max=500), allow_none=True)


class DeclineSchema(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SignSchema(Strict):
    signed_amount = Decimal(0, MONEY_MAX, exclusive_min=True, required=True)
    signed_on = fields.Date(required=True)
    rate = Decimal(0, 36, allow_none=True)
    term_months = fields.Integer(validate=TERM, allow_none=True)


class DisburseSchema(Strict):
    amount = Decimal(0, MONEY_MAX, exclusive_min=True, required=True)
    disbursed_on = fields.Date(required=True)


class DisbursementSchema(Schema):
    amount = Money()
    disbursed_on = fields.Date()


class DealSchema(Schema):
    ref = fields.String()
    offer = fields.Function(lambda d: d.offer.ref, metadata={"type": "string"})
    signed_amount = Money()
    signed_on = fields.Date()
    rate = fields.Float()
    term_months = fields.Integer()
    disbursed_amount = Money()
    disbursements = fields.List(fields.Nested(DisbursementSchema))


class OfferSchema(Schema):
    ref = fields.String()
    demand = fields.Function(lambda o: o.demand.ref, metadata={"type": "string"})
    product = fields.Function(lambda o: o.product.ref if o.product else None,
                              metadata={"type": "string", "nullable": True})
    origin = fields.String()
    kind = fields.String()
    status = fields.String(validate=_codes(OfferStatus))
    amount = Money(allow_none=True)
    rate = fields.Float(allow_none=True)
    term_months = fields.Integer(allow_none=True)
    collateral = fields.List(fields.String())
    conditions = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    rate_reason = fields.String(allow_none=True)
    stake_percent = fields.Float(allow_none=True)
    valuation_min = fields.Float(allow_none=True)
    valuation_max = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    deadline_at = DateTime(allow_none=True)
    created_at = DateTime()
    deal = fields.Nested(DealSchema, allow_none=True)


class OfferArgs(PageArgs):
    status = fields.String(validate=_codes(OfferStatus))


OfferPageSchema = page_schema(OfferSchema, "OfferPage")


# --- products -------------------------------------------------------------------------------------


class ProductSchema(Schema):
    ref = fields.String()
    org = fields.Function(lambda p: p.org.name, metadata={"type": "string"})
    kind = fields.String()
    name = fields.String()
    description = fields.String()
    amount_min = Money()
    amount_max = Money()
    term_min = fields.Integer()
    term_max = fields.Integer()
    rate_min = fields.Float()
    rate_max = fields.Float()
    collateral = fields.List(fields.String())
    industries = fields.List(fields.String())
    districts = fields.List(fields.String())
    sizes = fields.List(fields.String())
    purposes = fields.List(fields.String())
    tags = fields.List(fields.String())
    status = fields.String()


class ProductArgs(PageArgs):
    mine = fields.Boolean(load_default=False, metadata={"description": "只列本机构的产品（含暂停、下架）"})
    kind = fields.String(validate=_codes(ProductKind))


ProductPageSchema = page_schema(ProductSchema, "ProductPage")


def _codes_list(max_items: int = 50) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(max=50)), load_default=list,
                       validate=validate.Length(max=max_items))


class ProductBodySchema(Strict):
    """A product's terms; the catalog's own rules check the codes, districts and clusters."""

    kind = fields.String(required=True, validate=_codes(ProductKind))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    amount_min = Decimal(0, MONEY_MAX, exclusive_min=True, required=True)
    amount_max = Decimal(0, MONEY_MAX, exclusive_min=True, required=True)
    term_min = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))
    term_max = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))
    rate_min = Decimal(0, 36, allow_none=True)
    rate_max = Decimal(0, 36, allow_none=True)
    collateral = _codes_list()
    industries = _codes_list()
    districts = _codes_list()
    sizes = _codes_list()
    purposes = _codes_list()
    tags = _codes_list()
    approval_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=365))
    stage = fields.String(allow_none=True, validate=validate.Length(max=32))


class ProductStatusSchema(Strict):
    action = fields.String(required=True, validate=validate.OneOf(["pause", "resume", "retire"]))


# --- events ---------------------------------------------------------------------------------------


class EventSchema(Schema):
    ref = fields.String()
    title = fields.String()
    kind = fields.String()
    status = fields.String()
    date = fields.Date()
    venue = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    registration = fields.String(allow_none=True, metadata={"description": "本机构的报名状态"})


EventPageSchema = page_schema(EventSchema, "EventPage")


class AgendaRowSchema(Schema):
    slot = fields.Integer()
    start = fields.String()
    end = fields.String()
    table_no = fields.Integer(allow_none=True)
    partner = fields.String(allow_none=True, metadata={"description": "对接的企业（机构看企业名称）"})
    is_requested = fields.Boolean(allow_none=True)


class AgendaSchema(Schema):
    event = fields.Nested(EventSchema)
    is_final = fields.Boolean()
    rows = fields.List(fields.Nested(AgendaRowSchema))


# --- the bureau's statistics and exchange ---------------------------------------------------------

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="应为月份（YYYY-MM）")


class StatisticsArgs(Strict):
    start = fields.String(validate=MONTH, metadata={"description": "起始月份 YYYY-MM（默认：结束月份前11个月）"})
    end = fields.String(validate=MONTH, metadata={"description": "结束月份 YYYY-MM（默认：本月）"})
    district = fields.String(validate=validate.Length(max=50),
                             metadata={"description": "区（市）；市工信局可选，区县工信局只能是本区县"})


class FigureSchema(Schema):
    key = fields.String()
    title = fields.String()
    unit = fields.String()
    value = fields.Float(metadata={"description": "统计期间合计（金额为万元）"})
    monthly = fields.List(fields.Float(), metadata={"description": "逐月数，与 months 对应"})


class ShareSchema(Schema):
    key = fields.String()
    title = fields.String()
    numerator = fields.Integer()
    denominator = fields.Integer()
    percent = fields.Float(allow_none=True)


class FunnelStageSchema(Schema):
    key = fields.String()
    title = fields.String()
    demands = fields.Integer()
    percent = fields.Float(allow_none=True, metadata={"description": "相对上一环节的百分比"})


class StatisticsSchema(Schema):
    district = fields.String(allow_none=True, metadata={"description": "null 为全市"})
    start = fields.String()
    end = fields.String()
    months = fields.List(fields.String())
    figures = fields.List(fields.Nested(FigureSchema))
    shares = fields.List(fields.Nested(ShareSchema))
    funnel = fields.List(fields.Nested(FunnelStageSchema))


class ExportArgs(Strict):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(["jsonl", "xlsx"]),
                           metadata={"description": "jsonl（DESIGN §9）或 xlsx（省平台模板）"})
    start = fields.Date(required=True, data_key="from", metadata={"description": "起始日期（含）"})
    end = fields.Date(required=True, data_key="to", metadata={"description": "结束日期（含）"})
    district = fields.String(validate=validate.Length(max=50),
                             metadata={"description": "区（市）；区县工信局只能是本区县"})


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "省平台模板工作簿（.xlsx，读取“金融产品”“对接结果”表）或 JSON Lines"})


class ImportResultSchema(Schema):
    imported = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "各类型导入的数量：product、offer、deal"})
