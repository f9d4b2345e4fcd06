"""Pair proposals for participants who asked for few meetings: a transparent rule score, replaceable."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from models import Organization, OrgKind, Size

# Enterprises that asked for fewer meetings than this get proposals up to it.
FEW_REQUESTS = 3


@dataclass(frozen=True)
class Proposal:
    enterprise: Organization
    institution: Organization
    score: float  # in [0, 1]
    reasons: tuple[str, ...] = field(default=())


def rule_score(enterprise: Organization, institution: Organization, city) -> tuple[float, list[str]]:
    """Fit of an enterprise and an institution from what both already have: district, size, cluster.

    Institutions have no products yet, so the rule only looks at where the institution serves,
    what kind it is and the enterprise's profile. Each part adds to a score in [0, 1] with a reason
    a person can read.
    """
    score, reasons = 0.0, []
    if institution.district is None:
        score += 0.3
        reasons.append("机构服务全市")
    elif institution.district == enterprise.district:
        score += 0.4
        reasons.append(f"同在{enterprise.district}")
    else:
        score += 0.1
    small = enterprise.size in (Size.SMALL, Size.MICRO)
    tagged = bool(set(enterprise.tags or ()) & {"高新技术企业", "专精特新", "瞪羚企业", "科技型中小企业"})
    if institution.kind == OrgKind.FUND and tagged:
        score += 0.35
        reasons.append("基金偏好科技型、专精特新企业")
    elif institution.kind == OrgKind.GUARANTOR and small:
        score += 0.35
        reasons.append("担保机构服务中小微企业")
    elif institution.kind == OrgKind.BANK and enterprise.size in (Size.MEDIUM, Size.SMALL, Size.MICRO):
        score += 0.3
        reasons.append("银行普惠信贷覆盖中小企业")
    else:
        score += 0.1
    if enterprise.industry in getattr(city, "emerging_clusters", ()):
        score += 0.25
        reasons.append(f"{enterprise.industry}属新兴产业集群")
    elif enterprise.industry:
        score += 0.15
        reasons.append(f"{enterprise.industry}属传统产业集群")
    return min(round(score, 3), 1.0), reasons


# The ranking issue replaces this with the trained model: same signature, same [0, 1] range.
PairScorer = Callable[[Organization, Organization, object], tuple[float, list[str]]]
_scorer: PairScorer = rule_score


def set_pair_scorer(scorer: PairScorer | None) -> None:
    """Plug in another pair scorer (None restores the rule score)."""
    global _scorer
    _scorer = scorer or rule_score


def pair_scorer() -> PairScorer:
    return _scorer
