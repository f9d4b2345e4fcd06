"""Recommendations in both directions, with the scorer named and reasons in plain Chinese."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from .candidates import candidate_pairs, products_for_demand
from .features import FEATURE_NAMES, FeatureSet, HistoryIndex, reason_text
from .model import RankingModel, load_current
from .records import DemandRecord, OutcomeRecord, ProductRecord
from .rule import RuleScorer
from .tables import DemandTable, ProductTable

# When fewer than two features clearly drive a score, what is left to say truthfully is that the hard
# constraints hold: every recommended pair passed them.
BASIC_REASONS = ("融资金额与期限在产品范围之内", "所在地区、企业规模和担保方式符合产品准入条件")
MAX_REASONS = 3


@dataclass
class Recommendation:
    """One ranked match: a product (for a demand) or a demand (for an institution)."""

    ref: str
    org: str
    score: float
    reasons: list[str]
    product: str | None = None  # for an institution: the product of its own that fits best
    drivers: list[str] = field(default_factory=list)  # feature names behind the reasons

    def to_json(self) -> dict:
        """The JSON shape of `ranking recommend --json`."""
        out = {"ref": self.ref, "org": self.org, "score": self.score, "reasons": self.reasons}
        if self.product is not None:
            out["product"] = self.product
        return out


@dataclass
class Recommendations:
    """A ranked list and how it was ranked ("model vN" or "rule"; a notice when the rule is in use)."""

    items: list[Recommendation]
    scorer: str
    notice: str | None = None

    def to_json(self) -> list[dict]:
        """The items as JSON objects, best first."""
        return [item.to_json() for item in self.items]


class Ranker:
    """Scores pairs with the current model of `model_dir`, or with the rule score when there is none.

    One per process (e.g. in `app.extensions`). The model is loaded lazily and cached; the
    feature set, encoded tables and history index are rebuilt only when the model version changes.
    `outcomes` and `history_demands` feed the institution-history features (the demands the
    outcomes refer to, for their cluster and purpose); `corpus` fits the text vectoriser used by
    the rule score when no model supplies one.
    """

    def __init__(self, model_dir: str | os.PathLike | None = None, outcomes: Sequence[OutcomeRecord] = (),
                 history_demands: Sequence[DemandRecord] = (), corpus: Sequence[str] | None = None):
        self.model_dir = model_dir
        self.outcomes = list(outcomes)
        self.history_demands = list(history_demands)
        self.corpus = corpus
        self._rule_fs: FeatureSet | None = None
        self._histories: dict[int, HistoryIndex] = {}
        self._lock = threading.Lock()

    def refresh_history(self, outcomes: Sequence[OutcomeRecord], history_demands: Sequence[DemandRecord]) -> None:
        """Replace the history snapshot (new offers and deals); the index is rebuilt on next use."""
        with self._lock:
            self.outcomes, self.history_demands = list(outcomes), list(history_demands)
            self._histories = {}

    def scorer(self, texts: Callable[[], list[str]] | None = None) -> RankingModel | RuleScorer:
        """The model if one is usable, else the rule (fitting its text vectoriser on first use).

        `texts` gives the corpus for that first fit when none was passed to the constructor; it is a
        callable so that the common case (already fitted) costs nothing.
        """
        model = load_current(self.model_dir)
        if model is not None:
            return model
        with self._lock:
            if self._rule_fs is None:
                corpus = list(self.corpus) if self.corpus is not None else list(texts() if texts else [])
                corpus += [d.text for d in self.history_demands]
                self._rule_fs = FeatureSet().fit_text(corpus or [""])
            return RuleScorer(self._rule_fs)

    def history(self, fs: FeatureSet) -> HistoryIndex:
        """The history index for this feature set (built once per feature set)."""
        with self._lock:
            hist = self._histories.get(id(fs))
            if hist is None or hist.codebook is not fs.codebook:
                # Only the current feature set is kept: an old model's index is garbage.
                self._histories = {id(fs): fs.history(self.outcomes, self.history_demands)}
                hist = self._histories[id(fs)]
            return hist

    def encode_products(self, products: Sequence[ProductRecord] | ProductTable) -> ProductTable:
        """Encode products for repeated use (re-encoded automatically if the model changes)."""
        fs = self.scorer(lambda: [p.text for p in _records(products)]).featureset
        return _ensure_products(fs, products)

    def encode_demands(self, demands: Sequence[DemandRecord] | DemandTable) -> DemandTable:
        """Encode demands for repeated use (re-encoded automatically if the model changes)."""
        fs = self.scorer(lambda: [d.text for d in _records(demands)]).featureset
        return _ensure_demands(fs, demands)

    def for_demand(self, demand: DemandRecord, products: Sequence[ProductRecord] | ProductTable,
                   top_n: int = 10, now: datetime | None = None) -> Recommendations:
        """The top products for one demand, best first (only products passing the hard constraints)."""
        scorer = self.scorer(lambda: [demand.text] + [p.text for p in _records(products)])
        fs = scorer.featureset
        d = fs.encode_demands([demand])
        p = _ensure_products(fs, products)
        pi = products_for_demand(d, 0, p)
        pairs = fs.pairs(d, np.zeros(len(pi), dtype=np.int64), p, pi, now or datetime.now(UTC), self.history(fs))
        X = fs.matrix(pairs)
        scores = scorer.rank_scores(X, top_n, p.kind_code[pi])
        order = _top(scores, p.refs[pi], top_n)
        items = _explain(scorer, X[order], scores[order], [demand] * len(order), [p.records[j] for j in pi[order]])
        for item, j in zip(items, pi[order], strict=True):
            item.ref, item.org = p.refs[j], p.org_refs[j]
        return Recommendations(items, scorer.name, scorer.notice)

    def for_institution(self, org_ref: str, demands: Sequence[DemandRecord] | DemandTable,
                        products_of_org: Sequence[ProductRecord] | ProductTable, top_n: int = 50,
                        now: datetime | None = None) -> Recommendations:
        """The top published demands for an institution: each demand scored with its best-fitting product."""
        scorer = self.scorer(lambda: [p.text for p in _records(products_of_org)] + [d.text for d in _records(demands)])
        fs = scorer.featureset
        p = _ensure_products(fs, products_of_org)
        own = np.flatnonzero(p.org_refs == org_ref)
        if len(own) != len(p):
            p = p.take(own)
        d = _ensure_demands(fs, demands)
        di, pi = candidate_pairs(d, p, published_only=True, ordered=False)
        pairs = fs.pairs(d, di, p, pi, now or datetime.now(UTC), self.history(fs))
        X = fs.matrix(pairs)
        scores = scorer.rank_scores(X, top_n * max(len(p), 1), p.kind_code[pi])
        # Best product per demand: sort by score, keep each demand's first (best) pair. A demand has at
        # most len(p) pairs, so the best top_n demands are among the best top_n * len(p) pairs.
        pool = np.arange(len(scores))
        if len(scores) > 4 * top_n * max(len(p), 1):
            pool = np.argpartition(-scores, top_n * len(p))[: top_n * len(p) + 1]
        by_score = pool[np.lexsort((pi[pool], -scores[pool]))]
        _, first = np.unique(di[by_score], return_index=True)
        best = by_score[first]
        order = best[_top(scores[best], d.refs[di[best]], top_n)]
        items = _explain(scorer, X[order], scores[order], [d.records[i] for i in di[order]],
                         [p.records[j] for j in pi[order]])
        for item, i, j in zip(items, di[order], pi[order], strict=True):
            item.ref, item.org, item.product = d.refs[i], d.records[i].org_ref, p.refs[j]
        return Recommendations(items, scorer.name, scorer.notice)


def _records(x):
    return x.records if isinstance(x, DemandTable | ProductTable) else x


def _ensure_products(fs: FeatureSet, products) -> ProductTable:
    if isinstance(products, ProductTable) and products.owner is fs:
        return products
    return fs.encode_products(_records(products))


def _ensure_demands(fs: FeatureSet, demands) -> DemandTable:
    if isinstance(demands, DemandTable) and demands.owner is fs:
        return demands
    return fs.encode_demands(_records(demands))


def _top(scores: np.ndarray, refs: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n best scores, best first; equal scores in ref order (stable output)."""
    finite = np.isfinite(scores)
    if not finite.all():
        # Rows outside the model's shortlist carry -inf: never shown.
        rows = np.flatnonzero(finite)
        return rows[_top(scores[rows], refs[rows], n)]
    if len(scores) > 4 * n:
        # Partition first: sorting 100,000 scores to show 50 is wasted work.
        keep = np.argpartition(-scores, n)[: n + 1]
        cutoff = scores[keep].min()
        cand = np.flatnonzero(scores >= cutoff)
    else:
        cand = np.arange(len(scores))
    order = cand[np.lexsort((refs[cand].astype(str), -scores[cand]))]
    return order[:n]


