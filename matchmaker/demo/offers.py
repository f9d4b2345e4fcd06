"""Demo offers over the past year, following each institution's hidden tastes: applications, bids, packages, deals."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from matchmaker.workdays import response_deadline
from models import (
    Deal,
    Demand,
    DemandDisclosure,
    Disbursement,
    Offer,
    OfferOrigin,
    OfferStatus,
    Organization,
    OrgKind,
    Product,
    ProductKind,
    ProductStatus,
    db_session,
)
from models.types import utcnow

DECLINE_REASONS = ["企业资产负债率偏高，暂不符合准入条件", "抵押物评估价值不足", "超出本行该产品的授信额度",
                   "项目尚未取得环评批复，待手续齐全后再申请"]
REJECT_REASONS = ["利率高于其他方案", "期限与项目回收期不匹配", "已接受其他机构的方案"]
CONDITIONS = ["按季付息，到期还本", "设备抵押，法定代表人连带责任担保", "分两期放款，按项目进度提款",
              "需提供近两年审计报告", "可叠加市级贷款贴息"]


class _Maker:
    def __init__(self, rng: random.Random, city, now: datetime):
        self.rng, self.city, self.now = rng, city, now
        self.n_offer = self.n_deal = 0
        self.any_late = False
        # Kept here, not read back from the session: lazy loads flush it as the seeding goes.
        self.offered: set[int] = set()
        self.disclosed: set[tuple[int, int]] = set()
        products = db_session.scalars(sa.select(Product).options(joinedload(Product.org))
                                      .where(Product.status == ProductStatus.ACTIVE).order_by(Product.ref)).all()
        self.products = list(products)
        self.by_kind: dict[ProductKind, list[Product]] = {}
        for p in products:
            self.by_kind.setdefault(p.kind, []).append(p)
        self.tastes = _tastes(random.Random(rng.random()), {p.org.ref: str(p.org.kind) for p in products}, city)
        self._fits: dict[int, set[int]] = {}
        self._encoded = None

    def fits(self, demand: Demand) -> set[int]:
        """Ids of the products passing the ranking's hard constraints for this demand."""
        if demand.id not in self._fits:
            from matchmaker.ranking import FeatureSet, products_for_demand
            from matchmaker.ranking.data import demand_record, product_record

            if self._encoded is None:
                records = [product_record(p) for p in self.products]
                self._fs = FeatureSet().fit_text([r.text for r in records] or [""])
                self._encoded = self._fs.encode_products(records)
            table = self._fs.encode_demands([demand_record(demand)])
            self._fits[demand.id] = {self.products[j].id for j in products_for_demand(table, 0, self._encoded)}
        return self._fits[demand.id]

    def utility(self, demand: Demand, product: Product) -> float:
        """What the institution really thinks of the pair (hidden), with some noise."""
        return _utility(self.tastes[product.org.ref], demand, product) + self.rng.gauss(0, 0.3)

    def product(self, kind: ProductKind, demand: Demand, exclude: set[int]) -> Product | None:
        fits = [p for p in self.by_kind.get(kind, []) if p.org_id not in exclude
                and p.amount_min <= demand.amount and (not p.districts or demand.org.district in p.districts)]
        if not fits:
            return None
        # Institutions answer the demands they like: the best pair by hidden taste, among those the
        # platform's hard constraints allow when there are any.
        allowed = self.fits(demand)
        fits = [p for p in fits if p.id in allowed] or fits
        return max(fits, key=lambda p: self.utility(demand, p))

    def offer(self, demand: Demand, product: Product, status: OfferStatus, *, application: bool, at: datetime,
              answered_after: timedelta | None = None, share: Decimal = Decimal(1)) -> Offer:
        self.n_offer += 1
        rng = self.rng
        asked = at if application else None
        answered = at + answered_after if answered_after is not None else (None if application else at)
        # Terms exist once the institution offered: every bid, and an application answered with an offer.
        has_terms = status in (OfferStatus.SUBMITTED, OfferStatus.ACCEPTED) or (
            not application and status != OfferStatus.REQUESTED)
        offer = Offer(ref=f"demo-of-{self.n_offer:04d}", demand=demand, org=product.org, product=product,
                      origin=OfferOrigin.APPLICATION if application else OfferOrigin.BID, kind=product.kind,
                      status=status, asked_at=asked,
                      deadline_at=response_deadline(asked, self.city) if asked else None,
                      answered_at=answered, created_at=at, updated_at=answered or at, collateral=[])
        if has_terms:
            amount = min(demand.amount * share, product.amount_max).quantize(Decimal(10)) or Decimal(10)
            lo, hi = product.rate_min, product.rate_max
            offer.amount = max(amount, Decimal(10)).min(demand.amount)
            offer.rate = Decimal(0) if product.kind == ProductKind.EQUITY else (
                lo + (hi - lo) * Decimal(rng.randint(0, 10)) / 10).quantize(Decimal("0.01"))
            offer.term_months = min(max(demand.term_months, product.term_min), product.term_max)
            offer.collateral = list(demand.collateral[:1])
            offer.conditions = rng.choice(CONDITIONS)
            offer.valid_until = ((answered or at) + timedelta(days=rng.randint(20, 45))).date()
            if product.kind == ProductKind.EQUITY:
                offer.stake_percent = Decimal(rng.randint(3, 15))
        db_session.add(offer)
        self.offered.add(demand.id)
        return offer

    def disclose(self, demand: Demand, org: Organization, reason: str, at: datetime) -> None:
        if (demand.id, org.id) not in self.disclosed:
            self.disclosed.add((demand.id, org.id))
            db_session.add(DemandDisclosure(demand=demand, org=org, reason=reason, created_at=at))

    def deal(self, offer: Offer, signed_at: datetime, *, disbursed_share: Decimal) -> Deal:
        self.n_deal += 1
        rng = self.rng
        deal = Deal(ref=f"demo-dl-{self.n_deal:04d}", offer=offer, signed_amount=offer.amount,
                    signed_on=signed_at.date(), rate=offer.rate, term_months=offer.term_months or 0,
                    created_at=signed_at)
        if offer.is_funding and disbursed_share > 0:
            total = (offer.amount * disbursed_share).quantize(Decimal(1))
            parts = rng.choice([1, 2, 2, 3]) if disbursed_share == 1 else rng.choice([1, 2])
            day = signed_at
            left = total
            for k in range(parts):
                day = min(day + timedelta(days=rng.randint(7, 30)), self.now)
                amount = left if k == parts - 1 else (total / parts).quantize(Decimal(1))
                left -= amount
                if amount > 0:
                    deal.disbursements.append(Disbursement(amount=amount, disbursed_on=day.date(), created_at=day))
        db_session.add(deal)
        return deal


