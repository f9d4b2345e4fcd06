"""Demo products: every demo bank, fund and guarantor publishes a few realistic products."""
from __future__ import annotations

import random
from decimal import Decimal

import sqlalchemy as sa

from models import Organization, OrgKind, db_session
from models.products import EquityStage, Product, ProductKind, ProductStatus

L, E, G, LS = ProductKind.LOAN, ProductKind.EQUITY, ProductKind.GUARANTEE, ProductKind.LEASING

# name, kind, amount range (万元), term range (months), rate range (%/year), collateral, sizes, purposes, tags,
# approval days, description.
BANK_PRODUCTS = [
    ("技改贷", L, (100, 5000), (12, 60), ("3.45", "4.80"), ["equipment", "property", "guarantee"], [],
     ["smart_upgrade", "equipment", "green", "expansion"], ["技改贷"], 15,
     "支持企业智能化改造、设备更新和扩能改造，可叠加市级贷款贴息，按项目进度分批放款。"),
    ("专精特新信用贷", L, (50, 1000), (6, 36), ("3.30", "4.50"), ["none"], ["medium", "small", "micro"],
     ["working_capital", "rnd", "new_product"], ["信用贷", "专精特新"], 7,
     "面向省市级专精特新中小企业的纯信用贷款，无需抵押，线上申请、快速审批。"),
    ("科技履约贷", L, (50, 1000), (12, 36), ("3.50", "4.60"), ["none", "ip", "guarantee"], ["small", "micro"],
     ["rnd", "new_product"], ["科技贷"], 10,
     "与科技部门合作的风险补偿贷款，支持科技型中小企业研发投入和成果转化。"),
    ("设备按揭贷", L, (100, 3000), (12, 60), ("3.60", "5.20"), ["equipment"], [],
     ["equipment", "smart_upgrade"], ["设备贷", "技改贷"], 12,
     "以新购设备作抵押，首付比例低至20%，还款期限与设备折旧周期匹配。"),
    ("绿色转型贷", L, (200, 10000), (12, 96), ("3.20", "4.30"), ["property", "equipment", "receivables"], [],
     ["green"], ["绿色贷"], 20,
     "支持节能降碳、清洁生产和绿色工厂建设项目，利率优于同期同档次贷款。"),
    ("首贷通", L, (10, 300), (6, 12), ("3.80", "5.50"), ["none"], ["small", "micro"],
     ["working_capital"], ["首贷", "信用贷"], 5,
     "为首次在银行贷款的小微企业提供信用贷款，随借随还。"),
    ("知识产权质押贷", L, (50, 2000), (12, 36), ("3.80", "5.00"), ["ip"], [],
     ["rnd", "new_product"], ["知识产权贷", "科技贷"], 15,
     "以专利权、商标权质押融资，政府性融资担保机构分担风险。"),
    ("应收账款融资", L, (50, 3000), (3, 12), ("3.60", "5.00"), ["receivables"], [],
     ["working_capital"], ["供应链贷"], 7,
     "依托核心企业应付账款确权，为上游配套企业提供融资。"),
    ("设备融资租赁", LS, (100, 5000), (24, 60), ("4.50", "6.50"), ["equipment"], [],
     ["equipment", "smart_upgrade"], ["设备贷"], 20,
     "直租、售后回租两种方式，缓解企业一次性购置设备的资金压力。"),
]
FUND_PRODUCTS = [
    ("股权直投（成长期）", EquityStage.GROWTH, (1000, 10000), (36, 84), ["expansion", "new_product", "smart_upgrade"],
     "重点投资本市新兴产业集群中处于成长期、具有核心技术的企业，单笔投资一般不超过企业总股本的30%。"),
    ("天使投资（初创期）", EquityStage.EARLY, (100, 1000), (60, 96), ["rnd", "new_product"],
     "投资初创期科技型企业，可与创业担保贷款、科技履约贷联动。"),
    ("Pre-IPO 投资", EquityStage.PRE_IPO, (3000, 20000), (24, 60), ["listing", "expansion"],
     "面向拟在境内外上市的企业，协助规范治理、对接券商和交易所。"),
]
GUARANTOR_PRODUCTS = [
    ("中小企业融资担保", G, (50, 2000), (12, 36), ("0.80", "1.50"), ["property", "equipment", "equity_pledge"],
     ["medium", "small", "micro"], [], ["首贷"], 10,
     "为中小企业银行贷款提供担保，年担保费率不超过1.5%，与合作银行按比例分担风险。"),
    ("技改项目贷款担保", G, (200, 5000), (12, 60), ("1.00", "1.50"), ["equipment", "property"], [],
     ["smart_upgrade", "equipment", "green"], ["技改贷"], 15,
     "为列入市技改项目台账的企业贷款提供担保，可同时申请设备奖补。"),
    ("科技企业知识产权担保", G, (50, 1000), (12, 36), ("0.50", "1.00"), ["ip", "none"], ["small", "micro"],
     ["rnd", "new_product"], ["科技贷", "知识产权贷"], 10,
     "以知识产权反担保为主，为科技型中小企业增信。"),
    ("融资租赁", LS, (100, 3000), (24, 60), ("4.80", "6.80"), ["equipment"], [],
     ["equipment"], ["设备贷"], 20, "设备售后回租，盘活存量设备资产。"),
]


