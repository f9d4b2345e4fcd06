"""Column-wise numpy encodings of demands and products, so filters and features run vectorised."""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .records import DemandRecord, ProductRecord, to_timestamp

KINDS = ("loan", "equity", "guarantee", "leasing")  # product kinds, in the order of `kind_code`
HIGH_TECH = "高新技术企业"
SPECIALISED = "专精特新"  # 专精特新 ("specialised, refined, distinctive, innovative")


class Codebook:
    """Maps codes (districts, clusters, purposes, …) to bit positions and organisations to indices.

    Bits are handed out on first sight and never change, so tables encoded with the same codebook
    can be compared with bitwise AND. A field holds at most 62 distinct codes.
    """

    def __init__(self) -> None:
        self._bits: dict[str, dict[str, int]] = {}
        self._index: dict[str, dict[str, int]] = {}
        # Requests in threads may meet a new code at the same time: two codes must never share a bit.
        self._lock = threading.Lock()

    def bit(self, fld: str, code: str | None) -> int:
        """The single-bit mask of one code (0 for None or empty)."""
        if not code:
            return 0
        pos = self._bits.get(fld, {}).get(code)
        if pos is None:
            with self._lock:
                table = self._bits.setdefault(fld, {})
                pos = table.get(code)
                if pos is None:
                    pos = len(table)
                    if pos >= 62:
                        raise ValueError(f"too many distinct values of {fld!r} for the ranking codebook")
                    table[code] = pos
        return 1 << pos

    def mask(self, fld: str, codes: Iterable[str] | None) -> int:
        """The OR of the bits of several codes (0 for none)."""
        out = 0
        for code in codes or ():
            out |= self.bit(fld, code)
        return out

    def index(self, fld: str, code: str | None) -> int:
        """A dense integer index of a code (organisations, clusters, purposes for history keys)."""
        key = code or ""
        pos = self._index.get(fld, {}).get(key)
        if pos is None:
            with self._lock:
                table = self._index.setdefault(fld, {})
                pos = table.get(key)
                if pos is None:
                    pos = table[key] = len(table)
        return pos

    def known_index(self, fld: str, code: str | None) -> int:
        """The index of a code, or -1 if it was never seen (does not grow the codebook)."""
        return self._index.get(fld, {}).get(code or "", -1)


def _num(value, default: float = math.nan) -> float:
    return default if value is None else float(value)


@dataclass
class DemandTable:
    """Demands as aligned numpy columns; `records[i]` is row i."""

    records: list[DemandRecord]
    owner: object  # the FeatureSet that encoded it: tables of different feature sets never mix
    refs: np.ndarray
    amount: np.ndarray
    log_amount: np.ndarray
    term: np.ndarray
    term_low: np.ndarray  # the term, or +inf when none: `min <= term_low` holds for a missing term
    term_high: np.ndarray  # the term, or -inf when none: `term_high <= max` holds for a missing term
    max_rate: np.ndarray
    purpose_bit: np.ndarray
    ftype_mask: np.ndarray
    collateral_mask: np.ndarray
    collateral_real: np.ndarray  # the collateral mask without `none`
    offers_collateral: np.ndarray  # offers something other than `none`
    district_bit: np.ndarray
    cluster_bit: np.ndarray
    size_bit: np.ndarray
    cluster_idx: np.ndarray
    purpose_idx: np.ndarray
    revenue: np.ndarray
    rd_ratio: np.ndarray
    high_tech: np.ndarray
    specialised: np.ndarray
    created_at: np.ndarray
    published: np.ndarray
    text: sparse.csr_matrix

    def __len__(self) -> int:
        return len(self.records)

    def take(self, rows) -> DemandTable:
        """A sub-table of the given rows, in their order."""
        return _take(self, DemandTable, rows)

    def concat(self, other: DemandTable) -> DemandTable:
        """This table's rows followed by `other`'s (both encoded by the same feature set).

        Every column is encoded row by row, so the result equals encoding the two record lists together:
        a worker's pool takes in new and changed demands without re-encoding the others.
        """
        if other.owner is not self.owner:
            raise ValueError("tables were encoded by different feature sets")
        values = {}
        for name in self.__dataclass_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if name == "records":
                values[name] = a + b
            elif name == "owner":
                values[name] = a
            elif name == "text":
                values[name] = sparse.csr_matrix(sparse.vstack([a, b], format="csr"), dtype=np.float64)
            else:
                values[name] = np.concatenate([a, b])
        return DemandTable(**values)


def _take(table, cls, rows):
    rows = np.asarray(rows, dtype=np.int64)
    values = {}
    for name in table.__dataclass_fields__:
        col = getattr(table, name)
        if name == "records":
            values[name] = [table.records[i] for i in rows]
        elif name == "owner":
            values[name] = col
        else:
            values[name] = col[rows]
    return cls(**values)


@dataclass
class ProductTable:
    """Products as aligned numpy columns; `records[i]` is row i."""

    records: list[ProductRecord]
    owner: object
    refs: np.ndarray
    org_refs: np.ndarray
    org_idx: np.ndarray
    kind_bit: np.ndarray
    kind_code: np.ndarray  # index in KINDS (0 for an unknown kind)
    is_equity: np.ndarray
    amount_min: np.ndarray
    amount_max: np.ndarray
    log_amount_min: np.ndarray  # log(max(minimum, 1))
    log_amount_max: np.ndarray
    term_min: np.ndarray
    term_max: np.ndarray
    rate_min: np.ndarray
    rate_max: np.ndarray
    collateral_mask: np.ndarray
    accepts_credit: np.ndarray  # accepts `none`, or asks for no collateral at all
    industries_mask: np.ndarray  # 0 = every cluster
    districts_mask: np.ndarray  # 0 = every district
    sizes_mask: np.ndarray  # 0 = every size
    purposes_mask: np.ndarray  # 0 = every purpose
    active: np.ndarray
    text: sparse.csr_matrix

    def __len__(self) -> int:
        return len(self.records)

    def take(self, rows: np.ndarray) -> ProductTable:
        """A sub-table of the given rows (used for one institution's products)."""
        return _take(self, ProductTable, rows)


