"""A synthetic world with a known hidden preference structure, for tests and the benchmark."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from models.codes import label

from .candidates import products_for_demand
from .features import FeatureSet
from .records import DemandRecord, OutcomeRecord, ProductRecord

DISTRICTS = ["市中区", "薛城区", "峄城区", "台儿庄区", "山亭区", "滕州市", "枣庄高新区"]
CLUSTERS = ["高端装备", "高端化工", "新型建材", "锂电", "光纤和新材料", "大数据", "医药健康",
            "能源电力", "纺织服装", "橡胶轮胎", "机械机床", "水泥玻璃", "食品饮料", "家居门窗", "高档造纸"]
PURPOSES = ["smart_upgrade", "equipment", "green", "new_product", "expansion", "rnd", "working_capital",
            "merger", "listing"]
COLLATERAL = ["property", "equipment", "receivables", "ip", "equity_pledge", "guarantee"]
SIZES = ["large", "medium", "small", "micro"]
WORDS = ["生产线", "数字化", "车间", "工艺", "产能", "研发", "订单", "节能", "自动化", "检测", "平台", "新品"]


@dataclass
class Taste:
    """An institution's hidden preferences: what it really funds, whatever its products say."""

    clusters: set[str]
    purposes: set[str]
    amount_aversion: float  # how much it dislikes amounts high in its product's range
    innovation: float  # funds: weight on 专精特新 and R&D ratio
    small_firms: float  # guarantors: weight on small and micro enterprises


@dataclass
class World:
    """Demands, products and time-stamped outcomes, with the tastes that produced the outcomes."""

    demands: list[DemandRecord]
    products: list[ProductRecord]
    outcomes: list[OutcomeRecord]
    tastes: dict[str, Taste] = field(default_factory=dict)
    start: datetime = datetime(2025, 1, 1)
    split_at: datetime = datetime(2025, 1, 1)


def _institutions(rng: random.Random, n_banks: int, n_funds: int, n_guarantors: int) -> dict[str, tuple[str, Taste]]:
    out = {}
    for kind, n in (("bank", n_banks), ("fund", n_funds), ("guarantor", n_guarantors)):
        for k in range(n):
            taste = Taste(
                clusters=set(rng.sample(CLUSTERS[:7] if kind == "fund" else CLUSTERS, 3)),
                purposes=set(rng.sample(PURPOSES, 3)),
                amount_aversion=rng.uniform(1.0, 2.5) if kind == "bank" else 0.3,
                innovation=2.0 if kind == "fund" else 0.0,
                small_firms=1.2 if kind == "guarantor" else 0.0,
            )
            out[f"{kind}-{k + 1:02d}"] = (kind, taste)
    return out


def _product(rng: random.Random, ref: str, org: str, org_kind: str, taste: Taste) -> ProductRecord:
    kind = {"bank": rng.choice(["loan", "loan", "loan", "leasing"]), "fund": "equity", "guarantor": "guarantee"}[org_kind]
    lo = rng.choice([10, 50, 100, 200, 500])
    hi = lo * rng.choice([20, 50, 100])
    # A product lists some purposes; only half of them are what the institution really likes, so the
    # listing (which the rule and the text see) is a weak, noisy signal of the hidden taste.
    listed = set(rng.sample(sorted(taste.purposes), 1)) | set(rng.sample(PURPOSES, 2)) if rng.random() < 0.7 else set()
    industries = set(rng.sample(CLUSTERS, 3)) if rng.random() < 0.3 else set()
    collateral = [] if kind == "equity" else sorted(set(rng.sample(COLLATERAL, 3)) | ({"none"} if rng.random() < 0.4 else set()))
    rate_min = Decimal("0") if kind == "equity" else Decimal(str(round(rng.uniform(3.0, 4.5), 2)))
    rate_max = Decimal("0") if kind == "equity" else rate_min + Decimal("2.0")
    name = {"loan": "科技贷", "leasing": "设备融资租赁", "equity": "产业投资基金", "guarantee": "中小企业融资担保"}[kind]
    text = (f"{name}：支持" + "、".join(label(p) for p in sorted(listed) or PURPOSES[:2]) + "项目，"
            + ("面向" + "、".join(sorted(industries)) + "行业，" if industries else "")
            + "".join(rng.sample(WORDS, 3)))
    return ProductRecord(
        ref=ref, org_ref=org, org_kind=org_kind, kind=kind,
        amount_min=Decimal(lo), amount_max=Decimal(hi),
        term_min=None if kind == "equity" else rng.choice([3, 6, 12]),
        term_max=None if kind == "equity" else rng.choice([36, 60, 120]),
        rate_min=rate_min, rate_max=rate_max, collateral=collateral,
        industries=sorted(industries), districts=sorted(rng.sample(DISTRICTS, 3)) if rng.random() < 0.15 else [],
        sizes=["small", "micro", "medium"] if org_kind == "guarantor" else [],
        purposes=sorted(listed), tags=[], text=text, status="active" if rng.random() < 0.95 else "paused",
    )


