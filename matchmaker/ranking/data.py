"""Loads the ranking library's records from the database in bulk (a few queries, no N+1)."""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

import numpy as np
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from models import (
    Deal,
    Demand,
    Disbursement,
    Offer,
    OfferStatus,
    Organization,
    Product,
    ProductStatus,
    TechProject,
    db_session,
)

from .recommend import Ranker
from .records import DemandRecord, OutcomeRecord, ProductRecord
from .rule import RULE_WEIGHTS

_build_lock = threading.Lock()
log = logging.getLogger(__name__)

# Offers the institution really made (an application still waiting is the enterprise's ask, not an offer).
OFFERED_STATUSES = (OfferStatus.SUBMITTED, OfferStatus.ACCEPTED, OfferStatus.WITHDRAWN, OfferStatus.EXPIRED)


def _s(value) -> str:
    return "" if value is None else str(value)


def demand_record(demand: Demand) -> DemandRecord:
    """One demand with its enterprise's profile (org and project must be loaded or loadable)."""
    org = demand.org
    return _demand_record(
        demand.ref, demand.published_at, demand.created_at, demand.amount, demand.term_months, demand.purpose,
        demand.financing_types, demand.collateral, demand.max_rate, demand.title, demand.description,
        demand.project.name if demand.project else None, org.ref, org.district, org.industry, org.size,
        org.revenue, org.rd_ratio, org.tags, demand.status)


def _demand_record(ref, published_at, created_at, amount, term_months, purpose, financing_types, collateral,
                   max_rate, title, description, project_name, org_ref, district, industry, size, revenue, rd_ratio,
                   tags, status) -> DemandRecord:
    # One definition for the ORM path (one demand) and the column path (the whole pool).
    text = " ".join(x for x in (title, description, project_name or "") if x)
    return DemandRecord(
        ref=ref, org_ref=org_ref, created_at=published_at or created_at,
        amount=amount, term_months=term_months, purpose=_s(purpose),
        financing_types=tuple(financing_types or ()), collateral=tuple(collateral or ()),
        max_rate=max_rate, text=text, district=_s(district), cluster=_s(industry),
        size=_s(size), revenue=revenue, rd_ratio=float(rd_ratio) if rd_ratio is not None else None,
        tags=tuple(tags or ()), status=_s(status),
    )


# The columns `_demand_record` reads, in its argument order: the pool is loaded as rows, not ORM objects.
_POOL_COLUMNS = (
    Demand.ref, Demand.published_at, Demand.created_at, Demand.amount, Demand.term_months, Demand.purpose,
    Demand.financing_types, Demand.collateral, Demand.max_rate, Demand.title, Demand.description, TechProject.name,
    Organization.ref, Organization.district, Organization.industry, Organization.size, Organization.revenue,
    Organization.rd_ratio, Organization.tags, Demand.status,
)


def load_pool(changed_since: datetime | None = None) -> list[DemandRecord]:
    """The published pool as records, ordered by ref, in one query of the needed columns.

    With `changed_since`, only the published demands updated at or after that moment (new or edited).
    """
    q = (sa.select(*_POOL_COLUMNS).join(Organization, Demand.org_id == Organization.id)
         .outerjoin(TechProject, Demand.project_id == TechProject.id).where(Demand.status == "published"))
    if changed_since is not None:
        q = q.where(Demand.updated_at >= changed_since)
    return [_demand_record(*row) for row in db_session.execute(q.order_by(Demand.ref))]


def product_record(product: Product) -> ProductRecord:
    """One product with its institution's kind."""
    return ProductRecord(
        ref=product.ref, org_ref=product.org.ref, org_kind=_s(product.org.kind), kind=_s(product.kind),
        amount_min=product.amount_min, amount_max=product.amount_max, term_min=product.term_min,
        term_max=product.term_max, rate_min=product.rate_min, rate_max=product.rate_max,
        collateral=tuple(product.collateral or ()), industries=tuple(product.industries or ()),
        districts=tuple(product.districts or ()), sizes=tuple(product.sizes or ()),
        purposes=tuple(product.purposes or ()), tags=tuple(product.tags or ()),
        text=" ".join(x for x in (product.name, product.description) if x), status=_s(product.status),
    )


def _demand_query():
    return sa.select(Demand).options(joinedload(Demand.org), joinedload(Demand.project))


