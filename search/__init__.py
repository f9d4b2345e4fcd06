"""The search layer: one backend interface, an embedded and an Elasticsearch backend, documents and index sync."""
from search.backend import SearchBackend, SearchUnavailable, make_backend
from search.query import Hit, QueryError, SearchQuery, SearchResult

__all__ = ["SearchBackend", "SearchUnavailable", "make_backend", "Hit", "QueryError", "SearchQuery", "SearchResult"]