def seed_products(rng: random.Random, city) -> int:
    """A few products for every demo institution (banks with their branches, funds, guarantors)."""
    orgs = db_session.scalars(
        sa.select(Organization)
        .where(Organization.ref.like("demo-%"),
               Organization.kind.in_([OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR]))
        .order_by(Organization.id)
    ).all()
    count = 0
    for org in orgs:
        if org.kind == OrgKind.BANK:
            # A bank's leasing arm belongs to its head office; a branch only lends.
            if org.parent_id is None:
                picks = rng.sample(BANK_PRODUCTS, rng.randint(3, 5))
            else:
                picks = rng.sample([p for p in BANK_PRODUCTS if p[1] == L], rng.randint(1, 2))
        elif org.kind == OrgKind.GUARANTOR:
            picks = GUARANTOR_PRODUCTS[:2] + ([GUARANTOR_PRODUCTS[2]] if rng.random() < 0.5 else [])
            if org.ref.endswith("-01"):
                picks = [*picks, GUARANTOR_PRODUCTS[3]]
        else:
            picks = rng.sample(FUND_PRODUCTS, rng.randint(1, 2))
        # A branch serves its own district; a head office or a city-wide institution serves the city.
        local = org.parent_id is not None or (org.kind == OrgKind.GUARANTOR and org.district is not None)
        districts = [org.district] if local else []
        for i, spec in enumerate(picks, start=1):
            db_session.add(_product(org, spec, i, districts, rng, city))
            count += 1
    return count


def _product(org, spec, i, districts, rng, city) -> Product:
    ref = f"{org.ref.replace('demo-', 'demo-pd-')}-{i}"
    if org.kind == OrgKind.FUND:
        name, stage, amounts, terms, purposes, text = spec
        return Product(
            ref=ref, org=org, kind=E, name=name, description=text, stage=stage,
            amount_min=Decimal(amounts[0]), amount_max=Decimal(amounts[1]), term_min=terms[0], term_max=terms[1],
            rate_min=Decimal(0), rate_max=Decimal(0), collateral=[],
            industries=rng.sample(city.emerging_clusters, 3), districts=[], sizes=[], purposes=purposes,
            tags=["股权投资"], approval_days=rng.choice([30, 45, 60]), status=ProductStatus.ACTIVE,
        )
    name, kind, amounts, terms, rates, collateral, sizes, purposes, tags, days, text = spec
    return Product(
        ref=ref, org=org, kind=kind, name=name, description=text,
        amount_min=Decimal(amounts[0]), amount_max=Decimal(amounts[1]), term_min=terms[0], term_max=terms[1],
        rate_min=Decimal(rates[0]), rate_max=Decimal(rates[1]), collateral=list(collateral), industries=[],
        districts=list(districts), sizes=list(sizes), purposes=list(purposes), tags=list(tags),
        approval_days=days + rng.choice([-2, 0, 3]),
        # One in twelve is paused, so the owners' list shows every state.
        status=ProductStatus.PAUSED if rng.random() < 1 / 12 else ProductStatus.ACTIVE,
    )