def load_demands(*, published_only: bool = False, refs: Iterable[str] | None = None,
                 ids: Iterable[int] | None = None) -> list[DemandRecord]:
    """Demands that ever reached the pool (or only those in it now, or the given refs/ids), ordered by ref."""
    q = _demand_query()
    if refs is not None:
        q = q.where(Demand.ref.in_(list(refs)))
    elif ids is not None:
        q = q.where(Demand.id.in_(list(ids)))
    elif published_only:
        q = q.where(Demand.status == "published")
    else:
        q = q.where(Demand.published_at.is_not(None))
    return [demand_record(d) for d in db_session.scalars(q.order_by(Demand.ref)).unique()]


def load_products(*, active_only: bool = True, org_ref: str | None = None) -> list[ProductRecord]:
    """The catalogue (active products by default), ordered by ref."""
    q = sa.select(Product).options(joinedload(Product.org))
    if active_only:
        q = q.where(Product.status == ProductStatus.ACTIVE)
    if org_ref is not None:
        q = q.where(Product.org.has(Organization.ref == org_ref))
    return [product_record(p) for p in db_session.scalars(q.order_by(Product.ref)).unique()]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12, 0))


def load_outcomes() -> list[OutcomeRecord]:
    """Every recorded step of the offer history as graded outcomes, in time order (three queries)."""
    rows = db_session.execute(
        sa.select(Offer.id, Offer.status, Offer.created_at, Offer.answered_at, Offer.accepted_at,
                  Offer.closed_at, Offer.updated_at, Demand.ref, Product.ref, Organization.ref)
        .join(Demand, Offer.demand_id == Demand.id).join(Organization, Offer.org_id == Organization.id)
        .outerjoin(Product, Offer.product_id == Product.id)).all()
    deals = {offer_id: signed for offer_id, signed in db_session.execute(sa.select(Deal.offer_id, Deal.signed_on))}
    funded = dict(db_session.execute(
        sa.select(Deal.offer_id, sa.func.min(Disbursement.disbursed_on)).join(Disbursement.deal)
        .group_by(Deal.offer_id)).all())
    out: list[OutcomeRecord] = []
    for oid, status, created, answered, accepted, closed, updated, d_ref, p_ref, org_ref in rows:
        status = OfferStatus(status)
        if status == OfferStatus.DECLINED:
            out.append(OutcomeRecord(d_ref, p_ref, org_ref, closed or answered or updated or created, "declined"))
            continue
        if status not in OFFERED_STATUSES:
            continue
        # An answered application became an offer when it was answered; a bid when it was created.
        out.append(OutcomeRecord(d_ref, p_ref, org_ref, answered or created, "offered"))
        if status == OfferStatus.ACCEPTED:
            out.append(OutcomeRecord(d_ref, p_ref, org_ref, accepted or answered or created, "accepted"))
        if oid in deals:
            out.append(OutcomeRecord(d_ref, p_ref, org_ref, _at(deals[oid]), "signed"))
        if oid in funded:
            out.append(OutcomeRecord(d_ref, p_ref, org_ref, _at(funded[oid]), "funded"))
    out.sort(key=lambda o: (o.at, o.demand_ref, o.org_ref, o.outcome))
    return out


def load_history() -> tuple[list[OutcomeRecord], list[DemandRecord]]:
    """The outcomes and every demand they refer to (for the institution-history features)."""
    outcomes = load_outcomes()
    refs = sorted({o.demand_ref for o in outcomes})
    return outcomes, (load_demands(refs=refs) if refs else [])


def load_training_set() -> tuple[list[DemandRecord], list[ProductRecord], list[OutcomeRecord]]:
    """Demands that reached the pool, every product (a retired one may have been offered), the outcomes."""
    return load_demands(), load_products(active_only=False), load_outcomes()


def catalogue_version() -> tuple:
    """A cheap fingerprint of the catalogue: it changes when a product is added, edited or removed."""
    return tuple(db_session.execute(sa.select(sa.func.count(Product.id), sa.func.max(Product.updated_at))).one())


