"""The backend interface every search engine implements, the document-source protocol and the factory."""
from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from search.query import SearchQuery, SearchResult

Document = dict[str, Any]
# progress(n): n more documents were written (a click progress bar's update()).
Progress = Callable[[int], None]
# loader(doc_type, refs) -> {ref: document or None}: the current documents; None (or absent) means remove.
Loader = Callable[[str, Sequence[str]], Mapping[str, "Document | None"]]


class SearchUnavailable(RuntimeError):
    """The index cannot be reached or written right now; the caller keeps the work queued and retries."""


class DocumentSource(Protocol):
    """Where the documents of one type come from (the database): for reindexing and for the outbox."""

    doc_type: str

    def count(self) -> int:
        """How many documents a full reindex writes (for the progress bar)."""

    def iter_documents(self) -> Iterable[Document]:
        """Every document of this type, for a full reindex."""

    def load(self, refs: Sequence[str]) -> dict[str, Document | None]:
        """The current documents of `refs`; None for a ref that is gone or must not be searchable."""


class SearchBackend(abc.ABC):
    """One search engine. Documents are plain dicts (see search.documents), keyed by their `ref`.

    Writes are idempotent: indexing a ref again replaces it, deleting a missing ref is not an error,
    so a queue of changes can be applied more than once without harm.
    """

    name = "abstract"

    def __init__(self, synonyms: Sequence[Sequence[str]] = ()):
        self.synonyms = tuple(tuple(g) for g in synonyms)

    @abc.abstractmethod
    def index(self, doc_type: str, documents: Iterable[Document]) -> int:
        """Add or replace documents in bulk; returns how many were written."""

    @abc.abstractmethod
    def delete(self, doc_type: str, refs: Iterable[str]) -> int:
        """Remove documents by ref; returns how many refs were asked for."""

    def apply(self, doc_type: str, refs: Sequence[str], loader: Loader) -> tuple[int, int]:
        """Bring `refs` in line with the database: load them, upsert what exists, delete what is gone.

        Returns (upserted, deleted). Backends that can, load inside their write lock, so of two
        concurrent appliers the one that writes last also read last (no stale document wins).
        """
        docs = loader(doc_type, list(refs))
        upserts = [d for r in refs if (d := docs.get(r)) is not None]
        deletes = [r for r in refs if docs.get(r) is None]
        if upserts:
            self.index(doc_type, upserts)
        if deletes:
            self.delete(doc_type, deletes)
        return len(upserts), len(deletes)

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Run a validated query against the index of `query.doc_type`."""

    @abc.abstractmethod
    def rebuild(self, doc_type: str, documents: Iterable[Document], progress: Progress | None = None) -> int:
        """Build a fresh index from `documents` and switch searches to it at once; returns the count."""

    @abc.abstractmethod
    def count(self, doc_type: str) -> int:
        """How many documents the index of `doc_type` holds."""

    @abc.abstractmethod
    def ping(self) -> bool:
        """True when the engine answers; never raises."""

    def health(self) -> dict[str, Any]:
        """A small status report for an operator: backend name, reachable, document counts."""
        ok = self.ping()
        counts: dict[str, int | None] = {}
        if ok:
            from search.query import DOC_TYPES

            for doc_type in DOC_TYPES:
                try:
                    counts[doc_type] = self.count(doc_type)
                except SearchUnavailable:
                    counts[doc_type] = None
        return {"backend": self.name, "ok": ok, "documents": counts}


def make_backend(settings: Mapping[str, Any], synonyms: Sequence[Sequence[str]] = ()) -> SearchBackend:
    """The backend the settings choose: SEARCH_BACKEND is "embedded" (SEARCH_INDEX_DIR) or
    "elasticsearch" (ELASTICSEARCH_URL, optional SEARCH_INDEX_PREFIX and SEARCH_ANALYZER)."""
    kind = (settings.get("SEARCH_BACKEND") or "embedded").lower()
    if kind == "embedded":
        from search.embedded import EmbeddedBackend

        directory = settings.get("SEARCH_INDEX_DIR")
        if not directory:
            raise ValueError("SEARCH_INDEX_DIR must be set for the embedded search backend")
        return EmbeddedBackend(directory, synonyms=synonyms,
                               lock_timeout=float(settings.get("SEARCH_LOCK_TIMEOUT") or 2.0))
    if kind in ("elasticsearch", "elastic"):
        from search.elastic import ElasticBackend

        url = settings.get("ELASTICSEARCH_URL")
        if not url:
            raise ValueError("ELASTICSEARCH_URL must be set for the elasticsearch search backend")
        return ElasticBackend.from_url(
            url,
            prefix=settings.get("SEARCH_INDEX_PREFIX") or "matchmaker",
            analyzer=settings.get("SEARCH_ANALYZER") or "cjk",
            synonyms=synonyms,
        )
    raise ValueError(f"unknown SEARCH_BACKEND {kind!r}: use 'embedded' or 'elasticsearch'")
