"""Matching and ranking (DESIGN §6): hard-constraint filter, pair features, rule score, learned model."""
from .candidates import candidate_pairs, demands_for_product, products_for_demand
from .features import FEATURE_NAMES, FEATURES, Feature, FeatureSet, HistoryIndex, Pairs, reason_text
from .model import (
    MIN_QUERIES,
    ArtifactError,
    NotEnoughHistory,
    RankingModel,
    clear_cache,
    evaluate,
    load_current,
    train,
)
from .recommend import (
    Ranker,
    Recommendation,
    Recommendations,
    recommend_for_demand,
    recommend_for_institution,
)
from .records import GRADES, DemandRecord, OutcomeRecord, ProductRecord
from .rule import RULE_NOTICE, RULE_WEIGHTS, RuleScorer, rule_scores, text_scores
from .tables import DemandTable, ProductTable

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "GRADES",
    "MIN_QUERIES",
    "RULE_NOTICE",
    "RULE_WEIGHTS",
    "ArtifactError",
    "DemandRecord",
    "DemandTable",
    "Feature",
    "FeatureSet",
    "HistoryIndex",
    "NotEnoughHistory",
    "OutcomeRecord",
    "Pairs",
    "ProductRecord",
    "ProductTable",
    "Ranker",
    "RankingModel",
    "Recommendation",
    "Recommendations",
    "RuleScorer",
    "candidate_pairs",
    "clear_cache",
    "demands_for_product",
    "evaluate",
    "load_current",
    "products_for_demand",
    "reason_text",
    "recommend_for_demand",
    "recommend_for_institution",
    "rule_scores",
    "text_scores",
    "train",
]
