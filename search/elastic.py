"""The Elasticsearch backend, through the official client: explicit mappings, bulk writes, alias swaps.

Each document type lives behind an alias (`<prefix>-demand`) that points at one versioned index
(`<prefix>-demand-v<ns>`). A rebuild fills a new version and swaps the alias in one
`_aliases` call (remove + add), so searches never see a half-built index; the old version is then
deleted. Writes made while a rebuild runs go to every version (see `_targets`), and the rebuild
uses `create`, so a newer document written meanwhile is never overwritten by the rebuild's copy.

Text fields use the built-in `cjk` analyzer (configurable), and queries are match_phrase clauses
built from the same search.analysis parsing as the embedded backend, synonyms expanded client-side,
so both backends find the same documents.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from search.analysis import Clause
from search.backend import Document, Loader, Progress, SearchBackend, SearchUnavailable
from search.query import FILTER_KEYS, RANGE_KEYS, SearchQuery, SearchResult, sorted_counts
from search.query import Hit as SearchHit

TEXT_FIELDS = {"title": 2.0, "description": 1.0, "keywords": 1.0}
HIGHLIGHT_FIELDS = ("title", "description")
CHUNK = 500
FACET_SIZE = 1000
# Money in 万元 to the yuan, rates to 1/10,000 %: the same precision as the database and the embedded index.
SCALED = {"amount": 10_000, "rate": 10_000}


def mappings(analyzer: str = "cjk") -> dict[str, Any]:
    """The explicit mapping shared by every document type (dynamic fields are refused)."""
    properties: dict[str, Any] = {"type": {"type": "keyword"}, "ref": {"type": "keyword"}}
    for name in TEXT_FIELDS:
        properties[name] = {"type": "text", "analyzer": analyzer}
    for key in FILTER_KEYS:
        properties[key] = {"type": "keyword"}
    for key in RANGE_KEYS:
        spec = ({"type": "scaled_float", "scaling_factor": SCALED[key]} if key in SCALED else {"type": "integer"})
        properties[f"{key}_min"] = dict(spec)
        properties[f"{key}_max"] = dict(spec)
    properties["created_at"] = {"type": "date"}
    properties["valid_until"] = {"type": "date"}
    return {"dynamic": "strict", "properties": properties}


SETTINGS = {"number_of_shards": 1, "max_result_window": 10_000}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def source(doc: Document) -> dict[str, Any]:
    """The _source Elasticsearch stores: mapped keys only, no nulls, JSON types."""
    allowed = mappings()["properties"]
    return {k: _plain(v) for k, v in doc.items() if k in allowed and v is not None and v != []}


class ElasticBackend(SearchBackend):
    """Search through an Elasticsearch cluster; `client` is an elasticsearch.Elasticsearch."""

    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, prefix: str = "matchmaker", analyzer: str = "cjk",
                 synonyms: Sequence[Sequence[str]] = (), refresh: bool = False,
                 clock: Callable[[], int] = time.time_ns):
        super().__init__(synonyms)
        self.client = client
        self.prefix = prefix
        self.analyzer = analyzer
        # refresh=True makes every write visible at once (tests); production relies on the 1 s refresh.
        self.refresh = refresh
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, **kwargs) -> ElasticBackend:
        """A backend on the cluster at `url` (credentials may be in the URL)."""
        client = Elasticsearch(url, request_timeout=10, max_retries=1, retry_on_timeout=True)
        return cls(client, **kwargs)

    def alias(self, doc_type: str) -> str:
        """The alias searches and writes use for `doc_type`."""
        return f"{self.prefix}-{doc_type}"

    # -- index management -----------------------------------------------------------------------

    def _create(self, doc_type: str) -> str:
        name = f"{self.alias(doc_type)}-v{self.clock()}"
        self.client.indices.create(index=name, mappings=mappings(self.analyzer), settings=SETTINGS)
        return name

    def _versions(self, doc_type: str) -> dict[str, bool]:
        """Every version index of `doc_type` -> whether the alias points at it."""
        alias = self.alias(doc_type)
        try:
            found = self.client.indices.get_alias(index=f"{alias}-v*")
        except NotFoundError:
            return {}
        return {name: alias in (info.get("aliases") or {}) for name, info in found.body.items()}

    def _targets(self, doc_type: str) -> list[str]:
        """Where a write goes: the live version and any version a rebuild is filling; created if none."""
        versions = self._versions(doc_type)
        if versions:
            return sorted(versions)
        name = self._create(doc_type)
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias(doc_type)}}])
        return [name]

    def _bulk(self, operations: list[dict[str, Any]], ignore: tuple[str, ...] = ()) -> None:
        if not operations:
            return
        response = self.client.bulk(operations=operations, refresh=self.refresh)
        if response.get("errors"):
            for item in response["items"]:
                (action, result), = item.items()
                error = result.get("error")
                if error and error.get("type") not in ignore:
                    raise SearchUnavailable(f"bulk {action} of {result.get('_id')} failed: "
                                            f"{error.get('type')}: {error.get('reason')}")

    def _write(self, doc_type: str, documents: Sequence[Document], refs: Sequence[str]) -> int:
        try:
            targets = self._targets(doc_type)
            operations: list[dict[str, Any]] = []
            for index in targets:
                for ref in refs:
                    operations.append({"delete": {"_index": index, "_id": ref}})
                for doc in documents:
                    operations += [{"index": {"_index": index, "_id": doc["ref"]}}, source(doc)]
            self._bulk(operations)
        except (ApiError, TransportError) as e:
            raise SearchUnavailable(f"elasticsearch: {e}") from e
        return len(documents) + len(refs)

    # -- writes ---------------------------------------------------------------------------------

    def index(self, doc_type: str, documents: Iterable[Document]) -> int:
        """Index (replace) documents by ref with one bulk request."""
        docs = list({d["ref"]: d for d in documents}.values())
        return self._write(doc_type, docs, ())

    def delete(self, doc_type: str, refs: Iterable[str]) -> int:
        """Delete documents by ref with one bulk request; a missing ref is not an error."""
        return self._write(doc_type, (), list(dict.fromkeys(refs)))

    def apply(self, doc_type: str, refs: Sequence[str], loader: Loader) -> tuple[int, int]:
        """Load, then write upserts and deletes in a single bulk request."""
        docs = loader(doc_type, list(refs))
        upserts = [d for r in refs if (d := docs.get(r)) is not None]
        deletes = [r for r in refs if docs.get(r) is None]
        self._write(doc_type, upserts, deletes)
        return len(upserts), len(deletes)

    def rebuild(self, doc_type: str, documents: Iterable[Document], progress: Progress | None = None) -> int:
        """Fill a new version, refresh it, swap the alias atomically, delete the old versions."""
        alias = self.alias(doc_type)
        try:
            name = self._create(doc_type)
            n, chunk = 0, []
            for doc in documents:
                chunk += [{"create": {"_index": name, "_id": doc["ref"]}}, source(doc)]
                if len(chunk) >= 2 * CHUNK:
                    self._bulk(chunk, ignore=("version_conflict_engine_exception",))
                    n += len(chunk) // 2
                    if progress:
                        progress(len(chunk) // 2)
                    chunk = []
            if chunk:
                self._bulk(chunk, ignore=("version_conflict_engine_exception",))
                n += len(chunk) // 2
                if progress:
                    progress(len(chunk) // 2)
            self.client.indices.refresh(index=name)
            old = [v for v, live in sorted(self._versions(doc_type).items()) if live and v != name]
            actions = [{"remove": {"index": v, "alias": alias}} for v in old]
            actions.append({"add": {"index": name, "alias": alias}})
            self.client.indices.update_aliases(actions=actions)
            stale = [v for v in self._versions(doc_type) if v != name]
            if stale:
                self.client.indices.delete(index=",".join(stale))
        except (ApiError, TransportError) as e:
            raise SearchUnavailable(f"elasticsearch: {e}") from e
        return n

    def drop_all(self) -> None:
        """Delete every index of this prefix (tests, or starting over)."""
        try:
            names = list(self.client.indices.get_alias(index=f"{self.prefix}-*").body)
        except NotFoundError:
            return
        if names:
            self.client.indices.delete(index=",".join(names))

    # -- reads ----------------------------------------------------------------------------------

    def count(self, doc_type: str) -> int:
        """Documents behind the alias of `doc_type` (0 before the first write)."""
        try:
            return int(self.client.count(index=self.alias(doc_type))["count"])
        except NotFoundError:
            return 0
        except (ApiError, TransportError) as e:
            raise SearchUnavailable(f"elasticsearch: {e}") from e

    def ping(self) -> bool:
        """The cluster answers."""
        try:
            return bool(self.client.ping())
        except Exception:  # ping must never raise: it feeds health pages
            return False

    def _text(self, clauses: list[Clause]) -> list[dict[str, Any]]:
        out = []
        for clause in clauses:
            should = []
            for phrase in clause.phrases:
                for name, boost in TEXT_FIELDS.items():
                    if phrase.single_char:
                        should.append({"regexp": {name: {"value": phrase.pattern, "boost": boost}}})
                    else:
                        should.append({"match_phrase": {name: {"query": phrase.text, "boost": boost}}})
            out.append({"bool": {"should": should, "minimum_should_match": 1}})
        return out

    def _filters(self, query: SearchQuery) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for key, values in query.filters.items():
            out.append({"term": {key: values[0]}} if len(values) == 1 else {"terms": {key: list(values)}})
        for key, (lo, hi) in query.ranges.items():
            # Overlap of [min, max] with [lo, hi], as in the embedded backend.
            if lo is not None:
                out.append({"range": {f"{key}_max": {"gte": _plain(lo)}}})
            if hi is not None:
                out.append({"range": {f"{key}_min": {"lte": _plain(hi)}}})
        return out

    def request_body(self, query: SearchQuery) -> dict[str, Any]:
        """The _search body of a query (public so tests and operators can see what is sent)."""
        clauses = query.clauses(self.synonyms)
        must, filters = self._text(clauses), self._filters(query)
        body: dict[str, Any] = {
            "query": {"bool": {"must": must, "filter": filters}} if must or filters else {"match_all": {}},
            "from": query.offset,
            "size": query.per_page,
            "track_total_hits": True,
            "_source": False,
        }
        sort = query.effective_sort
        # ref breaks ties, so pages never overlap or skip when scores or values are equal.
        body["sort"] = {
            "relevance": ["_score", {"ref": "asc"}],
            "newest": [{"created_at": {"order": "desc"}}, {"ref": "asc"}],
            "amount": [{"amount_max": {"order": "desc"}}, {"ref": "asc"}],
            "amount_asc": [{"amount_min": {"order": "asc"}}, {"ref": "asc"}],
        }[sort]
        if query.facets:
            body["aggs"] = {f: {"terms": {"field": f, "size": FACET_SIZE}} for f in query.facets}
        if clauses:
            body["highlight"] = {
                "pre_tags": ["<em>"], "post_tags": ["</em>"], "encoder": "html",
                "fields": {f: {"number_of_fragments": 1, "fragment_size": 100} for f in HIGHLIGHT_FIELDS},
            }
        return body

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of hits, the exact total and the facet counts, from one _search request."""
        body = self.request_body(query)
        try:
            response = self.client.search(index=self.alias(query.doc_type), body=body)
        except NotFoundError:
            return SearchResult(0, [], {f: {} for f in query.facets}, query.page, query.per_page)
        except (ApiError, TransportError) as e:
            raise SearchUnavailable(f"elasticsearch: {e}") from e
        sort = query.effective_sort
        hits = [
            SearchHit(ref=h["_id"],
                      score=float(h["_score"]) if sort == "relevance" and h.get("_score") is not None else None,
                      highlights={k: list(v) for k, v in (h.get("highlight") or {}).items()})
            for h in response["hits"]["hits"]
        ]
        aggs = response.get("aggregations") or {}
        facets = {f: sorted_counts({str(b["key"]): int(b["doc_count"]) for b in aggs.get(f, {}).get("buckets", [])})
                  for f in query.facets}
        return SearchResult(int(response["hits"]["total"]["value"]), hits, facets, query.page, query.per_page)
