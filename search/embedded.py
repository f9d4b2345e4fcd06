"""The embedded search backend: a tantivy index per document type in a directory, no server needed.

Layout of SEARCH_INDEX_DIR:
    demand.current          the name of the live generation (replaced atomically by a rebuild)
    demand-<ns>/            a tantivy index (one generation); the previous one is kept for slow readers
    demand.lock             an flock(2) file that serialises every writer of this type

Concurrency (two gunicorn workers and CLI commands share the directory): tantivy allows one writer per
index and fails a second with LockBusy, so every write takes our flock first (waiting up to
`lock_timeout`, else SearchUnavailable and the outbox keeps the change), opens a small writer, commits,
waits for merges and drops the writer at once, releasing tantivy's lock too. Readers never lock: each
search stats the pointer file and the generation's meta.json and reopens or reloads when either changed,
so a commit or a rebuild in another process is visible to the next search (a stat costs microseconds).

Text is stored pre-analyzed (search.analysis: CJK bigrams, words) as space-joined tokens in a
multi-valued field with tantivy's whitespace tokenizer; tantivy leaves a position gap between values,
so a phrase never spans two fields. Measured on this 2-core machine (30,000 demands, text field only):
space-joined tokens index at 16,000-19,000 docs/s, PreTokenizedString with Python Token objects at
6,700-7,100 docs/s; tantivy's own ngram(2, 2) tokenizer puts every gram at one position, so phrase
queries find nothing, and it pairs punctuation and Latin letters too, unlike the cjk analyzer.

SQLite FTS5 over the same bigrams was measured as the alternative (bench/bench_search.py): it finds
the same documents, but with filters and five facet counts on 100,000 demands it took ~300 ms p50
against ~2 ms here, because facets are GROUP BY queries over the match set; tantivy's columnar
terms aggregation does them in one pass. Hence tantivy.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import tantivy

from search.analysis import Clause, analyzed, highlight, needles
from search.backend import Document, Loader, Progress, SearchBackend, SearchUnavailable
from search.query import FILTER_KEYS, RANGE_KEYS, SearchQuery, SearchResult, sorted_counts
from search.query import Hit as SearchHit

# Money (万元) and rates (%) are kept as exact integers: 1 万元 = 10,000 units (yuan), 1% = 10,000 units.
SCALE = {"amount": 10_000, "term": 1, "rate": 10_000}
HIGHLIGHT_FIELDS = ("title", "description")
BATCH = 1_000


def scaled(key: str, value: Any) -> int:
    """A money/term/rate value as the exact integer the index stores (held to the index's 64-bit range)."""
    n = int((Decimal(str(value)) * SCALE[key]).to_integral_value())
    # A range typed into a filter may be any size; beyond the 64-bit range it means "no bound" anyway.
    return max(-(2**63), min(n, 2**63 - 1))


def epoch(value: Any) -> int | None:
    """A datetime, date or ISO string as whole seconds since 1970 (UTC), for sorting by newest."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # stored times are naive UTC; an aware one is brought to UTC first
            value = value.astimezone(UTC).replace(tzinfo=None)
        return int((value - datetime(1970, 1, 1)).total_seconds())
    if isinstance(value, date):
        return int((datetime(value.year, value.month, value.day) - datetime(1970, 1, 1)).total_seconds())
    return int(value)


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(getattr(v, "value", v)) for v in value if v is not None and v != ""]
    return [str(getattr(value, "value", value))]


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("ref", stored=True, tokenizer_name="raw")
    sb.add_text_field("text", tokenizer_name="whitespace", index_option="position")
    for key in FILTER_KEYS:
        # raw = one term per value; fast = columnar, which the terms aggregation (facets) reads.
        sb.add_text_field(key, tokenizer_name="raw", fast=True)
    for key in RANGE_KEYS:
        sb.add_integer_field(f"{key}_min", indexed=True, fast=True)
        sb.add_integer_field(f"{key}_max", indexed=True, fast=True)
    sb.add_integer_field("created_at", indexed=True, fast=True)
    sb.add_bytes_field("source", stored=True)
    return sb.build()


SCHEMA = _schema()


def to_tantivy(doc: Document) -> tantivy.Document:
    """The tantivy document of a search document (see search.documents for the keys)."""
    out = tantivy.Document()
    out.add_text("ref", doc["ref"])
    for value in analyzed([doc.get("title"), doc.get("description"), *doc.get("keywords", ())]):
        out.add_text("text", value)
    for key in FILTER_KEYS:
        for value in _values(doc.get(key)):
            out.add_text(key, value)
    for key in RANGE_KEYS:
        for end in ("min", "max"):
            value = doc.get(f"{key}_{end}")
            if value is not None:
                out.add_integer(f"{key}_{end}", scaled(key, value))
    created = epoch(doc.get("created_at"))
    if created is not None:
        out.add_integer("created_at", created)
    source = {k: doc.get(k) or "" for k in HIGHLIGHT_FIELDS}
    out.add_bytes("source", json.dumps(source, ensure_ascii=False).encode())
    return out


class _Reader:
    """A cached open index of one generation and the meta.json state it was last loaded at."""

    def __init__(self, generation: str, index: tantivy.Index, stamp: tuple[int, int, int]):
        self.generation = generation
        self.index = index
        self.stamp = stamp


class EmbeddedBackend(SearchBackend):
    """tantivy indexes under `directory`, one per document type, shared safely between processes."""

    name = "embedded"

    def __init__(self, directory: str | os.PathLike, synonyms: Sequence[Sequence[str]] = (),
                 lock_timeout: float = 10.0, writer_heap: int = 32_000_000, rebuild_heap: int = 128_000_000):
        super().__init__(synonyms)
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout
        self.writer_heap = writer_heap
        self.rebuild_heap = rebuild_heap
        self._readers: dict[str, _Reader] = {}
        self._mutex = threading.Lock()

    # -- files and locks ------------------------------------------------------------------------

    def _pointer(self, doc_type: str) -> Path:
        return self.directory / f"{doc_type}.current"

    @contextmanager
    def _write_lock(self, doc_type: str):
        """The inter-process writer lock of one document type (flock, released if the process dies)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fh = open(self.directory / f"{doc_type}.lock", "a+")  # noqa: SIM115 - held across the yield
        except OSError as e:
            raise SearchUnavailable(f"search index directory {self.directory} is not writable: {e}") from e
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SearchUnavailable(f"the {doc_type} index is busy (another writer)") from None
                    time.sleep(0.02)
            yield
        finally:
            fh.close()  # closing the file releases the flock

    def _generation(self, doc_type: str) -> str | None:
        try:
            return self._pointer(doc_type).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _switch(self, doc_type: str, generation: str) -> None:
        """Point searches at `generation` atomically (rename over the pointer file)."""
        tmp = self.directory / f".{doc_type}.current.{os.getpid()}"
        tmp.write_text(generation)
        os.replace(tmp, self._pointer(doc_type))

    def _new_generation(self, doc_type: str) -> tuple[str, tantivy.Index]:
        generation = f"{doc_type}-{time.time_ns()}"
        path = self.directory / generation
        path.mkdir(parents=True)
        return generation, tantivy.Index(SCHEMA, path=str(path))

    def _live_index(self, doc_type: str) -> tantivy.Index:
        """The live index for writing (call with the write lock held); created empty the first time."""
        generation = self._generation(doc_type)
        if generation is None or not (self.directory / generation).exists():
            generation, index = self._new_generation(doc_type)
            self._switch(doc_type, generation)
            return index
        return tantivy.Index(SCHEMA, path=str(self.directory / generation), reuse=True)

    def _stamp(self, generation: str) -> tuple[int, int, int]:
        # tantivy replaces meta.json by rename on every commit: a new inode even within one mtime tick.
        st = (self.directory / generation / "meta.json").stat()
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _searcher(self, doc_type: str) -> tantivy.Searcher | None:
        """A searcher that sees every commit so far, from any process; None before the first index."""
        generation = self._generation(doc_type)
        if generation is None:
            return None
        with self._mutex:
            reader = self._readers.get(doc_type)
            try:
                stamp = self._stamp(generation)
                if reader is None or reader.generation != generation:
                    index = tantivy.Index.open(str(self.directory / generation))
                    index.config_reader(reload_policy="Manual")
                    reader = self._readers[doc_type] = _Reader(generation, index, stamp)
                elif reader.stamp != stamp:
                    reader.index.reload()
                    reader.stamp = stamp
            except (OSError, ValueError) as e:
                raise SearchUnavailable(f"the {doc_type} index cannot be opened: {e}") from e
            return reader.index.searcher()

    # -- writes ---------------------------------------------------------------------------------

    def _write(self, doc_type: str, documents: Iterable[Document], refs: Iterable[str],
               loader: Loader | None = None) -> int:
        with self._write_lock(doc_type):
            if loader is not None:
                # Loaded under the lock: the last writer has read the newest rows.
                refs = list(refs)
                docs = loader(doc_type, refs)
                documents = [d for r in refs if (d := docs.get(r)) is not None]
                refs = [r for r in refs if docs.get(r) is None]
            try:
                writer = self._live_index(doc_type).writer(heap_size=self.writer_heap, num_threads=1)
            except ValueError as e:  # tantivy's LockBusy: a writer outside our lock (should not happen)
                raise SearchUnavailable(f"the {doc_type} index is locked: {e}") from e
            n = 0
            try:
                for ref in refs:
                    writer.delete_documents_by_term("ref", ref)
                    n += 1
                for doc in documents:
                    # A delete only hits documents added before it, so delete-then-add is an upsert.
                    writer.delete_documents_by_term("ref", doc["ref"])
                    writer.add_document(to_tantivy(doc))
                    n += 1
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # consumes the writer and releases tantivy's lock
        return n

    def apply(self, doc_type: str, refs: Sequence[str], loader: Loader) -> tuple[int, int]:
        """Load and write `refs` while holding the write lock (see SearchBackend.apply)."""
        counts = {}

        def counting(doc_type: str, refs: Sequence[str]):
            docs = loader(doc_type, refs)
            counts["upserted"] = sum(docs.get(r) is not None for r in refs)
            return docs

        total = self._write(doc_type, (), refs, loader=counting)
        return counts["upserted"], total - counts["upserted"]

    def index(self, doc_type: str, documents: Iterable[Document]) -> int:
        """Add or replace documents by ref in one commit."""
        return self._write(doc_type, list(documents), ())

    def delete(self, doc_type: str, refs: Iterable[str]) -> int:
        """Remove documents by ref in one commit (missing refs are ignored)."""
        return self._write(doc_type, (), list(refs))

    def rebuild(self, doc_type: str, documents: Iterable[Document], progress: Progress | None = None) -> int:
        """Write a new generation and switch to it; searches see the old one until the switch.

        The write lock is held throughout, so outbox changes wait (or stay queued) and land in the
        new generation after the switch instead of in the old one, where they would be lost.
        """
        with self._write_lock(doc_type):
            generation, index = self._new_generation(doc_type)
            writer = index.writer(heap_size=self.rebuild_heap, num_threads=2)
            n = 0
            try:
                for doc in documents:
                    writer.add_document(to_tantivy(doc))
                    n += 1
                    if progress and n % BATCH == 0:
                        progress(BATCH)
                writer.commit()
            except BaseException:
                writer.rollback()
                writer.wait_merging_threads()
                shutil.rmtree(self.directory / generation, ignore_errors=True)
                raise
            writer.wait_merging_threads()
            if progress and n % BATCH:
                progress(n % BATCH)
            previous = self._generation(doc_type)
            self._switch(doc_type, generation)
            self._collect(doc_type, keep={generation, previous})
        return n

    def _collect(self, doc_type: str, keep: set[str | None]) -> None:
        """Remove generations older than the previous one (a reader still on it finishes its search)."""
        for path in self.directory.glob(f"{doc_type}-*"):
            if path.name not in keep and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    # -- reads ----------------------------------------------------------------------------------

    def count(self, doc_type: str) -> int:
        """Documents in the live index of `doc_type`."""
        searcher = self._searcher(doc_type)
        return 0 if searcher is None else searcher.num_docs

    def ping(self) -> bool:
        """The index directory exists or can be created, and is writable."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            return os.access(self.directory, os.W_OK)
        except OSError:
            return False

    def _text_query(self, clauses: list[Clause]) -> list[tantivy.Query]:
        out = []
        for clause in clauses:
            options = []
            for phrase in clause.phrases:
                if phrase.single_char:
                    options.append(tantivy.Query.regex_query(SCHEMA, "text", phrase.pattern))
                elif len(phrase.tokens) == 1:
                    options.append(tantivy.Query.term_query(SCHEMA, "text", phrase.tokens[0]))
                else:
                    options.append(tantivy.Query.phrase_query(SCHEMA, "text", list(phrase.tokens)))
            out.append(options[0] if len(options) == 1 else
                       tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in options]))
        return out

    def _filter_queries(self, query: SearchQuery) -> list[tantivy.Query]:
        out = []
        for key, values in query.filters.items():
            if len(values) == 1:
                out.append(tantivy.Query.term_query(SCHEMA, key, values[0]))
            else:
                out.append(tantivy.Query.term_set_query(SCHEMA, key, list(values)))
        for key, (lo, hi) in query.ranges.items():
            # Overlap of [min, max] with [lo, hi]: max >= lo and min <= hi.
            if lo is not None:
                out.append(tantivy.Query.range_query(SCHEMA, f"{key}_max", tantivy.FieldType.Integer,
                                                     lower_bound=scaled(key, lo)))
            if hi is not None:
                out.append(tantivy.Query.range_query(SCHEMA, f"{key}_min", tantivy.FieldType.Integer,
                                                     upper_bound=scaled(key, hi)))
        return out

    def build_query(self, query: SearchQuery) -> tuple[tantivy.Query, list[Clause]]:
        """The tantivy query of a SearchQuery, and the text clauses (for highlighting)."""
        clauses = query.clauses(self.synonyms)
        scored = self._text_query(clauses)
        # Filters must match but add nothing to the score: relevance is the text's alone.
        filters = [tantivy.Query.const_score_query(q, 0.0) for q in self._filter_queries(query)]
        parts = scored + filters
        if not parts:
            return tantivy.Query.all_query(), clauses
        if len(parts) == 1 and scored:
            return parts[0], clauses
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in parts]), clauses

    def search(self, query: SearchQuery) -> SearchResult:
        """Hits of one page, the total and facet counts over all matches."""
        searcher = self._searcher(query.doc_type)
        if searcher is None:
            return SearchResult(0, [], {f: {} for f in query.facets}, query.page, query.per_page)
        tq, clauses = self.build_query(query)
        sort = query.effective_sort
        kwargs: dict[str, Any] = {"limit": query.per_page, "offset": query.offset, "count": True}
        if sort == "newest":
            kwargs.update(order_by_field="created_at", order=tantivy.Order.Desc)
        elif sort == "amount":
            kwargs.update(order_by_field="amount_max", order=tantivy.Order.Desc)
        elif sort == "amount_asc":
            kwargs.update(order_by_field="amount_min", order=tantivy.Order.Asc)
        try:
            found = searcher.search(tq, **kwargs)
        except ValueError as e:
            raise SearchUnavailable(f"search failed: {e}") from e
        marks = needles(clauses)
        hits = []
        for score, address in found.hits:
            stored = searcher.doc(address)
            hit = SearchHit(ref=stored["ref"][0], score=float(score) if sort == "relevance" else None)
            if marks:
                source = json.loads(bytes(stored["source"][0]))
                for name in HIGHLIGHT_FIELDS:
                    fragments = highlight(source.get(name) or "", marks)
                    if fragments:
                        hit.highlights[name] = fragments
            hits.append(hit)
        facets: dict[str, dict[str, int]] = {}
        if query.facets:
            aggs = {f: {"terms": {"field": f, "size": 1000}} for f in query.facets}
            result = searcher.aggregate(tq, aggs)
            for f in query.facets:
                buckets = result.get(f, {}).get("buckets", [])
                facets[f] = sorted_counts({b["key"]: int(b["doc_count"]) for b in buckets})
        return SearchResult(found.count, hits, facets, query.page, query.per_page)
