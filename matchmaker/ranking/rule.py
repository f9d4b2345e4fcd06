"""The transparent rule score: a weighted sum of a few features, used until there is enough history."""
from __future__ import annotations

import numpy as np

from .features import FEATURE_NAMES, FeatureSet

# Weights a person can read and argue with. Purpose and text carry most: they say whether the
# product was made for this kind of project. Scope features give 0.5 for "open to all" and 1 for
# "named", so a product made for the cluster or purpose beats a generic one. The history and the
# enterprise profile are left out on purpose: the rule must not favour the institutions and
# enterprises that are already served.
RULE_WEIGHTS: dict[str, float] = {
    "purpose_match": 2.0,
    "text_similarity": 2.0,
    "industry_match": 1.5,
    "amount_fit": 1.0,
    "rate_fit": 1.0,
    "collateral_match": 1.0,
    "credit_fit": 0.5,
    "term_fit": 0.5,
    "district_match": 0.5,
    "size_match": 0.5,
}
RULE_NAME = "rule"
RULE_NOTICE = "尚无可用的排序模型（历史对接数据不足或模型不可用），当前按透明规则评分排序"

_WEIGHT_VECTOR = np.array([RULE_WEIGHTS.get(n, 0.0) for n in FEATURE_NAMES])


def rule_scores(X: np.ndarray) -> np.ndarray:
    """The rule score of each row of a feature matrix (columns in FEATURE_NAMES order)."""
    return X @ _WEIGHT_VECTOR


def text_scores(X: np.ndarray) -> np.ndarray:
    """The text-only baseline: the text similarity feature alone."""
    return X[:, FEATURE_NAMES.index("text_similarity")]


class RuleScorer:
    """The rule as a scorer: same interface as the trained model (score, contributions, name)."""

    name = RULE_NAME
    version = None
    notice = RULE_NOTICE

    def __init__(self, featureset: FeatureSet):
        self.featureset = featureset

    def score(self, X: np.ndarray) -> np.ndarray:
        """Rule scores of a feature matrix."""
        return rule_scores(X)

    def rank_scores(self, X: np.ndarray, keep: int, kinds: np.ndarray | None = None) -> np.ndarray:
        """The rule is cheap: every row gets its exact score."""
        return rule_scores(X)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's part of the score: its weight times its value (they sum to the score)."""
        return X * _WEIGHT_VECTOR
