"""The search query and result objects shared by every backend, with validation that speaks Chinese."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from search.analysis import Clause, TextError, parse_text

DOC_TYPES = ("demand", "product", "organization")
# Keyword fields every document may carry; filters and facets use the same names.
FILTER_KEYS = ("district", "cluster", "purpose", "financing_type", "collateral", "status", "size", "kind",
               "amount_band", "tag")
FACET_KEYS = FILTER_KEYS
# A range (lo, hi) on `amount` keeps documents whose [amount_min, amount_max] overlaps it; a demand has
# min == max, a product a span, so "products that can lend 800 万元" is ranges={"amount": (800, 800)}.
RANGE_KEYS = ("amount", "term", "rate")
SORTS = ("relevance", "newest", "amount", "amount_asc")
MAX_TEXT = 200
# Each term is a phrase query (a single character a term-pattern query): bound the work one search can ask for.
MAX_TERMS = 20
MAX_PER_PAGE = 100
# Elasticsearch's default max_result_window: deeper pages are refused the same way by both backends.
MAX_WINDOW = 10_000
MAX_VALUE_LENGTH = 100

_LABELS = {
    "district": "区（市）", "cluster": "产业集群", "purpose": "融资用途", "financing_type": "融资方式",
    "collateral": "担保方式", "status": "状态", "size": "企业规模", "kind": "类型", "amount_band": "金额区间",
    "tag": "标签", "amount": "金额", "term": "期限", "rate": "利率",
}


class QueryError(ValueError):
    """A query the user must correct: `field` names the input, `message` says why in Chinese."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def as_json(self) -> dict[str, str]:
        """The JSON error body an API returns for this query."""
        return {"field": self.field, "message": self.message}


def _known(kind: str, keys: Sequence[str]) -> str:
    return f"（可用的{kind}：{'、'.join(keys)}）"


