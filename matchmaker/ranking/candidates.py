"""Hard constraints of DESIGN §6 as a vectorised filter: which products can serve which demands."""
from __future__ import annotations

import numpy as np

from .tables import DemandTable, ProductTable


def _fits(d: DemandTable, di, p: ProductTable, pi) -> np.ndarray:
    """The hard constraints for pairs (d[di], p[pi]); either index may be a scalar (broadcast)."""
    amount = d.amount[di]
    term = d.term[di]
    ok = p.active[pi] & ((d.ftype_mask[di] & p.kind_bit[pi]) != 0)
    ok &= (p.amount_min[pi] <= amount) & (amount <= p.amount_max[pi])
    # A demand without a term (equity) is not held to a product's term range.
    ok &= np.isnan(term) | ((p.term_min[pi] <= term) & (term <= p.term_max[pi]))
    districts = p.districts_mask[pi]
    ok &= (districts == 0) | ((districts & d.district_bit[di]) != 0)
    sizes = p.sizes_mask[pi]
    ok &= (sizes == 0) | ((sizes & d.size_bit[di]) != 0)
    # The demand offers a collateral the product accepts, or the product lends on credit.
    ok &= p.accepts_credit[pi] | ((d.collateral_mask[di] & p.collateral_mask[pi]) != 0)
    return ok


def _demand_mask(d: DemandTable, p: ProductTable, j: int, rows) -> np.ndarray:
    """The hard constraints of product j against many demands, skipping those it does not impose.

    The same rules as `_fits`, written for one product: a product open to every district, size or
    collateral costs no array operation for that constraint (the institution direction's hot path).
    """
    if not p.active[j]:
        return np.zeros(len(d.amount[rows]), dtype=bool)
    amount = d.amount[rows]
    ok = (d.ftype_mask[rows] & p.kind_bit[j]) != 0
    ok &= amount >= p.amount_min[j]
    ok &= amount <= p.amount_max[j]
    if p.term_min[j] > 0:
        ok &= d.term_low[rows] >= p.term_min[j]
    if np.isfinite(p.term_max[j]):
        ok &= d.term_high[rows] <= p.term_max[j]
    if p.districts_mask[j]:
        ok &= (d.district_bit[rows] & p.districts_mask[j]) != 0
    if p.sizes_mask[j]:
        ok &= (d.size_bit[rows] & p.sizes_mask[j]) != 0
    if not p.accepts_credit[j]:
        ok &= (d.collateral_mask[rows] & p.collateral_mask[j]) != 0
    return ok


def products_for_demand(demands: DemandTable, row: int, products: ProductTable) -> np.ndarray:
    """Indices of the products that may serve demand `row` (all hard constraints hold)."""
    if len(products) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(_fits(demands, row, products, slice(None)))


def demands_for_product(demands: DemandTable, products: ProductTable, row: int,
                        published_only: bool = True) -> np.ndarray:
    """Indices of the demands product `row` may serve; by default only demands in the published pool."""
    if len(demands) == 0:
        return np.empty(0, dtype=np.int64)
    ok = _demand_mask(demands, products, row, slice(None))
    if published_only:
        ok &= demands.published
    return np.flatnonzero(ok)


def candidate_pairs(demands: DemandTable, products: ProductTable, published_only: bool = False,
                    demand_rows: np.ndarray | None = None, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """All (demand index, product index) pairs that pass the filter, looping over the smaller side.

    With `ordered` the pairs are sorted by (demand, product), as labelling needs; ranking does not
    care, and sorting 250,000 pairs costs more than filtering them.
    """
    rows = np.arange(len(demands)) if demand_rows is None else np.asarray(demand_rows, dtype=np.int64)
    dis, pis = [], []
    if len(rows) <= len(products):
        for i in rows:
            pj = products_for_demand(demands, int(i), products)
            dis.append(np.full(len(pj), i, dtype=np.int64))
            pis.append(pj)
    else:
        everyone = demand_rows is None
        for j in range(len(products)):
            ok = _demand_mask(demands, products, j, slice(None) if everyone else rows)
            if published_only:
                ok &= demands.published if everyone else demands.published[rows]
            di = np.flatnonzero(ok) if everyone else rows[ok]
            dis.append(di)
            pis.append(np.full(len(di), j, dtype=np.int64))
    if not dis:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    di, pi = np.concatenate(dis), np.concatenate(pis)
    if published_only and len(rows) <= len(products):
        keep = demands.published[di]
        di, pi = di[keep], pi[keep]
    if not ordered:
        return di, pi
    order = np.lexsort((pi, di))
    return di[order], pi[order]
