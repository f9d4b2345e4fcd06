"""Bulk exchange: the outcomes of a period exported upward, and institutions' products and outcomes imported.

Export (the bureau, or the command line): the demands that reached the pool — published, matched,
signed or funded — that were published, accepted, signed or paid out in the period, their accepted
offers and the deals on them; as the JSON Lines of DESIGN §9 (the interchange's own dumpers, with the
organisations, projects and products they refer to) or as the provincial workbook (template.py).

Import (an institution): a JSON Lines file of `product`, `offer` and `deal` lines, or the workbook's
金融产品 and 对接结果 sheets, through the interchange's all-or-nothing import: only its own objects, only outcomes
for demands it may see. Accepted offers and deals reported this way move their demand on (已对接,
已签约, 已放款) and reveal the enterprise to the institution, as the same steps on the pages would.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from matchmaker.auth.services import new_ref
from matchmaker.demands import services as demands
from matchmaker.exchange import template as T
from matchmaker.interchange import services as interchange
from matchmaker.interchange.fields import LineError
from matchmaker.interchange.registry import TYPES, ImportContext, load_all_types
from matchmaker.offers.services import funding_totals
from matchmaker.permissions import OrgActor, can_view
from matchmaker.workdays import local_day, local_midnight
from models import (
    Deal,
    Demand,
    DemandStatus,
    Disbursement,
    Offer,
    OfferStatus,
    Organization,
    OrgKind,
    Product,
    db_session,
    record,
)
from models.codes import label
from models.products import COLLATERAL_CODES, PURPOSE_CODES, SIZE_CODES, ProductKind, ProductStatus

# The demands a report carries: those that reached the pool and stayed there or went further.
REPORTED = (DemandStatus.PUBLISHED, DemandStatus.MATCHED, DemandStatus.SIGNED, DemandStatus.FUNDED)
FORMATS = ("jsonl", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSONL_MIMETYPE = "application/x-ndjson"
# What an institution may import, and the token scope each line needs.
IMPORTABLE = {"product": "offers", "offer": "offers", "deal": "deals"}
FILE_MAX = 10 * 1024 * 1024
MAX_DAYS = 3 * 366


class ExchangeError(Exception):
    """A request the exchange cannot serve (bad period, district, file); the message is Chinese."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- the period and scope of an export --------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    """Local dates, both included; `district` None is the whole city."""

    start: date
    end: date
    district: str | None = None

    def label(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}" + (f"-{self.district}" if self.district else "")


def parse_date(text, field: str) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ExchangeError(f"“{text}”不是有效的日期（格式：2026-10-01）", field) from None


def export_scope(city, start, end, district: str | None = None, *, user=None) -> ExportScope:
    """The scope asked for; a district bureau is held to its own district (LookupError for another)."""
    start, end = parse_date(start, "from"), parse_date(end, "to")
    if start > end:
        raise ExchangeError("起始日期不能晚于结束日期", "from")
    if (end - start).days > MAX_DAYS:
        raise ExchangeError("导出期间最长3年", "to")
    district = district or None
    own = user.org.district if user is not None else None
    if user is not None and own is not None:
        if district and district != own:
            raise LookupError(district)
        district = own
    if district is not None and district not in city.districts:
        raise ExchangeError(f"“{district}”不是本市的区（市）", "district")
    return ExportScope(start, end, district)


def _utc_bounds(scope: ExportScope, city) -> tuple[datetime, datetime]:
    return local_midnight(scope.start, city), local_midnight(scope.end + timedelta(days=1), city)


def reported_demands(scope: ExportScope, city) -> list[Demand]:
    """Demands in the pool or beyond, published or with an outcome (accepted, signed, paid) in the period."""
    lo, hi = _utc_bounds(scope, city)
    accepted = sa.exists().where(Offer.demand_id == Demand.id, Offer.status == OfferStatus.ACCEPTED,
                                 Offer.accepted_at >= lo, Offer.accepted_at < hi)
    signed = sa.exists().where(Deal.offer_id == Offer.id, Offer.demand_id == Demand.id,
                               Deal.signed_on >= scope.start, Deal.signed_on <= scope.end)
    paid = sa.exists().where(Disbursement.deal_id == Deal.id, Deal.offer_id == Offer.id,
                             Offer.demand_id == Demand.id, Disbursement.disbursed_on >= scope.start,
                             Disbursement.disbursed_on <= scope.end)
    q = (sa.select(Demand).join(Demand.org).where(
        Demand.status.in_(REPORTED),
        sa.or_(sa.and_(Demand.published_at >= lo, Demand.published_at < hi), accepted, signed, paid))
        .order_by(Demand.published_at, Demand.id))
    if scope.district:
        q = q.where(Organization.district == scope.district)
    return list(db_session.scalars(q))


def outcome_offers(demand_list: list[Demand]) -> list[Offer]:
    """The accepted offers of these demands (the outcomes), in the order they were accepted."""
    if not demand_list:
        return []
    return list(db_session.scalars(
        sa.select(Offer).where(Offer.demand_id.in_([d.id for d in demand_list]), Offer.status == OfferStatus.ACCEPTED)
        .order_by(Offer.accepted_at, Offer.id)))


# --- JSON Lines --------------------------------------------------------------------------------------


def _with_parents(orgs: list[Organization]) -> list[Organization]:
    """The organisations and their parents, each parent before its branches."""
    out: dict[int, Organization] = {}

    def add(o: Organization):
        if o.id in out:
            return
        if o.parent is not None:
            add(o.parent)
        out[o.id] = o

    for o in orgs:
        add(o)
    return list(out.values())


def export_jsonl(out: IO[str], scope: ExportScope, city) -> Counter:
    """The period's outcomes as DESIGN §9 lines, with every organisation, project and product they refer to."""
    load_all_types()
    ctx = ImportContext(city=city)
    ds = reported_demands(scope, city)
    offers = outcome_offers(ds)
    deals = [o.deal for o in offers if o.deal is not None]
    orgs = [d.org for d in ds] + [b.org for d in ds for b in d.intended_banks] + [o.org for o in offers]
    projects = {d.project.id: d.project for d in ds if d.project is not None}
    products = {o.product.id: o.product for o in offers if o.product is not None}
    counts: Counter = Counter()
    for type_name, objs in (("organization", _with_parents(orgs)),
                            ("tech_project", sorted(projects.values(), key=lambda p: p.id)),
                            ("product", sorted(products.values(), key=lambda p: p.id)),
                            ("demand", ds), ("offer", offers), ("deal", deals)):
        t = TYPES[type_name]
        for obj in objs:
            out.write(json.dumps({"type": type_name, **t.dump(obj, ctx)}, ensure_ascii=False,
                                 separators=(",", ":")) + "\n")
            counts[type_name] += 1
    return counts


