"""The learned ranker: training split by time, NDCG@10 evaluation, safe versioned artifacts, lazy loading."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import ndcg_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController

from .candidates import candidate_pairs
from .features import FEATURE_NAMES, FeatureSet, HistoryIndex
from .records import OFFERED, DemandRecord, OutcomeRecord, ProductRecord, to_timestamp
from .rule import rule_scores, text_scores
from .tables import KINDS, DemandTable, ProductTable
from .trees import CompiledEnsemble

log = logging.getLogger("matchmaker.ranking")

MIN_QUERIES = 50  # labelled demands before the split; fewer and the rule score stays in use
# The compiled trees (trees.py) score every candidate pair: an institution against 100,000 demands
# is up to 475,000 pairs, about 0.1 s on one core, and the top 50 is then exactly the model's.
# Only when scikit-learn has to walk the trees itself (numba missing, or a model it cannot compile)
# does a linear approximation of the model keep the best SHORTLIST_SHARE of the pairs above
# SHORTLIST_MIN for the trees (the benchmark measures how much of the exact top 50 it keeps).
SHORTLIST_MIN = 20_000
SHORTLIST_SHARE = 0.25
FORMAT = 1
MODEL_FILE = "model.skops"
META_FILE = "meta.json"
POINTER = "current"
# skops refuses every type not listed here; these are the only non-default types our artifact holds.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


class NotEnoughHistory(Exception):
    """Training refused: too few labelled demands before the split."""


class ArtifactError(Exception):
    """A model artifact is missing, damaged or does not fit this code."""


@dataclass
class Dataset:
    """Pairs with their features and labels; `qid` groups the pairs of one demand (the query)."""

    X: np.ndarray
    target: np.ndarray  # graded label; declined = -1
    qid: np.ndarray
    di: np.ndarray
    pi: np.ndarray

    @property
    def gain(self) -> np.ndarray:
        """NDCG gains: the grade, with declined counted as 0 (gains cannot be negative)."""
        return np.maximum(self.target, 0)


def _labels(d: DemandTable, p: ProductTable, di: np.ndarray, pi: np.ndarray,
            outcomes: Sequence[OutcomeRecord], before: int | None) -> np.ndarray:
    """Graded labels of the pairs from the outcomes recorded before `before` (epoch seconds, None = all).

    An outcome without a product labels every candidate product of its institution for that demand.
    A pair takes its best positive grade; a pair with only a decline gets -1.
    """
    n_p = max(len(p), 1)
    keys = di * n_p + pi  # pairs are sorted by (di, pi), so keys are sorted
    drow = {ref: i for i, ref in enumerate(d.refs)}
    prow = {ref: j for j, ref in enumerate(p.refs)}
    org_rows: dict[str, list[int]] = {}
    for j, org in enumerate(p.org_refs):
        org_rows.setdefault(org, []).append(j)
    best = np.zeros(len(keys), dtype=np.int64)
    declined = np.zeros(len(keys), dtype=bool)
    for o in outcomes:
        i = drow.get(o.demand_ref)
        if i is None or (before is not None and to_timestamp(o.at) >= before):
            continue
        rows = [prow[o.product_ref]] if o.product_ref in prow else ([] if o.product_ref else org_rows.get(o.org_ref, []))
        for j in rows:
            k = np.searchsorted(keys, i * n_p + j)
            if k < len(keys) and keys[k] == i * n_p + j:
                if o.grade > 0:
                    best[k] = max(best[k], o.grade)
                else:
                    declined[k] = True
    return np.where(best > 0, best, np.where(declined, -1, 0))


def build_dataset(fs: FeatureSet, d: DemandTable, p: ProductTable, history: HistoryIndex,
                  outcomes: Sequence[OutcomeRecord], rows: np.ndarray, labels_before: int | None) -> Dataset:
    """Features and labels of every candidate pair of the demands in `rows`, each asked at its creation."""
    di, pi = candidate_pairs(d, p, demand_rows=rows)
    target = _labels(d, p, di, pi, outcomes, labels_before)
    X = fs.matrix(fs.pairs(d, di, p, pi, d.created_at[di], history))
    return Dataset(X, target, di, di, pi)


def _keep_labelled(ds: Dataset, positive_only: bool = False) -> Dataset:
    """Only the queries with at least one outcome (with a positive one if `positive_only`)."""
    flag = ds.target >= OFFERED if positive_only else ds.target != 0
    labelled = np.unique(ds.qid[flag])
    keep = np.isin(ds.qid, labelled)
    return Dataset(ds.X[keep], ds.target[keep], ds.qid[keep], ds.di[keep], ds.pi[keep])


def ndcg_at(scores: np.ndarray, gain: np.ndarray, qid: np.ndarray, k: int = 10) -> tuple[float, int]:
    """Mean NDCG@k over queries with a positive gain and at least two candidates; ties are averaged."""
    values = []
    bounds = np.flatnonzero(np.diff(qid)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(qid)], strict=True):
        if hi - lo < 2 or gain[lo:hi].max() <= 0:
            continue
        values.append(ndcg_score(gain[None, lo:hi], scores[None, lo:hi], k=k))
    return (float(np.mean(values)) if values else 0.0), len(values)


def _fit_hgb(ds: Dataset):
    # Small trees, a brisk learning rate and early stopping: serving cost grows with the number of
    # trees, and an institution's request scores up to 75,000 pairs. Measured on the synthetic
    # worlds, learning rate 0.25 instead of 0.1 needs 2.2 times fewer trees for 0.005 less NDCG@10.
    est = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.25, max_leaf_nodes=15, min_samples_leaf=20,
                                        l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
                                        n_iter_no_change=15, random_state=0)
    return est.fit(ds.X, ds.target)


def _pairs_within(groups: np.ndarray, target: np.ndarray, rng, per_row: int = 8) -> tuple[list, list]:
    """(better, worse) row pairs inside each group: `per_row` worse rows drawn for each better row."""
    a_idx, b_idx = [], []
    order = np.lexsort((target, groups))  # by group, then grade: the worse rows of a row are a prefix
    g, t = groups[order], target[order]
    bounds = np.flatnonzero(np.diff(g)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(g)], strict=True):
        if t[lo] == t[hi - 1]:
            continue
        for grade in np.unique(t[lo:hi])[1:]:
            n_lower = np.searchsorted(t[lo:hi], grade)  # rows lo .. lo+n_lower-1 have a lower grade
            better = order[lo + np.flatnonzero(t[lo:hi] == grade)]
            worse = order[lo + rng.integers(0, n_lower, size=(len(better), per_row))]
            a_idx.append(np.repeat(better, per_row))
            b_idx.append(worse.ravel())
    return a_idx, b_idx


def _fit_pairwise(ds: Dataset, max_pairs: int = 200_000, seed: int = 0):
    """Logistic regression on feature differences of better-vs-worse pairs (RankNet-like, linear).

    Pairs come from both directions the platform ranks in: products of one demand, and demands of
    one product. The second is needed because the enterprise's profile is constant within a demand,
    so pairs of one demand alone could never learn that a fund prefers 专精特新 enterprises.
    """
    rng = np.random.default_rng(seed)
    a1, b1 = _pairs_within(ds.qid, ds.target, rng)
    a2, b2 = _pairs_within(ds.pi, ds.target, rng)
    if not a1 + a2:
        raise NotEnoughHistory("no pair of candidates with different outcomes to learn from")
    a_idx, b_idx = np.concatenate(a1 + a2), np.concatenate(b1 + b2)
    if len(a_idx) > max_pairs:
        sel = rng.choice(len(a_idx), size=max_pairs, replace=False)
        a_idx, b_idx = a_idx[sel], b_idx[sel]
    diff = ds.X[a_idx] - ds.X[b_idx]
    # Both orientations, so the classes balance and no intercept is needed.
    Xd = np.vstack([diff, -diff])
    yd = np.r_[np.ones(len(diff)), np.zeros(len(diff))]
    pipe = make_pipeline(StandardScaler(with_mean=False), LogisticRegression(fit_intercept=False, C=1.0, max_iter=500))
    return pipe.fit(Xd, yd)


_FITTERS = {"hgb": _fit_hgb, "pairwise": _fit_pairwise}


_controller: ThreadpoolController | None = None


def _one_thread() -> AbstractContextManager:
    """Serve predictions on one OpenMP thread.

    Requests run side by side in several workers; OpenMP threads that wait for a busy core spin. On
    the loaded two-core machine this turned a 10 ms prediction into 150 ms at the 95th percentile,
    and 62,000 rows took 200–370 ms on two threads against 130 ms on one.
    The controller is built once: scanning the loaded libraries on every call would cost milliseconds.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="openmp")