def seed_offers(rng: random.Random, city) -> None:
    """Offers for every demand that reached the pool, in proportion to where its life cycle stands."""
    now = utcnow()
    m = _Maker(rng, city, now)
    demo_bank = db_session.scalar(sa.select(Organization).where(Organization.kind == OrgKind.BANK)
                                  .order_by(Organization.ref).limit(1))
    demo_enterprise = db_session.scalar(sa.select(Organization).where(Organization.kind == OrgKind.ENTERPRISE)
                                        .order_by(Organization.ref).limit(1))
    demands = db_session.scalars(sa.select(Demand).where(Demand.published_at.is_not(None)).order_by(Demand.ref)).all()
    showcase = next((d for d in demands if d.org is demo_enterprise and d.status == "published"), None)
    for demand in demands:
        start = min(demand.published_at + timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6)),
                    now - timedelta(hours=3))
        if demand.status in ("matched", "signed", "funded"):
            _package(m, demand, start)
        elif demand.status == "published":
            # The demo enterprise's published demand has a loan and a guarantee to compare.
            _pool(m, demand, start, first=demand is showcase, demo_bank=demo_bank)
        elif rng.random() < 0.5:
            # A demand that left the pool: what was open lapsed with it.
            p = m.product(ProductKind.LOAN, demand, set())
            if p is not None:
                o = m.offer(demand, p, OfferStatus.EXPIRED, application=False, at=min(start, now))
                o.closed_at = min(start + timedelta(days=20), now)
    # The demo bank always has one application waiting and one overdue to look at.
    _demo_bank_queue(m, demo_bank, demands)
    for demand in demands:
        _past_bids(m, demand)