def _explain(scorer, X: np.ndarray, scores: np.ndarray, demands: list, products: list) -> list[Recommendation]:
    """Reasons from the features with the largest positive contribution to each score."""
    contrib = scorer.contributions(X)
    items = []
    for row in range(len(X)):
        reasons, drivers = [], []
        for f in np.argsort(-contrib[row], kind="stable"):
            if contrib[row, f] <= 1e-9 or len(reasons) >= MAX_REASONS:
                break
            text = reason_text(FEATURE_NAMES[f], demands[row], products[row], float(X[row, f]))
            if text:
                reasons.append(text)
                drivers.append(FEATURE_NAMES[f])
        for basic in BASIC_REASONS[: max(0, 2 - len(reasons))]:
            reasons.append(basic)
        items.append(Recommendation("", "", round(float(scores[row]), 4), reasons, drivers=drivers))
    return items


_default: Ranker | None = None
_default_lock = threading.Lock()


def default_ranker() -> Ranker:
    """A process-wide ranker without a model directory or history (the rule score)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Ranker()
        return _default


def recommend_for_demand(demand: DemandRecord, products: Sequence[ProductRecord] | ProductTable, top_n: int = 10,
                         ranker: Ranker | None = None, now: datetime | None = None) -> Recommendations:
    """The top products for a demand; see Ranker.for_demand."""
    return (ranker or default_ranker()).for_demand(demand, products, top_n, now)


def recommend_for_institution(org_ref: str, demands: Sequence[DemandRecord] | DemandTable,
                              products_of_org: Sequence[ProductRecord] | ProductTable, top_n: int = 50,
                              ranker: Ranker | None = None, now: datetime | None = None) -> Recommendations:
    """The top pool demands for an institution; see Ranker.for_institution."""
    return (ranker or default_ranker()).for_institution(org_ref, demands, products_of_org, top_n, now)