def _demand(rng: random.Random, ref: str, org: str, at: datetime) -> DemandRecord:
    cluster = rng.choice(CLUSTERS)
    purpose = rng.choice(PURPOSES)
    size = rng.choices(SIZES, weights=[1, 3, 4, 2])[0]
    revenue = {"large": 200000, "medium": 30000, "small": 5000, "micro": 800}[size] * rng.uniform(0.4, 1.6)
    tags = [t for t, p in (("高新技术企业", 0.35), ("专精特新", 0.25)) if rng.random() < p]
    types = ["loan"] + (["equity"] if rng.random() < 0.35 else []) + (["guarantee"] if rng.random() < 0.3 else []) \
        + (["leasing"] if rng.random() < 0.2 else [])
    collateral = sorted(set(rng.sample(COLLATERAL, rng.choice([0, 1, 2])))) or ["none"]
    amount = round(math.exp(rng.uniform(math.log(50), math.log(20000))))
    text = f"{cluster}企业{label(purpose)}项目融资需求：" + "".join(rng.sample(WORDS, 4))
    return DemandRecord(
        ref=ref, org_ref=org, created_at=at, amount=Decimal(amount), term_months=rng.choice([12, 24, 36, 60]),
        purpose=purpose, financing_types=types, collateral=collateral,
        max_rate=Decimal(str(round(rng.uniform(3.5, 6.5), 1))) if rng.random() < 0.8 else None,
        text=text, district=rng.choice(DISTRICTS), cluster=cluster, size=size, revenue=Decimal(round(revenue)),
        rd_ratio=round(rng.uniform(0.0, 0.12 if "专精特新" in tags else 0.05), 3), tags=tags, status="published",
    )


def utility(taste: Taste, demand: DemandRecord, product: ProductRecord) -> float:
    """The hidden value of a pair to the institution (before noise)."""
    u = 1.6 * (demand.cluster in taste.clusters) + 1.3 * (demand.purpose in taste.purposes)
    lo, hi = float(product.amount_min or 1), float(product.amount_max or 1e9)
    pos = (math.log(float(demand.amount)) - math.log(lo)) / max(math.log(hi) - math.log(lo), 1e-9)
    u -= taste.amount_aversion * pos
    u += taste.innovation * (0.8 * ("专精特新" in demand.tags) + 10 * (demand.rd_ratio or 0))
    u += taste.small_firms * (demand.size in ("small", "micro"))
    # A product made for the purpose or the cluster gets some extra uptake: what the rule can see.
    u += 0.6 * (demand.purpose in product.purposes) + 0.4 * (demand.cluster in product.industries)
    return u


def make_world(seed: int = 0, n_demands: int = 1200, n_banks: int = 6, n_funds: int = 2, n_guarantors: int = 2,
               products_per_org: int = 3, days: int = 540, with_outcomes: bool = True,
               split_share: float = 0.7) -> World:
    """Build a reproducible world; outcomes follow the hidden tastes plus noise."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    institutions = _institutions(rng, n_banks, n_funds, n_guarantors)
    products = []
    for org, (kind, taste) in institutions.items():
        for _ in range(products_per_org):
            products.append(_product(rng, f"pd-{len(products) + 1:05d}", org, kind, taste))
    n_ent = max(1, n_demands // 2)
    demands = sorted(
        (_demand(rng, f"dm-{k + 1:06d}", f"ent-{rng.randrange(n_ent) + 1:05d}",
                 start + timedelta(seconds=rng.uniform(0, days * 86400))) for k in range(n_demands)),
        key=lambda d: d.created_at)
    world = World(demands, products, [], {o: t for o, (_, t) in institutions.items()}, start,
                  start + timedelta(days=days * split_share))
    if with_outcomes:
        world.outcomes = _outcomes(rng, world)
    return world


def _outcomes(rng: random.Random, world: World) -> list[OutcomeRecord]:
    fs = FeatureSet().fit_text([d.text for d in world.demands] + [p.text for p in world.products])
    dt, pt = fs.encode_demands(world.demands), fs.encode_products(world.products)
    outcomes = []
    for i, demand in enumerate(world.demands):
        best: dict[str, tuple[float, ProductRecord]] = {}
        for j in products_for_demand(dt, i, pt):
            product = world.products[j]
            u = utility(world.tastes[product.org_ref], demand, product) + rng.gauss(0, 0.6)
            if u > best.get(product.org_ref, (-math.inf, None))[0]:
                best[product.org_ref] = (u, product)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        for org, (u, product) in ranked[:3]:
            at = demand.created_at + timedelta(days=rng.uniform(2, 40))
            if u > 1.2:
                p_next = 1 / (1 + np.exp(-(u - 2.0)))
                grade = 1
                while grade < 4 and rng.random() < p_next:
                    grade += 1
                outcome = {1: "offered", 2: "accepted", 3: "signed", 4: "funded"}[grade]
                outcomes.append(OutcomeRecord(demand.ref, product.ref, org, at, outcome))
            elif u < 0.3 and rng.random() < 0.3:
                # The enterprise applied and the institution turned it down with a reason.
                outcomes.append(OutcomeRecord(demand.ref, product.ref, org, at, "declined"))
    return outcomes
