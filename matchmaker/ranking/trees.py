"""The gradient-boosted trees of a trained model flattened into arrays and walked by compiled code.

scikit-learn's predictor walks one tree over every row, then the next tree: each tree pass streams
the whole feature matrix through memory again, and costs about four times this loop, which takes one
row at a time through every tree while the row's 19 values stay in cache. The arithmetic is the
same (the baseline, then each tree's leaf added in tree order, NaN sent the way the tree learnt), so
the scores are bit-for-bit those of `estimator.predict`; `tests/ranking/test_trees.py` checks it.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

log = logging.getLogger("matchmaker.ranking")

try:
    import numba
except ImportError:  # pragma: no cover - numba is a pinned dependency; without it scikit-learn predicts
    numba = None


def _walk(X, rows, starts, feature, threshold, left, right, leaf, value, missing_left, baseline):
    out = np.empty(len(rows))
    for r in range(len(rows)):
        i = rows[r]
        acc = baseline
        for t in range(len(starts)):
            k = starts[t]
            while not leaf[k]:
                x = X[i, feature[k]]
                if np.isnan(x):
                    k = left[k] if missing_left[k] else right[k]
                elif x <= threshold[k]:
                    k = left[k]
                else:
                    k = right[k]
            acc += value[k]
        out[r] = acc
    return out


def _compile():
    if numba is None:
        return None
    try:
        # Compiled once and cached on disk next to this module; nogil lets threads run it side by side.
        return numba.njit(cache=True, nogil=True)(_walk)
    except RuntimeError:  # no writable cache location (a read-only install): compile in each process
        return numba.njit(nogil=True)(_walk)


_walk_compiled = _compile()

# A large batch (an institution against the pool) is cut in halves walked by two threads when a core
# is idle: the loop releases the GIL, so on a quiet machine the walk takes half the time. On a busy
# one the second half waits for a core and the request ends later than on one thread (measured with
# the load average at 4-5 on two cores), so the split is made only while the load average leaves a
# core free. RANKING_THREADS=1 turns it off.
THREADS = max(1, int(os.environ.get("RANKING_THREADS", "2")))
PARALLEL_MIN = 40_000  # rows; below this a second thread costs more than it saves
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _spare_cores() -> bool:
    """Whether the last minute's load leaves a core free for a second thread."""
    try:
        return os.getloadavg()[0] <= (os.cpu_count() or 1) - 1 + 0.5
    except OSError:  # no load average on this platform
        return False


def _executor() -> ThreadPoolExecutor:
    global _pool
    # Threads do not survive a fork: a worker forked from a process that had the pool makes its own.
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ranking-trees"))
    return _pool[1]


class CompiledEnsemble:
    """A fitted HistGradientBoostingRegressor as flat node arrays (numerical splits only)."""

    def __init__(self, estimator):
        predictors = [tree for per_iteration in estimator._predictors for tree in per_iteration]
        nodes = [p.nodes for p in predictors]
        sizes = np.array([len(n) for n in nodes], dtype=np.int64)
        self.starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
        flat = np.concatenate(nodes)
        if flat["is_categorical"].any():
            raise ValueError("categorical splits are not compiled")
        offset = np.repeat(self.starts, sizes)
        self.feature = flat["feature_idx"].astype(np.int64)
        self.threshold = flat["num_threshold"].astype(np.float64)
        self.left = flat["left"].astype(np.int64) + offset
        self.right = flat["right"].astype(np.int64) + offset
        self.leaf = flat["is_leaf"].astype(np.bool_)
        self.value = flat["value"].astype(np.float64)
        self.missing_left = flat["missing_go_to_left"].astype(np.bool_)
        self.baseline = float(np.asarray(estimator._baseline_prediction).ravel()[0])
        self.n_features = int(estimator.n_features_in_)

    @classmethod
    def of(cls, estimator) -> CompiledEnsemble | None:
        """The compiled form of `estimator`, or None when it is not a single-output tree regressor we can walk."""
        if _walk_compiled is None or not hasattr(estimator, "_predictors") or not hasattr(estimator, "_baseline_prediction"):
            return None
        if np.asarray(estimator._baseline_prediction).size != 1:
            return None
        try:
            return cls(estimator)
        except (ValueError, KeyError) as exc:
            log.info("trees not compiled, scikit-learn predicts: %s", exc)
            return None

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Scores of rows `rows` of X (every row by default), equal to the estimator's `predict`."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} feature columns, got shape {X.shape}")
        rows = np.arange(len(X), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(0)
        args = (self.starts, self.feature, self.threshold, self.left, self.right, self.leaf, self.value,
                self.missing_left, self.baseline)
        if THREADS == 1 or len(rows) < PARALLEL_MIN or not _spare_cores():
            return _walk_compiled(X, rows, *args)
        parts = np.array_split(rows, THREADS)
        futures = [_executor().submit(_walk_compiled, X, part, *args) for part in parts[1:]]
        first = _walk_compiled(X, parts[0], *args)  # this thread walks one part itself
        return np.concatenate([first] + [f.result() for f in futures])