def _package(m: _Maker, demand: Demand, start: datetime) -> None:
    """An accepted loan, with a guarantee when the enterprise asked for one; signed and paid out to match the state."""
    rng, now = m.rng, m.now
    kind = ProductKind.EQUITY if demand.financing_types[:1] == ["equity"] else ProductKind.LOAN
    main = m.product(kind, demand, set()) or m.product(ProductKind.LOAN, demand, set())
    if main is None:
        return
    application = rng.random() < 0.6
    answered_after = timedelta(days=rng.randint(1, 9)) if application else None
    at = max(min(start, now - timedelta(days=30)), demand.published_at + timedelta(hours=1))
    offer = m.offer(demand, main, OfferStatus.ACCEPTED, application=application, at=at, answered_after=answered_after)
    offer.accepted_at = min((offer.answered_at or at) + timedelta(days=rng.randint(1, 5)), now)
    m.disclose(demand, main.org, "applied" if application else "accepted", at)
    offers = [offer]
    if "guarantee" in demand.financing_types or rng.random() < 0.3:
        g = m.product(ProductKind.GUARANTEE, demand, {main.org_id})
        if g is not None:
            go = m.offer(demand, g, OfferStatus.ACCEPTED, application=False, at=at + timedelta(days=1),
                         share=offer.amount / demand.amount)
            go.amount = min(go.amount, offer.amount)
            go.accepted_at = offer.accepted_at
            m.disclose(demand, g.org, "accepted", go.created_at)
            offers.append(go)
    # A third institution's offer the enterprise declined.
    other = m.product(ProductKind.LOAN, demand, {o.org_id for o in offers})
    if other is not None and rng.random() < 0.5:
        lost = m.offer(demand, other, OfferStatus.DECLINED, application=False, at=at + timedelta(days=2))
        lost.decline_reason, lost.declined_by, lost.closed_at = rng.choice(REJECT_REASONS), "enterprise", \
            offer.accepted_at
    if demand.status == "matched":
        return
    signed_at = min(offer.accepted_at + timedelta(days=rng.randint(10, 40)), now)
    share = Decimal(1) if demand.status == "funded" else Decimal(rng.choice(["0", "0.5"]))
    for o in offers:
        m.deal(o, signed_at, disbursed_share=share)


def _pool(m: _Maker, demand: Demand, start: datetime, *, first: bool, demo_bank) -> None:
    """A demand in the pool: a few applications and bids, never more active institutions than the limit."""
    rng, now = m.rng, m.now
    limit = int(m.city.policy.get("active_offer_limit", 3))
    used: set[int] = set()
    count = 2 if first else rng.choice([0, 0, 1, 1, 2, 3])
    for k in range(count):
        kind = ProductKind.GUARANTEE if first and k == 1 else (
            ProductKind.EQUITY if "equity" in demand.financing_types and rng.random() < 0.5 else ProductKind.LOAN)
        p = m.product(kind, demand, used | ({demo_bank.id} if not first else set()))
        if p is None or len(used) >= limit:
            continue
        at = min(start + timedelta(days=k * 3), now - timedelta(hours=2))
        roll = 1.0 if first else rng.random()
        if roll < 0.25:
            o = m.offer(demand, p, OfferStatus.DECLINED, application=True, at=at,
                        answered_after=timedelta(days=rng.randint(2, 16)))
            o.decline_reason, o.declined_by, o.closed_at = rng.choice(DECLINE_REASONS), "institution", o.answered_at
        elif roll < 0.45 and (now - at).days > 25:
            # Answered, some of them late (after the 10 working days).
            # At least one is late, whatever the draw: the demo shows what a late answer looks like.
            late = rng.random() < 0.35 or not m.any_late
            m.any_late = True
            after = timedelta(days=rng.randint(15, 24) if late else rng.randint(1, 12))
            o = m.offer(demand, p, OfferStatus.SUBMITTED, application=True, at=at, answered_after=after)
            o.valid_until = max(o.valid_until, (now + timedelta(days=rng.randint(5, 30))).date())
        elif roll < 0.6:
            o = m.offer(demand, p, OfferStatus.REQUESTED, application=True, at=at)
        else:
            o = m.offer(demand, p, OfferStatus.SUBMITTED, application=False, at=at)
            o.valid_until = max(o.valid_until, (now + timedelta(days=rng.randint(5, 30))).date())
        if o.origin == OfferOrigin.APPLICATION:
            m.disclose(demand, p.org, "applied", at)
        used.add(p.org_id)  # a declined institution is not asked twice either