# --- the workbook ------------------------------------------------------------------------------------


def _local_date(value: datetime | None, city) -> date | None:
    return None if value is None else local_day(value, city)


def demand_row(d: Demand, city) -> list:
    org = d.org
    return [d.ref, org.name, org.uscc, org.district, org.industry, d.amount, d.term_months, label(str(d.purpose)),
            "、".join(label(t) for t in d.financing_types or ()), label(str(d.status)),
            _local_date(d.published_at, city)]


def outcome_row(o: Offer, city) -> list:
    deal = o.deal
    paid = sum((r.amount for r in deal.disbursements), Decimal(0)) if deal else Decimal(0)
    last_paid = max((r.disbursed_on for r in deal.disbursements), default=None) if deal else None
    return [o.ref, o.demand.ref, o.org.name, o.product.name if o.product else None, label(o.kind.value),
            o.amount, o.rate, o.term_months, _local_date(o.accepted_at, city),
            deal.signed_amount if deal else None, deal.signed_on if deal else None,
            paid if paid else None, last_paid]


def _cell(value, kind: str):
    if value is None:
        return None
    if kind in (T.MONEY, T.RATE):
        return float(value)
    return value


def _write_sheet(wb: Workbook, sheet: T.Sheet, rows: list[list]) -> None:
    ws = wb.create_sheet(sheet.title)
    ws.append(sheet.headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in rows:
        ws.append([_cell(v, c.kind) for v, c in zip(row, sheet.columns, strict=True)])
    for i, col in enumerate(sheet.columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = col.width
        if col.kind == T.DATE:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"


def export_workbook(scope: ExportScope, city) -> io.BytesIO:
    """The provincial template: 融资需求 (the reported demands) and 对接结果 (their accepted offers and deals)."""
    ds = reported_demands(scope, city)
    wb = Workbook()
    wb.remove(wb.active)
    _write_sheet(wb, T.DEMANDS, [demand_row(d, city) for d in ds])
    _write_sheet(wb, T.OUTCOMES, [outcome_row(o, city) for o in outcome_offers(ds)])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def export_file(fmt: str, scope: ExportScope, city, actor=None) -> tuple[bytes, str, str]:
    """(content, file name, mimetype) of an export; audited when someone asked for it."""
    if fmt not in FORMATS:
        raise ExchangeError("格式应为 jsonl 或 xlsx", "format")
    if fmt == "xlsx":
        data = export_workbook(scope, city).getvalue()
    else:
        buf = io.StringIO()
        export_jsonl(buf, scope, city)
        data = buf.getvalue().encode()
    if actor is not None:
        record(actor, "exchange.exported", actor.org, format=fmt, start=scope.start.isoformat(),
               end=scope.end.isoformat(), district=scope.district)
        db_session.commit()
    name = f"对接成果-{scope.label()}.{fmt}"
    return data, name, XLSX_MIMETYPE if fmt == "xlsx" else JSONL_MIMETYPE


# --- import from an institution ----------------------------------------------------------------------


class InstitutionGuard:
    """An institution's file: its own products, offers and deals only, on demands it may see."""

    def __init__(self, actor, scopes: tuple[str, ...] | None = None):
        self.actor, self.org, self.scopes = actor, actor.org, scopes

    def check_line(self, data: dict) -> None:
        type_name = data["type"]
        if type_name not in IMPORTABLE:
            raise LineError("type", "机构只能导入产品（product）、方案（offer）和签约（deal）")
        need = IMPORTABLE[type_name]
        if self.scopes is not None and need not in self.scopes:
            raise LineError("type", f"令牌没有“{need}”权限，不能导入{type_name}")
        if type_name in ("product", "offer") and data.get("org") != self.org.ref:
            raise LineError("org", f"只能导入本机构（{self.org.name}，{self.org.ref}）的数据，不能导入“{data.get('org')}”的")

    def check_object(self, type_name: str, obj) -> None:
        if type_name == "offer" and not can_view(self.actor, obj.demand):
            raise LineError("demand", f"需求“{obj.demand.ref}”不在本机构可见的范围内（须为需求库中的需求，或已向本机构披露）")
        if type_name == "deal" and obj.offer.org.id != self.org.id:
            raise LineError("offer", f"方案“{obj.offer.ref}”不是本机构的方案")

    def finish(self, objects: list[tuple[str, object]]) -> None:
        """Reported outcomes move their demands on, as accepting, signing and paying out on the pages do."""
        touched: dict[int, Demand] = {}
        for type_name, obj in objects:
            offer = obj if type_name == "offer" else obj.offer if type_name == "deal" else None
            if offer is not None and offer.status == OfferStatus.ACCEPTED:
                demands.disclose(offer.demand, self.org, "accepted", self.actor, commit=False)
                touched[offer.demand.id] = offer.demand
        for demand in touched.values():
            has_deal = db_session.scalar(sa.select(Deal.id).join(Deal.offer).where(Offer.demand_id == demand.id)
                                         .limit(1)) is not None
            note = f"{self.org.name}报送的对接结果"
            if demand.status == DemandStatus.PUBLISHED:
                demands.mark_matched(demand, self.actor, note, commit=False)
            if demand.status == DemandStatus.MATCHED and has_deal:
                demands.mark_signed(demand, self.actor, note, commit=False)
            signed, paid = funding_totals(demand)
            if demand.status == DemandStatus.SIGNED and signed > 0 and paid >= signed:
                demands.mark_funded(demand, self.actor, note, commit=False)


def _audit(actor, report: interchange.ImportReport, fmt: str, name: str | None) -> None:
    # The import's own entries roll back with a refused file: the attempt is recorded apart.
    record(actor, "exchange.imported" if report.ok else "exchange.import_refused", actor.org, format=fmt,
           file=name, imported=dict(report.counts) if report.ok else {}, errors=len(report.errors))
    db_session.commit()


def import_jsonl(actor, lines: list[str], city, *, scopes=None, name: str | None = None,
                 progress=None) -> interchange.ImportReport:
    """An institution's JSON Lines file, all or nothing."""
    report = interchange.import_lines(lines, city=city, actor=actor, guard=InstitutionGuard(actor, scopes),
                                      progress=progress)
    _audit(actor, report, "jsonl", name)
    return report


def _cell_in(value, kind: str):
    """A workbook cell as an interchange value: dates as ISO text, whole numbers as integers, text trimmed."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if kind == T.INT and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


KIND_BY_LABEL = {label(k.value): k.value for k in ProductKind} | {k.value: k.value for k in ProductKind}
STATUS_BY_LABEL = {label(st.value): st.value for st in ProductStatus} | {st.value: st.value for st in ProductStatus}
_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")


def _codes_of(text, codes: tuple[str, ...], context: str | None = None) -> list[str] | None:
    """A cell listing labels ("信用、设备抵押") as codes; an unknown word passes through for the line's own check."""
    if text is None:
        return None
    by_label = {label(c, context): c for c in codes} | {c: c for c in codes}
    return [by_label.get(w, w) for w in _LIST_SPLIT.split(str(text)) if w]


def _words(text) -> list[str] | None:
    return None if text is None else [w for w in _LIST_SPLIT.split(str(text)) if w]


class _RowReader:
    """Turns rows of the 金融产品 and 对接结果 sheets into the importing institution's `product`, `offer`, `deal` lines."""

    def __init__(self, org: Organization):
        self.org = org
        products = list(db_session.scalars(sa.select(Product).where(Product.org_id == org.id)))
        self.refs = {p.ref for p in products}
        self.by_name: dict[str, list[str]] = {}
        for p in products:
            self.by_name.setdefault(p.name, []).append(p.ref)

    def _own(self, v: dict) -> None:
        who = v.get("金融机构")
        if who is None:
            raise LineError("金融机构", "缺少必填字段")
        if who not in (self.org.name, self.org.ref):
            raise LineError("金融机构", f"只能导入本机构（{self.org.name}）的数据，不能导入“{who}”的")

    def product(self, text) -> str | None:
        if text is None:
            return None
        if text in self.refs:
            return text
        found = self.by_name.get(str(text), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise LineError("产品", f"本机构有多个名为“{text}”的产品，请填写产品编号")
        raise LineError("产品", f"“{text}”不是本机构的产品")

    def product_lines(self, v: dict) -> list[dict]:
        self._own(v)
        kind = v.get("产品类型")
        if kind is not None and kind not in KIND_BY_LABEL:
            raise LineError("产品类型", f"“{kind}”不是产品类型，应为：贷款、股权投资、融资担保、融资租赁")
        status = v.get("状态")
        if status is not None and status not in STATUS_BY_LABEL:
            raise LineError("状态", f"“{status}”不是产品状态，应为：在售、已暂停、已下架")
        ref = v.get("产品编号") or new_ref("pd")
        line = {"type": "product", "ref": ref, "org": self.org.ref, "name": v.get("产品名称"),
                "kind": KIND_BY_LABEL.get(kind) if kind else None, "description": v.get("产品说明"),
                "amount_min": v.get("金额下限（万元）"), "amount_max": v.get("金额上限（万元）"),
                "term_min": v.get("期限下限（月）"), "term_max": v.get("期限上限（月）"),
                "rate_min": v.get("利率下限（%）"), "rate_max": v.get("利率上限（%）"),
                "collateral": _codes_of(v.get("担保方式"), COLLATERAL_CODES, "collateral"),
                "districts": _words(v.get("适用区（市）")), "industries": _words(v.get("适用产业")),
                "sizes": _codes_of(v.get("适用企业规模"), SIZE_CODES), "purposes": _codes_of(v.get("适用用途"), PURPOSE_CODES),
                "tags": _words(v.get("标签")), "approval_days": v.get("审批时效（天）"),
                "status": STATUS_BY_LABEL.get(status) if status else None}
        # Later outcome rows may name the product.
        self.refs.add(ref)
        if line["name"]:
            self.by_name.setdefault(str(line["name"]), []).append(ref)
        return [{k: x for k, x in line.items() if x is not None}]

    def outcome_lines(self, v: dict) -> list[dict]:
        self._own(v)
        product = self.product(v.get("产品"))
        kind = v.get("方案类型")
        if kind is not None and kind not in KIND_BY_LABEL:
            raise LineError("方案类型", f"“{kind}”不是方案类型，应为：贷款、股权投资、融资担保、融资租赁")
        ref = v.get("方案编号") or new_ref("of")
        accepted = v.get("接受日期") or v.get("签约日期") or demands.local_today().isoformat()
        accepted_at = f"{accepted}T00:00:00" if isinstance(accepted, str) and len(accepted) == 10 else accepted
        offer = {"type": "offer", "ref": ref, "demand": v.get("需求编号"), "org": self.org.ref,
                 "product": product, "kind": KIND_BY_LABEL.get(kind) if kind else None,
                 "amount": v.get("授信/投资金额（万元）"), "rate": v.get("利率（%）"), "term_months": v.get("期限（月）"),
                 "status": "accepted", "created": accepted_at, "answered": accepted_at, "accepted": accepted_at}
        out = [{k: x for k, x in offer.items() if x is not None}]
        signed, paid = v.get("签约金额（万元）"), v.get("放款金额（万元）")
        if signed is not None or v.get("签约日期") is not None:
            deal = {"type": "deal", "ref": new_ref("dl"), "offer": ref, "signed_amount": signed,
                    "signed_on": v.get("签约日期"), "rate": v.get("利率（%）"), "term_months": v.get("期限（月）")}
            if paid is not None or v.get("放款日期") is not None:
                deal.update(disbursed_amount=paid, disbursed_on=v.get("放款日期"))
            out.append({k: x for k, x in deal.items() if x is not None})
        elif paid is not None or v.get("放款日期") is not None:
            raise LineError("放款金额（万元）", "未签约的方案不能有放款，请先填写签约金额和签约日期")
        return out


def _sheet_rows(wb, sheet: T.Sheet):
    """(row number, {header: value}) of the filled rows, once the header row is the template's."""
    rows = wb[sheet.title].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    missing = [h for h in sheet.headers if sheet.column(h).required and h not in header]
    unknown = [h for h in header if h not in sheet.headers]
    if missing or unknown:
        raise ExchangeError(f"“{sheet.title}”工作表的表头与模板不符：" + "；".join(
            ([f"缺少列 {'、'.join(missing)}"] if missing else []) + ([f"多出列 {'、'.join(unknown)}"] if unknown else [])),
            "file")
    for number, cells in enumerate(rows, start=2):
        values = {h: _cell_in(c, sheet.column(h).kind) for h, c in zip(header, cells, strict=False) if h}
        if any(x is not None for x in values.values()):
            yield number, values


def workbook_records(data: bytes, org: Organization):
    """(row number, line or LineError, sheet) for every filled row: 金融产品 first, then 对接结果."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ExchangeError("不是有效的 Excel 工作簿（.xlsx）", "file") from None
    present = [s for s in T.IMPORT_SHEETS if s.title in wb.sheetnames]
    if not present:
        raise ExchangeError("工作簿中没有“金融产品”或“对接结果”工作表（省平台模板）", "file")
    reader = _RowReader(org)
    out = []
    for sheet in present:
        convert = reader.product_lines if sheet is T.PRODUCTS else reader.outcome_lines
        for number, values in _sheet_rows(wb, sheet):
            try:
                out.extend((number, line, sheet.title) for line in convert(values))
            except LineError as e:
                out.append((number, e, sheet.title))
    wb.close()
    return out


def import_workbook(actor, data: bytes, city, *, scopes=None, name: str | None = None) -> interchange.ImportReport:
    """The 金融产品 and 对接结果 sheets of the template, all or nothing; problems named by sheet, row and column."""
    records = workbook_records(data, actor.org)
    report = interchange.import_records(records, city=city, actor=actor, guard=InstitutionGuard(actor, scopes))
    # A row is an offer and its deal: the deal's "its offer's line is bad" repeats the row's own problem.
    report.errors = [p for p in report.errors
                     if not (p.message.startswith("引用的offer") and p.message.endswith(f"所在的第{p.line}行有误"))]
    for p in report.errors:
        columns = T.PRODUCT_FIELD_COLUMNS if p.sheet == T.PRODUCTS.title else T.OUTCOME_FIELD_COLUMNS
        p.field = columns.get(p.field, p.field)
    _audit(actor, report, "xlsx", name)
    return report


def import_file(actor, name: str | None, data: bytes, city, *, scopes=None) -> interchange.ImportReport:
    """A file from an institution: a workbook (by its content) or JSON Lines (UTF-8)."""
    if not data:
        raise ExchangeError("文件为空", "file")
    if len(data) > FILE_MAX:
        raise ExchangeError("文件不能超过 10 MB", "file")
    if data[:4] == b"PK\x03\x04":
        return import_workbook(actor, data, city, scopes=scopes, name=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExchangeError("文件应为 Excel 工作簿（.xlsx）或 UTF-8 编码的 JSON Lines（.jsonl）", "file") from None
    return import_jsonl(actor, text.splitlines(), city, scopes=scopes, name=name)


def institution_actor(ref: str) -> OrgActor:
    org = db_session.scalar(sa.select(Organization).where(Organization.ref == ref))
    if org is None or org.kind not in (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR):
        raise ExchangeError(f"“{ref}”不是平台上的金融机构", "org")
    if not org.is_approved:
        raise ExchangeError(f"“{ref}”尚未通过审核", "org")
    return OrgActor(org)