def _predict(estimator, X: np.ndarray) -> np.ndarray:
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X)
    return estimator.predict(X)


class RankingModel:
    """A trained ranker with the feature set it was trained with and its metadata."""

    def __init__(self, estimator, featureset: FeatureSet, baseline: np.ndarray, meta: dict,
                 proxy: np.ndarray | None = None):
        self.estimator = estimator
        self.featureset = featureset
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.meta = meta
        # Linear approximation of the model (coefficients then intercept), for shortlisting.
        self.proxy = None if proxy is None else np.asarray(proxy, dtype=np.float64)
        # The trees walked by compiled code (same scores, a quarter of the time); None for a linear model.
        self.compiled = CompiledEnsemble.of(estimator)

    @property
    def version(self) -> str:
        """The version label, e.g. ``v20260301T120000``."""
        return self.meta["version"]

    @property
    def name(self) -> str:
        """How the scorer is named to users and in JSON output."""
        return f"model {self.version}"

    notice = None

    def score(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Scores of a feature matrix, or of its rows `rows` (higher is better)."""
        if self.compiled is not None:
            return self.compiled.predict(X, rows)
        if rows is not None:
            X = X[rows]
        if len(X) == 0:
            return np.zeros(0)
        with _one_thread():
            return _predict(self.estimator, X)

    def rank_scores(self, X: np.ndarray, keep: int, kinds: np.ndarray | None = None) -> np.ndarray:
        """Scores good enough to pick the best `keep` rows: every row exact when the trees are compiled
        (or the model is linear); otherwise exact for the shortlist the linear proxy ranks highest and
        -inf for the rest (every row exact below SHORTLIST_MIN rows).

        `kinds` gives each row's product kind (index in KINDS), choosing the proxy line per kind.
        """
        size = max(SHORTLIST_MIN, int(SHORTLIST_SHARE * len(X)), 2 * keep)
        cheap = self.compiled is not None or not hasattr(self.estimator, "_predictors")
        if cheap or self.proxy is None or len(X) <= size:
            return self.score(X)
        kinds = np.zeros(len(X), dtype=np.int64) if kinds is None else np.asarray(kinds)
        if (kinds == kinds[0]).all():
            # One institution's products are nearly always of one kind: one matrix-vector product.
            approx = X @ self.proxy[kinds[0], :-1]
        else:
            # Lines of different kinds are compared with each other: their intercepts count.
            approx = (X @ self.proxy[:, :-1].T)[np.arange(len(X)), kinds] + self.proxy[kinds, -1]
        # Sorted, so the rows are visited in memory order.
        short = np.sort(np.argpartition(-approx, size)[:size])
        out = np.full(len(X), -np.inf)
        out[short] = self.score(X, short)
        return out

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's local contribution: the score minus the score with that feature at its training mean.

        One batched prediction of n × n_features rows; used for the handful of rows shown to users.
        """
        n, f = X.shape
        if n == 0:
            return np.zeros((0, f))
        full = self.score(X)
        occluded = np.repeat(X[:, None, :], f, axis=1)
        occluded[:, np.arange(f), np.arange(f)] = self.baseline
        return full[:, None] - self.score(occluded.reshape(n * f, f)).reshape(n, f)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, model_dir: str | os.PathLike) -> Path:
        """Write `<model_dir>/ranking/<version>/` (skops + JSON metadata) and point `current` at it."""
        root = Path(model_dir) / "ranking"
        target = root / self.version
        target.mkdir(parents=True, exist_ok=False)
        blob = sio.dumps({"estimator": self.estimator, "vectorizer": self.featureset.vectorizer,
                          "baseline": self.baseline, "proxy": self.proxy})
        (target / MODEL_FILE).write_bytes(blob)
        meta = dict(self.meta, sha256=hashlib.sha256(blob).hexdigest())
        (target / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        # Point at the new version atomically, so a reader never sees a half-written pointer.
        tmp = root / f".{POINTER}.{os.getpid()}"
        tmp.write_text(self.version, encoding="utf-8")
        os.replace(tmp, root / POINTER)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> RankingModel:
        """Load one version directory; raises ArtifactError if anything is missing, damaged or foreign."""
        path = Path(path)
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            blob = (path / MODEL_FILE).read_bytes()
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot read {path}: {exc}") from exc
        if meta.get("format") != FORMAT or tuple(meta.get("feature_names", ())) != FEATURE_NAMES:
            raise ArtifactError(f"{path} was trained with other features or format")
        if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
            raise ArtifactError(f"{path / MODEL_FILE} does not match its checksum (damaged or truncated)")
        try:
            parts = sio.loads(blob, trusted=TRUSTED_TYPES)
        except Exception as exc:  # skops raises many kinds of errors on a bad file
            raise ArtifactError(f"cannot load {path / MODEL_FILE}: {exc}") from exc
        return cls(parts["estimator"], FeatureSet(parts["vectorizer"]), parts["baseline"], meta, parts["proxy"])


# --- training and evaluation -------------------------------------------------------------------

def _prepare(demands, products, outcomes, featureset: FeatureSet | None):
    fs = featureset or FeatureSet().fit_text([d.text for d in demands] + [p.text for p in products])
    d, p = fs.encode_demands(demands), fs.encode_products(products)
    return fs, d, p, fs.history(outcomes, demands)


def _version(now: datetime) -> str:
    return "v" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def train(demands: Sequence[DemandRecord], products: Sequence[ProductRecord], outcomes: Sequence[OutcomeRecord],
          split_at: datetime, *, min_queries: int = MIN_QUERIES, algorithm: str = "auto",
          now: datetime | None = None, evaluate_after: bool = True) -> RankingModel:
    """Train on the demands created and the outcomes recorded before `split_at`.

    `algorithm` is "hgb" (gradient-boosted trees on graded labels), "pairwise" (logistic regression on
    pair differences) or "auto" (both, keeping the one with the better NDCG@10 on the last fifth of the
    training period). With `evaluate_after`, the metadata holds NDCG@10 on the demands after the split.
    Raises NotEnoughHistory when fewer than `min_queries` demands before the split have an offer.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    fs, d, p, history = _prepare(demands, products, outcomes, None)
    cut = to_timestamp(split_at)
    rows = np.flatnonzero(d.created_at < cut)
    ds = _keep_labelled(build_dataset(fs, d, p, history, outcomes, rows, cut))
    n_queries = len(np.unique(ds.qid[ds.target >= OFFERED]))
    if n_queries < min_queries:
        raise NotEnoughHistory(
            f"历史对接记录不足：{split_at:%Y-%m-%d} 之前只有 {n_queries} 个需求获得过报价，至少需要 {min_queries} 个；"
            f"继续使用规则评分 (not enough history: {n_queries} labelled demands, {min_queries} needed)")
    chosen, selection = algorithm, {}
    if algorithm == "auto":
        chosen, selection = _select(ds, d)
    estimator = _FITTERS[chosen](ds)
    meta = {
        "format": FORMAT, "version": _version(now), "trained_at": now.astimezone(UTC).isoformat(),
        "split_at": split_at.isoformat(), "algorithm": chosen, "feature_names": list(FEATURE_NAMES),
        "training": {"queries": int(n_queries), "pairs": len(ds.target),
                     "seconds": round(time.perf_counter() - started, 2)},
        "selection": selection, "sklearn": sklearn.__version__, "metrics": {},
    }
    predicted = _predict(estimator, ds.X)
    proxy, r2 = _fit_proxy(ds.X, predicted, p.kind_code[ds.pi])
    meta["training"]["proxy_r2"] = r2
    model = RankingModel(estimator, fs, ds.X.mean(axis=0), meta, proxy)
    if evaluate_after:
        model.meta["metrics"] = evaluate(demands, products, outcomes, split_at, model=model, _prepared=(fs, d, p, history))
    return model


def _fit_proxy(X: np.ndarray, predicted: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear approximations of the model, one per product kind (KINDS order).

    An institution's products are nearly always of one kind, and funds and guarantors weigh the
    enterprise differently from banks, so one line per kind sorts an institution's pairs far better
    than one line for all. The proxy only has to sort the upper part well: the lower half counts a
    tenth. Returns a (len(KINDS), n_features + 1) array (coefficients, then intercept) and the
    mean weighted R². A kind without enough rows borrows the line fitted on all rows.
    """
    def fit(rows):
        y = predicted[rows]
        weight = np.where(y >= np.median(y), 1.0, 0.1)
        line = LinearRegression().fit(X[rows], y, sample_weight=weight)
        return np.r_[line.coef_, line.intercept_], line.score(X[rows], y, sample_weight=weight)

    everything, r2_all = fit(np.ones(len(X), dtype=bool))
    proxy = np.tile(everything, (len(KINDS), 1))
    r2 = []
    for k in range(len(KINDS)):
        rows = kinds == k
        if rows.sum() >= 10 * X.shape[1]:
            proxy[k], score = fit(rows)
            r2.append(score)
    return proxy, round(float(np.mean(r2) if r2 else r2_all), 4)


def _select(ds: Dataset, d: DemandTable) -> tuple[str, dict]:
    """Pick the algorithm by NDCG@10 on the latest fifth of the training queries (a time split)."""
    created = d.created_at[ds.qid]
    cut = np.quantile(created, 0.8)
    early, late = created < cut, created >= cut
    fit = Dataset(ds.X[early], ds.target[early], ds.qid[early], ds.di[early], ds.pi[early])
    scores = {}
    for name, fitter in _FITTERS.items():
        est = fitter(fit)
        scores[name] = ndcg_at(_predict(est, ds.X[late]), ds.gain[late], ds.qid[late])[0]
    return max(scores, key=scores.get), {"validation_ndcg@10": {k: round(v, 4) for k, v in scores.items()}}


def evaluate(demands: Sequence[DemandRecord], products: Sequence[ProductRecord], outcomes: Sequence[OutcomeRecord],
             split_at: datetime, model: RankingModel | None = None, *, k: int = 10, _prepared=None) -> dict:
    """NDCG@k on the demands created from `split_at` on: the model (if given), the rule and text only.

    Each demand is a query over its candidate products; its features use only history before the
    demand was created, and its labels are everything that happened to it.
    """
    if _prepared is None:
        _prepared = _prepare(demands, products, outcomes, model.featureset if model else None)
    fs, d, p, history = _prepared
    rows = np.flatnonzero(d.created_at >= to_timestamp(split_at))
    ds = _keep_labelled(build_dataset(fs, d, p, history, outcomes, rows, None), positive_only=True)
    result = {}
    n = 0
    scorers = {"rule": rule_scores, "text": text_scores}
    if model is not None:
        scorers = {"model": model.score, **scorers}
    for name, fn in scorers.items():
        result[name], n = ndcg_at(fn(ds.X), ds.gain, ds.qid, k)
        result[name] = round(result[name], 4)
    return {f"ndcg@{k}": result, "queries": n, "pairs": len(ds.target), "split_at": split_at.isoformat(),
            "scorer": model.name if model else "rule"}


# --- the registry: versioned directories, a `current` pointer, lazy cached loading -------------

_cache: dict[str, tuple[tuple, RankingModel | None]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget loaded models (tests; a worker that wants to re-read the disk)."""
    with _lock:
        _cache.clear()


def _stamp(path: Path) -> tuple:
    try:
        st = (path / MODEL_FILE).stat()
        return (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return (str(path), None, None)


def load_current(model_dir: str | os.PathLike | None) -> RankingModel | None:
    """The current model of `model_dir`, loaded once per process and version; None means "use the rule".

    Never raises: a missing pointer means nothing was trained yet; a missing or damaged artifact is
    logged as a warning (once per state of the file) and the rule score takes over.
    """
    if model_dir is None:
        return None
    root = Path(model_dir) / "ranking"
    try:
        version = (root / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        version = None
    path = root / version if version else root
    stamp = _stamp(path) if version else ("none", str(root))
    with _lock:
        hit = _cache.get(str(root))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        model = None
        if not version:
            log.info("no ranking model trained in %s; the rule score is in use", root)
        else:
            try:
                model = RankingModel.load(path)
                log.info("loaded ranking model %s from %s", model.version, path)
            except ArtifactError as exc:
                log.warning("ranking model unusable, falling back to the rule score: %s", exc)
        _cache[str(root)] = (stamp, model)
        return model