def _demo_bank_queue(m: _Maker, bank, demands: list[Demand]) -> None:
    products = [p for p in m.by_kind.get(ProductKind.LOAN, []) if p.org_id == bank.id]
    if not products:
        return
    waiting = [d for d in demands if d.status == "published" and d.id not in m.offered]
    for k, demand in enumerate(waiting[:2]):
        # One asked six weeks ago and never answered (overdue), one asked two days ago.
        at = m.now - (timedelta(days=42) if k == 0 else timedelta(days=2))
        m.offer(demand, products[0], OfferStatus.REQUESTED, application=True, at=at)
        m.disclose(demand, bank, "applied", at)


class _Taste:
    """An institution's hidden preferences, never written anywhere: the ranking model has to find them."""

    def __init__(self, rng: random.Random, kind: str, clusters: list[str], purposes: list[str]):
        self.kind = kind
        self.clusters = set(rng.sample(clusters, min(3, len(clusters))))
        self.purposes = set(rng.sample(purposes, 2))
        self.amount_aversion = rng.uniform(2.5, 4.0) if kind == "bank" else 1.0
        self.innovation = 2.5 if kind == "fund" else 0.0
        self.small_firms = 1.5 if kind == "guarantor" else 0.0


def _tastes(rng: random.Random, kinds: dict[str, str], city) -> dict[str, _Taste]:
    clusters = sorted(set(getattr(city, "emerging_clusters", ())) | set(getattr(city, "traditional_clusters", ())))
    clusters = clusters or ["高端装备"]
    purposes = ["smart_upgrade", "equipment", "green", "new_product", "expansion", "rnd"]
    out = {}
    for ref in sorted(kinds):
        out[ref] = _Taste(rng, kinds[ref], clusters, purposes)
    return out


def _utility(taste: _Taste, demand: Demand, product: Product) -> float:
    org = demand.org
    u = 1.5 * (org.industry in taste.clusters) + 1.2 * (str(demand.purpose) in taste.purposes)
    lo, hi = float(product.amount_min or 1) or 1.0, float(product.amount_max or 1e9)
    pos = (math.log(max(float(demand.amount), 1.0)) - math.log(lo)) / max(math.log(hi) - math.log(lo), 1e-9)
    u -= taste.amount_aversion * min(max(pos, 0.0), 1.0)
    tags = set(org.tags or ())
    u += taste.innovation * (0.8 * ("专精特新" in tags) + 10 * float(org.rd_ratio or 0))
    u += taste.small_firms * (str(org.size) in ("small", "micro"))
    return u


def _past_bids(m: _Maker, demand: Demand) -> None:
    """Earlier bids that lapsed or were withdrawn: the institutions that liked the demand, by hidden taste.

    They are no longer active (never over the offer limit) and give the year of offers its density.
    """
    rng, now = m.rng, m.now
    if demand.published_at is None or (now - demand.published_at).days < 12:
        return
    taken = {o.org_id for o in demand_offers(demand)}
    best: dict[int, tuple[float, Product]] = {}
    for p in m.products:
        if p.id in m.fits(demand) and p.org_id not in taken:
            u = m.utility(demand, p)
            if u > best.get(p.org_id, (-math.inf, None))[0]:
                best[p.org_id] = (u, p)
    ranked = sorted(best.values(), key=lambda up: (-up[0], up[1].ref))
    for k, (u, p) in enumerate(ranked[:3]):
        if k and u < 0.5:
            break
        at = demand.published_at + timedelta(days=rng.randint(1, 8), hours=rng.randint(1, 8))
        o = m.offer(demand, p, OfferStatus.EXPIRED if rng.random() < 0.7 else OfferStatus.WITHDRAWN,
                    application=False, at=at)
        o.closed_at = min(at + timedelta(days=rng.randint(10, 30)), now)
        o.updated_at = o.closed_at


def demand_offers(demand: Demand) -> list[Offer]:
    """The offers already made on a demand in this seeding (kept in the session, not flushed yet)."""
    return [o for o in db_session.new if isinstance(o, Offer) and o.demand is demand]