def pool_version() -> tuple:
    """A cheap fingerprint of the demands: their latest update and highest id.

    Publishing, editing, withdrawing or closing a demand sets its updated_at, so any change to the pool
    moves the first; each is a separate indexed max() (one seek each on SQLite and PostgreSQL, where a
    count or two aggregates in one query would read the whole pool on every request).
    """
    return tuple(db_session.execute(sa.select(
        sa.select(sa.func.max(Demand.updated_at)).scalar_subquery(),
        sa.select(sa.func.max(Demand.id)).scalar_subquery())).one())


POOL_LOOKBACK = timedelta(minutes=5)  # changes re-read before the last known update (late commits)
INSTITUTION_CACHE = 256  # institutions whose last recommendations a worker keeps
HISTORY_MAX_AGE = 600.0  # seconds: a worker's history snapshot older than this is reloaded on next use


class Serving:
    """A worker's ranker with its encoded catalogue and pool, re-encoded only when their fingerprint changes."""

    def __init__(self, model_dir):
        outcomes, history = load_history()
        self.ranker = Ranker(model_dir, outcomes, history)
        self.loaded_at = monotonic()
        self._lock = threading.Lock()
        self._products: tuple[tuple, object] | None = None
        self._pool: tuple[tuple, object] | None = None
        self._institutions: dict[tuple, object] = {}

    def fresh(self) -> Ranker:
        """The ranker, its history reloaded when older than HISTORY_MAX_AGE."""
        if monotonic() - self.loaded_at > HISTORY_MAX_AGE:
            outcomes, history = load_history()
            self.ranker.refresh_history(outcomes, history)
            self.loaded_at = monotonic()
        return self.ranker

    def products(self):
        """The active catalogue encoded for the current scorer."""
        version = catalogue_version()
        with self._lock:
            if self._products is None or self._products[0] != version:
                self._products = (version, load_products())
            # encode_products returns the same table while the model is unchanged; keep what it returns.
            table = self.ranker.encode_products(self._products[1])
            self._products = (version, table)
            return table

    def pool(self):
        """The published pool encoded for the current scorer.

        When the fingerprint moves, only the demands updated since the last load are read: those
        published now are encoded (new or edited), the others leave the pool. Reading and encoding
        100,000 demands again for every new one would cost the next institution seconds.
        """
        version = pool_version()
        with self._lock:
            if self._pool is None or self._pool[0][0] is None or version[0] is None:
                table = self.ranker.encode_demands(load_pool())
            else:
                table = self.ranker.encode_demands(self._pool[1])
                if self._pool[0] != version:
                    # A transaction that committed after a later one carries an older updated_at: look back.
                    table = self._refresh_pool(table, since=self._pool[0][0] - POOL_LOOKBACK)
            self._pool = (version, table)
            return table

    def _refresh_pool(self, table, since: datetime):
        touched = set(db_session.scalars(sa.select(Demand.ref).where(Demand.updated_at >= since)))
        changed = self.ranker.encode_demands(load_pool(changed_since=since))
        touched |= set(changed.refs.tolist())  # updated between the two queries: the fresh row wins
        refs = table.refs.tolist()
        keep = [i for i, ref in enumerate(refs) if ref not in touched]
        kept = table if len(keep) == len(refs) else table.take(keep)
        if not len(changed):
            return kept
        merged = kept.concat(changed)
        if not len(kept) or kept.refs[-1] < changed.refs[0]:
            return merged  # both parts are in ref order (a newly published demand has the highest ref)
        return merged.take(np.argsort(merged.refs.astype(str), kind="stable"))

    def for_institution(self, org_ref: str, top: int):
        """An institution's recommendations, cached until the pool, catalogue, history or model changes.

        Scoring the pool for one institution is the expensive request (~0.1 s of CPU for 100,000 demands);
        the institution reloading its page should not pay it again.
        """
        products, pool = self.products(), self.pool()
        scorer = self.ranker.scorer()
        key = (org_ref, top, self._products[0], self._pool[0], self.loaded_at, scorer.name)
        with self._lock:
            hit = self._institutions.get(key)
        if hit is not None:
            return hit
        own = products.take([j for j, o in enumerate(products.org_refs) if o == org_ref])
        recs = self.ranker.for_institution(org_ref, pool, own, top)
        with self._lock:
            if len(self._institutions) >= INSTITUTION_CACHE:
                self._institutions.pop(next(iter(self._institutions)))
            self._institutions[key] = recs
        return recs