def _positive_int(name: str, value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise QueryError(name, message)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise QueryError(name, message) from None
    return number


def _decimal(name: str, value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise QueryError(f"range.{name}", f"{_LABELS.get(name, name)}的范围必须是数字")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise QueryError(f"range.{name}", f"{_LABELS.get(name, name)}的范围必须是数字，收到：{str(value)[:20]}") from None
    if not number.is_finite():
        raise QueryError(f"range.{name}", f"{_LABELS.get(name, name)}的范围必须是有限的数字")
    return number


@dataclass(frozen=True)
class SearchQuery:
    """What to search for; built from user input, checked on construction (raises QueryError).

    `filters` maps a key to a value or a list of values (any of them matches; keys combine with AND).
    `ranges` maps amount/term/rate to (lo, hi) with either end None. `facets` lists the keys to count.
    """

    text: str = ""
    filters: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, Any] = field(default_factory=dict)
    sort: str = "relevance"
    page: Any = 1
    per_page: Any = 20
    facets: Sequence[str] = ()
    doc_type: str = "demand"

    def __post_init__(self):
        text = "" if self.text is None else str(self.text)
        if len(text) > MAX_TEXT:
            raise QueryError("text", f"搜索词过长：最多{MAX_TEXT}个字，当前{len(text)}个字，请精简后再搜索")
        try:
            clauses = parse_text(text)
        except TextError as e:
            raise QueryError("text", e.message) from None
        if len(clauses) > MAX_TERMS:
            raise QueryError("text", f"搜索词过多：最多{MAX_TERMS}个词，当前{len(clauses)}个词")
        object.__setattr__(self, "text", text.strip())

        if self.doc_type not in DOC_TYPES:
            raise QueryError("type", f"不支持的搜索类型：{self.doc_type}{_known('类型', DOC_TYPES)}")
        if self.sort not in SORTS:
            raise QueryError("sort", f"不支持的排序方式：{self.sort}{_known('排序', SORTS)}")

        page = _positive_int("page", self.page, "页码必须是大于或等于1的整数")
        if page < 1:
            raise QueryError("page", "页码必须是大于或等于1的整数")
        per_page = _positive_int("per_page", self.per_page, f"每页条数必须是1到{MAX_PER_PAGE}之间的整数")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryError("per_page", f"每页条数必须是1到{MAX_PER_PAGE}之间的整数")
        if page * per_page > MAX_WINDOW:
            raise QueryError("page", f"页码过大：最多只能翻看前{MAX_WINDOW}条结果，请增加筛选条件")
        object.__setattr__(self, "page", page)
        object.__setattr__(self, "per_page", per_page)

        object.__setattr__(self, "filters", self._check_filters(self.filters))
        object.__setattr__(self, "ranges", self._check_ranges(self.ranges))
        facets = tuple(dict.fromkeys(self.facets or ()))
        for key in facets:
            if key not in FACET_KEYS:
                raise QueryError("facets", f"不支持的统计维度：{key}{_known('维度', FACET_KEYS)}")
        object.__setattr__(self, "facets", facets)

    @staticmethod
    def _check_filters(filters: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for key, value in (filters or {}).items():
            if key not in FILTER_KEYS:
                raise QueryError(f"filter.{key}", f"不支持的筛选条件：{key}{_known('条件', FILTER_KEYS)}")
            values = [value] if isinstance(value, str) or not isinstance(value, Iterable) else list(value)
            clean = []
            for v in values:
                if v is None or isinstance(v, (bool, dict, list, tuple, set)):
                    raise QueryError(f"filter.{key}", f"{_LABELS[key]}的取值无效")
                v = str(getattr(v, "value", v)).strip()
                if not v or len(v) > MAX_VALUE_LENGTH:
                    raise QueryError(f"filter.{key}", f"{_LABELS[key]}的取值不能为空，且不超过{MAX_VALUE_LENGTH}个字")
                clean.append(v)
            if not clean:
                raise QueryError(f"filter.{key}", f"请为{_LABELS[key]}选择至少一个取值")
            out[key] = tuple(dict.fromkeys(clean))
        return out

    @staticmethod
    def _check_ranges(ranges: Mapping[str, Any]) -> dict[str, tuple[Decimal | None, Decimal | None]]:
        out = {}
        for key, bounds in (ranges or {}).items():
            if key not in RANGE_KEYS:
                raise QueryError(f"range.{key}", f"不支持的范围条件：{key}{_known('范围', RANGE_KEYS)}")
            if isinstance(bounds, str) or not isinstance(bounds, Sequence) or len(bounds) != 2:
                raise QueryError(f"range.{key}", f"{_LABELS[key]}的范围应写作（下限, 上限）")
            lo, hi = _decimal(key, bounds[0]), _decimal(key, bounds[1])
            if lo is not None and hi is not None and lo > hi:
                raise QueryError(f"range.{key}", f"{_LABELS[key]}的下限不能大于上限")
            if lo is not None or hi is not None:
                out[key] = (lo, hi)
        return out

    @property
    def offset(self) -> int:
        """How many hits come before this page."""
        return (self.page - 1) * self.per_page

    def clauses(self, synonyms: Sequence[Sequence[str]] = ()) -> list[Clause]:
        """The text as required clauses of phrases, widened by `synonyms` (groups of equivalent terms)."""
        return parse_text(self.text, synonyms)

    @property
    def effective_sort(self) -> str:
        """Relevance means nothing without text: such a query lists the newest first."""
        return "newest" if self.sort == "relevance" and not self.text else self.sort


def parse_filter_args(args: Iterable[str]) -> dict[str, list[str]]:
    """`["district=滕州市", "purpose=green", "district=市中区"]` -> {"district": ["滕州市", "市中区"], ...}."""
    out: dict[str, list[str]] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise QueryError("filter", f"筛选条件应写作 键=值，收到：{arg[:40]}")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


@dataclass
class Hit:
    """One found document: its ref, its score (None when sorted by a field) and highlighted fragments."""

    ref: str
    score: float | None = None
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SearchResult:
    """A page of hits, the total number of matches and the facet counts {facet: {value: count}}."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20

    @property
    def refs(self) -> list[str]:
        """The refs of this page in order: the database loads the rows, the index gives the order."""
        return [h.ref for h in self.hits]

    @property
    def pages(self) -> int:
        """The number of pages, for pagination links."""
        return max(1, -(-self.total // self.per_page))

    def as_json(self, highlights: bool = False) -> dict[str, Any]:
        """The command-line contract: {"total", "hits": [{"ref", "score"}], "facets"}."""
        hits = []
        for h in self.hits:
            item: dict[str, Any] = {"ref": h.ref, "score": None if h.score is None else round(h.score, 4)}
            if highlights:
                item["highlights"] = h.highlights
            hits.append(item)
        return {"total": self.total, "hits": hits, "facets": self.facets}


def sorted_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Facet counts, largest first then by value, zero counts dropped: the same order from every backend."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))
