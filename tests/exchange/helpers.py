"""A small history of outcomes for the exchange tests, and workbooks written by hand in the template."""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from matchmaker.demands.services import local_today
from matchmaker.exchange import template as T
from matchmaker.offers import services as offers
from tests import factories
from tests.offers.helpers import bid


@dataclass
class Outcomes:
    funded: object      # 滕州市: bank's loan accepted, signed and paid out
    matched: object     # 薛城区: other bank's offer accepted, not signed
    draft: object
    product: object


def build(world) -> Outcomes:
    product = factories.make_product(world.bank.org, name="技改贷", amount_max=Decimal(5000))
    funded = factories.make_demand(world.enterprise.org, status="published", title="数控中心购置")
    offer = bid(world.bank, funded, product=product, amount=Decimal(1500), rate=Decimal("4.2"))
    offers.accept(world.enterprise, offer)
    deal = offers.sign(world.bank, offer, signed_amount=Decimal(1200), signed_on=local_today(), rate=Decimal("4.1"),
                       term_months=36)
    offers.disburse(world.bank, deal, amount=Decimal(500), disbursed_on=local_today())
    offers.disburse(world.bank, deal, amount=Decimal(700), disbursed_on=local_today())
    matched = factories.make_demand(world.enterprise_b.org, status="published", title="产线扩能")
    offers.accept(world.enterprise_b, bid(world.other_bank, matched, amount=Decimal(800)))
    draft = factories.make_demand(world.enterprise.org, status="draft")
    return Outcomes(funded=funded, matched=matched, draft=draft, product=product)


def rows(data: bytes, sheet: str) -> list[list]:
    ws = load_workbook(io.BytesIO(data), data_only=True)[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def outcome_workbook(*rows_: dict, products: tuple[dict, ...] = ()) -> bytes:
    """A 对接结果 sheet in the template with these rows (header -> value), after a 金融产品 sheet if given."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, data in ((T.PRODUCTS, products), (T.OUTCOMES, rows_)):
        if sheet is T.PRODUCTS and not products:
            continue
        ws = wb.create_sheet(sheet.title)
        ws.append(sheet.headers)
        for r in data:
            ws.append([r.get(h) for h in sheet.headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
