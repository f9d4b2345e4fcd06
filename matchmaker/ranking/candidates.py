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
    ok = _fits(demands, slice(None), products, row)
    if published_only:
        ok &= demands.published
    return np.flatnonzero(ok)


def candidate_pairs(demands: DemandTable, products: ProductTable, published_only: bool = False,
                    demand_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All (demand index, product index) pairs that pass the filter, looping over the smaller side."""
    rows = np.arange(len(demands)) if demand_rows is None else np.asarray(demand_rows, dtype=np.int64)
    dis, pis = [], []
    if len(rows) <= len(products):
        for i in rows:
            pj = products_for_demand(demands, int(i), products)
            dis.append(np.full(len(pj), i, dtype=np.int64))
            pis.append(pj)
    else:
        for j in range(len(products)):
            ok = _fits(demands, rows, products, j)
            if published_only:
                ok &= demands.published[rows]
            di = rows[ok]
            dis.append(di)
            pis.append(np.full(len(di), j, dtype=np.int64))
    if not dis:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    di, pi = np.concatenate(dis), np.concatenate(pis)
    if published_only and len(rows) <= len(products):
        keep = demands.published[di]
        di, pi = di[keep], pi[keep]
    order = np.lexsort((pi, di))
    return di[order], pi[order]