def serving(app=None) -> Serving:
    """The worker's Serving, built lazily on first use and cached in app.extensions."""
    app = app or current_app._get_current_object()
    with _build_lock:
        s = app.extensions.get("ranking")
        if s is None:
            s = app.extensions["ranking"] = Serving(app.config["MODEL_DIR"])
    s.fresh()
    return s


@dataclass
class PageRecommendations:
    """What a page shows: (row, Recommendation) pairs, the scorer's name for people and the rule's notice."""

    rows: list[tuple[object, object]]
    scorer: str
    notice: str | None


def scorer_label(name: str) -> str:
    """The scorer as a person reads it: "排序模型 v…" or "规则评分"."""
    return f"排序模型 {name.removeprefix('model ')}" if name.startswith("model ") else "规则评分"


def products_for_demand_page(demand: Demand, top: int = 5) -> PageRecommendations | None:
    """The best products for one of the enterprise's demands, with their Product rows; None if ranking failed.

    The page must render whatever happens to the model or the history, so failures are logged, not raised.
    """
    try:
        s = serving()
        recs = s.ranker.for_demand(demand_record(demand), s.products(), top)
        rows = {p.ref: p for p in db_session.scalars(
            sa.select(Product).options(joinedload(Product.org)).where(Product.ref.in_([i.ref for i in recs.items])))}
        return PageRecommendations([(rows[i.ref], i) for i in recs.items if i.ref in rows],
                                   scorer_label(recs.scorer), recs.notice)
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise  # the database is away: the whole page answers 503, rather than go on with a broken session
    except Exception:
        log.exception("recommendations for demand %s failed", demand.ref)
        return None


def demands_for_institution_page(org: Organization, top: int = 20) -> PageRecommendations | None:
    """The best pool demands for an institution, with their Demand rows; None if ranking failed (logged)."""
    try:
        recs = serving().for_institution(org.ref, top)
        rows = {d.ref: d for d in db_session.scalars(
            _demand_query().where(Demand.ref.in_([i.ref for i in recs.items]))).unique()}
        return PageRecommendations([(rows[i.ref], i) for i in recs.items if i.ref in rows],
                                   scorer_label(recs.scorer), recs.notice)
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise  # the database is away: the whole page answers 503, rather than go on with a broken session
    except Exception:
        log.exception("recommendations for institution %s failed", org.ref)
        return None


def ranking_pair_scorer(enterprise: Organization, institution: Organization, city) -> tuple[float, list[str]]:
    """Events' pair scorer: the institution's best product for the enterprise's published demands, in [0, 1].

    Same signature as `matchmaker.events.pairing.rule_score`, which still answers when the enterprise
    brings no demand, the institution has no product, or ranking fails (logged).
    """
    from matchmaker.events.pairing import rule_score

    demands = db_session.scalars(_demand_query().where(
        Demand.org_id == enterprise.id, Demand.status == "published").order_by(Demand.ref)).unique().all()
    if not demands:
        return rule_score(enterprise, institution, city)
    try:
        s = serving()
        products = s.products()
        own = [j for j, o in enumerate(products.org_refs) if o == institution.ref]
        if not own:
            return rule_score(enterprise, institution, city)
        table = products.take(own)
        best = None
        for demand in demands:
            recs = s.ranker.for_demand(demand_record(demand), table, 1)
            if recs.items and (best is None or recs.items[0].score > best[0].score):
                best = (recs.items[0], demand, recs.scorer)
    except Exception:
        log.exception("ranking pair score for %s and %s failed", enterprise.ref, institution.ref)
        return rule_score(enterprise, institution, city)
    if best is None:
        return 0.0, ["该机构暂无符合企业需求准入条件的产品"]
    item, demand, scorer = best
    # The rule is a weighted sum (its maximum is the sum of the weights); a model's score is a logit-like number.
    score = item.score / sum(RULE_WEIGHTS.values()) if scorer == "rule" else 1 / (1 + math.exp(-item.score))
    return min(max(round(score, 3), 0.0), 1.0), [f"针对“{demand.title}”：{r}" for r in item.reasons[:2]]


def install_pair_scorer() -> None:
    """Make events propose meeting pairs with the ranking (called once at app creation)."""
    from matchmaker.events.pairing import set_pair_scorer

    set_pair_scorer(ranking_pair_scorer)