def encode_demands(records: Sequence[DemandRecord], codebook: Codebook, vectorizer, owner) -> DemandTable:
    """Encode demand records into a DemandTable (text through the fitted vectoriser)."""
    records = list(records)
    cb = codebook
    none_bit = cb.bit("collateral", "none")

    def col(fn, dtype):
        return np.fromiter((fn(r) for r in records), dtype=dtype, count=len(records))

    collateral = col(lambda r: cb.mask("collateral", r.collateral), np.int64)
    amount = col(lambda r: _num(r.amount), np.float64)
    term = col(lambda r: _num(r.term_months), np.float64)
    return DemandTable(
        records=records,
        owner=owner,
        refs=np.array([r.ref for r in records], dtype=object),
        amount=amount,
        log_amount=np.log(np.maximum(amount, 1e-9)),
        term=term,
        term_low=np.where(np.isnan(term), np.inf, term),
        term_high=np.where(np.isnan(term), -np.inf, term),
        max_rate=col(lambda r: _num(r.max_rate), np.float64),
        purpose_bit=col(lambda r: cb.bit("purpose", r.purpose), np.int64),
        ftype_mask=col(lambda r: cb.mask("kind", r.financing_types), np.int64),
        collateral_mask=collateral,
        collateral_real=collateral & ~none_bit,
        offers_collateral=(collateral & ~none_bit) != 0,
        district_bit=col(lambda r: cb.bit("district", r.district), np.int64),
        cluster_bit=col(lambda r: cb.bit("cluster", r.cluster), np.int64),
        size_bit=col(lambda r: cb.bit("size", r.size), np.int64),
        cluster_idx=col(lambda r: cb.index("cluster", r.cluster), np.int64),
        purpose_idx=col(lambda r: cb.index("purpose", r.purpose), np.int64),
        revenue=col(lambda r: _num(r.revenue), np.float64),
        rd_ratio=col(lambda r: _num(r.rd_ratio), np.float64),
        high_tech=col(lambda r: HIGH_TECH in (r.tags or ()), bool),
        specialised=col(lambda r: SPECIALISED in (r.tags or ()), bool),
        created_at=col(lambda r: to_timestamp(r.created_at), np.int64),
        published=col(lambda r: r.status == "published", bool),
        text=_texts(vectorizer, [r.text for r in records]),
    )


def encode_products(records: Sequence[ProductRecord], codebook: Codebook, vectorizer, owner) -> ProductTable:
    """Encode product records into a ProductTable (text through the fitted vectoriser)."""
    records = list(records)
    cb = codebook

    def col(fn, dtype):
        return np.fromiter((fn(r) for r in records), dtype=dtype, count=len(records))

    amount_min = col(lambda r: _num(r.amount_min, 0.0), np.float64)
    amount_max = col(lambda r: _num(r.amount_max, math.inf), np.float64)
    return ProductTable(
        records=records,
        owner=owner,
        refs=np.array([r.ref for r in records], dtype=object),
        org_refs=np.array([r.org_ref for r in records], dtype=object),
        org_idx=col(lambda r: cb.index("org", r.org_ref), np.int64),
        kind_bit=col(lambda r: cb.bit("kind", r.kind), np.int64),
        kind_code=col(lambda r: KINDS.index(r.kind) if r.kind in KINDS else 0, np.int64),
        is_equity=col(lambda r: r.kind == "equity", bool),
        amount_min=amount_min,
        amount_max=amount_max,
        log_amount_min=np.log(np.maximum(amount_min, 1.0)),
        log_amount_max=np.log(np.maximum(amount_max, 1.0)),
        term_min=col(lambda r: _num(r.term_min, 0.0), np.float64),
        term_max=col(lambda r: _num(r.term_max, math.inf), np.float64),
        rate_min=col(lambda r: _num(r.rate_min), np.float64),
        rate_max=col(lambda r: _num(r.rate_max), np.float64),
        collateral_mask=col(lambda r: cb.mask("collateral", r.collateral), np.int64),
        accepts_credit=col(lambda r: not r.collateral or "none" in r.collateral, bool),
        industries_mask=col(lambda r: cb.mask("cluster", r.industries), np.int64),
        districts_mask=col(lambda r: cb.mask("district", r.districts), np.int64),
        sizes_mask=col(lambda r: cb.mask("size", r.sizes), np.int64),
        purposes_mask=col(lambda r: cb.mask("purpose", r.purposes), np.int64),
        active=col(lambda r: r.status == "active", bool),
        text=_texts(vectorizer, [r.text for r in records]),
    )


def _texts(vectorizer, texts: list[str]) -> sparse.csr_matrix:
    if not texts:
        return sparse.csr_matrix((0, len(vectorizer.vocabulary_)), dtype=np.float64)
    return sparse.csr_matrix(vectorizer.transform(texts), dtype=np.float64)
