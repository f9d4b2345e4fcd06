"""The Python oracle the backends are checked against: substring containment and plain counting."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

from search.analysis import expand, normalize, split_terms


def texts(doc: dict) -> list[str]:
    """The searchable strings of a document, each matched on its own (phrases never span two)."""
    return [normalize(t) for t in (doc.get("title"), doc.get("description"), *doc.get("keywords", ())) if t]


def matches(doc: dict, text: str, synonyms=()) -> bool:
    """Every term of `text` (or one of its synonym variants) occurs as a substring of one searchable string."""
    strings = texts(doc)
    return all(any(v in s for v in expand(term, synonyms) for s in strings) for term in split_terms(text))


def values(doc: dict, key: str) -> list[str]:
    """A keyword field as a list."""
    value = doc.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def facet_counts(docs: list[dict], key: str) -> dict[str, int]:
    """What a facet over `docs` must report."""
    return dict(Counter(v for d in docs for v in set(values(d, key))))


def in_range(doc: dict, key: str, lo, hi) -> bool:
    """The range overlap rule: [key_min, key_max] meets [lo, hi]."""
    low, high = doc.get(f"{key}_min"), doc.get(f"{key}_max")
    if low is None or high is None:
        return False
    return (lo is None or Decimal(str(high)) >= Decimal(str(lo))) and (hi is None or Decimal(str(low)) <= Decimal(str(hi)))
