"""The searchable list pages: a SearchQuery from the request, one search call, rows by refs, or the SQL fallback."""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, request, url_for
from markupsafe import Markup, escape

from matchmaker.search_cli import get_backend, search
from matchmaker.search_index import sync_before_search
from models import db_session
from search.analysis import highlight, needles
from search.backend import SearchUnavailable
from search.documents import ANY
from search.query import MAX_TEXT, QueryError, SearchQuery

UNAVAILABLE = "搜索服务暂时不可用，以下为按条件筛选的结果"
# Arguments every list page reads itself; any other argument must be one of the page's filters.
RESERVED = ("q", "sort", "page")
SORT_LABELS = {"relevance": "按相关度", "newest": "最新发布", "amount": "金额从高到低"}
_MARK = re.compile(r"(</?em>)")


@dataclass
class Listing:
    """What a list page shows: one page of rows, the total, facet counts, highlights and any problem."""

    rows: list
    total: int
    page: int
    per_page: int
    text: str = ""
    sort: str = "relevance"
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    highlights: dict[str, dict[str, Markup]] = field(default_factory=dict)
    degraded: bool = False
    error: QueryError | None = None
    # Keys whose filter also admits 不限 (ANY): a value's count includes the documents that serve all.
    widened: tuple[str, ...] = ()
    # The phrases the query matched (synonyms included), for marking them in a whole title.
    marks: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def mark(self, text: str | None) -> Markup:
        """`text` whole (a title), escaped, with the query's matches in <mark>; a backend's fragments are cut."""
        text = text or ""
        fragments = highlight(text, self.marks, size=10 * len(text) + 1) if self.marks else []
        return safe_highlight(fragments[0]) if fragments else escape(text)

    def count(self, key: str, value: str) -> int | None:
        """The facet count of `value` (None when the page has no counts, e.g. in the fallback)."""
        counts = self.facets.get(key)
        if counts is None:
            return None
        n = counts.get(value, 0)
        return n + counts.get(ANY, 0) if key in self.widened and value != ANY else n


def safe_highlight(fragment: str) -> Markup:
    """A backend's highlighted fragment as safe HTML: everything escaped except the <mark> around matches.

    The backends already escape, but the page does not rely on it: each piece between the marks is
    unescaped and escaped again, so a stray tag in a title can never reach the browser as markup.
    """
    parts = _MARK.split(fragment)
    if parts.count("<em>") != parts.count("</em>"):
        return escape(html.unescape(_MARK.sub("", fragment)))
    out = []
    for part in parts:
        out.append({"<em>": "<mark>", "</em>": "</mark>"}.get(part) or str(escape(html.unescape(part))))
    return Markup("".join(out))


def chosen(args: Mapping, keys: Iterable[str]) -> dict[str, list[str]]:
    """The non-empty values of each filter key (a key may repeat: any of its values matches)."""
    out = {}
    for key in keys:
        values = [v.strip() for v in args.getlist(key) if v and v.strip()]
        if values:
            out[key] = values
    return out


def check_arguments(args: Mapping, allowed: Iterable[str]) -> None:
    """Refuse an argument the page does not know, naming it, rather than silently ignoring a condition."""
    known = {*RESERVED, *allowed}
    for key in args:
        if key not in known:
            raise QueryError(f"filter.{key[:20]}", f"不支持的筛选条件：{key[:20]}，请从页面上的选项中选择")


def rows_by_refs(model: type, refs: Sequence[str], options: Sequence[Any] = ()) -> list:
    """The rows of `refs` in the index's order, in one query; a ref gone from the database is skipped."""
    if not refs:
        return []
    found = {r.ref: r for r in db_session.scalars(sa.select(model).where(model.ref.in_(list(refs))).options(*options))
             .unique()}
    return [found[ref] for ref in refs if ref in found]


def run(args: Mapping, *, doc_type: str, model: type, keys: Sequence[str], facets: Sequence[str],
        fallback: Callable[[int, int], tuple[list, int]], per_page: int = 20, extra: Sequence[str] = (),
        fixed: Mapping[str, Any] | None = None, ranges: Mapping[str, Any] | None = None,
        widen: Callable[[dict], dict] | None = None, options: Sequence[Any] = ()) -> Listing:
    """Search one list page: a bad query becomes a message, a backend that does not answer the fallback.

    `keys` are the facet filters read from the request, `extra` other arguments the page reads itself,
    `fixed` filters the page always applies (scope, status), `widen` adjusts the chosen filters (the
    supermarket adds 不限 to a district), `fallback(page, per_page)` is the page's SQL listing.
    """
    text = (args.get("q") or "")[: MAX_TEXT * 2]
    sort = args.get("sort") or "relevance"
    listing = Listing([], 0, 1, per_page, text=text, sort=sort)
    try:
        check_arguments(args, [*keys, *extra])
        filters = chosen(args, keys)
        if widen:
            filters = widen(filters)
        query = SearchQuery(text=args.get("q") or "", filters={**filters, **(fixed or {})}, ranges=ranges or {},
                            sort=sort, page=args.get("page") or 1, per_page=per_page, facets=facets,
                            doc_type=doc_type)
    except QueryError as e:
        listing.error = e
        return listing
    listing.page, listing.sort = query.page, query.sort
    sync_before_search()
    try:
        result = search(query)
    except SearchUnavailable:
        listing.rows, listing.total = fallback(query.page, per_page)
        listing.degraded = True
        return listing
    listing.marks = needles(query.clauses(get_backend().synonyms))
    listing.rows = rows_by_refs(model, result.refs, options)
    listing.total = result.total
    listing.facets = result.facets
    listing.highlights = {h.ref: {name: safe_highlight(frags[0]) for name, frags in h.highlights.items() if frags}
                          for h in result.hits}
    return listing


def listing_url(endpoint: str, **changes) -> str:
    """This page's address with some arguments changed (None drops one), every other argument kept.

    Changing anything but the page starts again from page 1, so a bookmark never points past the end.
    """
    args = request.args.copy()
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args.setlist(key, [value])
    return url_for(endpoint, **args.to_dict(flat=False))


def init_app(app: Flask) -> None:
    """Make the list pages' helpers available to templates."""
    app.add_template_global(listing_url)
    app.add_template_global(SORT_LABELS, "sort_labels")
    app.add_template_global(UNAVAILABLE, "search_unavailable_message")
