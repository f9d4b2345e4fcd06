"""A real search backend behind a switch, for the outbox tests: while `down`, every call fails."""
from __future__ import annotations

from collections import Counter

from search.backend import SearchBackend, SearchUnavailable


class Switchable(SearchBackend):
    """The app's real backend behind a switch: while `down`, every call fails; counts the refs it applied."""

    name = "switchable"

    def __init__(self, inner: SearchBackend):
        super().__init__(inner.synonyms)
        self.inner, self.down, self.applied = inner, False, Counter()

    def _check(self):
        if self.down:
            raise SearchUnavailable("index is down")

    def apply(self, doc_type, refs, loader):
        self._check()
        result = self.inner.apply(doc_type, refs, loader)
        self.applied.update(refs)
        return result

    def index(self, doc_type, documents):
        self._check()
        return self.inner.index(doc_type, documents)

    def delete(self, doc_type, refs):
        self._check()
        return self.inner.delete(doc_type, refs)

    def search(self, query):
        self._check()
        return self.inner.search(query)

    def rebuild(self, doc_type, documents, progress=None):
        self._check()
        return self.inner.rebuild(doc_type, documents, progress)

    def count(self, doc_type):
        self._check()
        return self.inner.count(doc_type)

    def ping(self):
        return not self.down and self.inner.ping()
