"""The console's monthly summary table: built from the raw rows, kept right in every writing transaction.

The figures of demands, offers, deals, disbursements, projects and meetings (and the funnel's distinct
demands) are read from `console_summary`: one line per source, month (in the city's calendar),
district and breakdown value, so the console reads a few thousand lines instead of hundreds of
thousands of rows. The lines are computed by the raw queries' own definitions (`SOURCES`, `METRICS`,
`DIMENSIONS`), so they count exactly what `services` counts with `raw=True`.

Kept right per enterprise: each of these figures belongs to one enterprise (the demand's, the
project's, the meeting's). When a transaction first touches an enterprise's demands, offers, deals,
disbursements, projects, meetings (or an event of its meetings) or its profile, the enterprise's
lines are read as they stand before the change is flushed; at commit they are read again and the
difference is added to the table, in the same transaction. On PostgreSQL the enterprise's row is
locked at the first reading, so two transactions changing one enterprise's figures take turns.
`rebuild()` starts from scratch (`flask report rebuild-summary`, run by `seed-demo` and the benchmark,
and needed after writing to the database around the application or changing the city's time zone).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from matchmaker.console import services
from matchmaker.demands.subsidy import equipment_subsidy_sql, interest_subsidy_sql
from matchmaker.workdays import local_day
from models import (
    ConsoleSummary,
    Deal,
    Demand,
    Disbursement,
    Event,
    Meeting,
    Offer,
    Organization,
    ProgressUpdate,
    TechProject,
    db_session,
)

# The sources kept in the summary: all but the events, a few hundred rows with a district of their own.
SUMMARIZED = ("demands_posted", "demands_published", "projects", "meetings") + services.OFFER_SOURCES
# The project ledger as it stands (month ''): projects and investment, progress bands, the equipment
# subsidy, the interest subsidy of the live demands. Figures of the city's policy: rebuild after changing it.
LEDGER = ("ledger_projects", "ledger_bands", "ledger_equipment", "ledger_interest")
ALL = frozenset(SUMMARIZED + LEDGER)
_DEMAND_SIDE = frozenset(("demands_posted", "demands_published", "ledger_interest") + services.OFFER_SOURCES)
_PROJECT_SIDE = frozenset(("projects", "ledger_projects", "ledger_bands", "ledger_equipment"))
# Which sources a change of each kind of row can move.
_TOUCHES = {Organization: ALL, Demand: _DEMAND_SIDE, Offer: frozenset(services.OFFER_SOURCES),
            Deal: frozenset(("deals", "disbursements")), Disbursement: frozenset(("disbursements",)),
            TechProject: _PROJECT_SIDE, ProgressUpdate: frozenset(("ledger_projects",)),
            Meeting: frozenset(("meetings",)),
            Event: frozenset(("meetings",))}
# A new row has nothing hanging from it yet (what is added with it touches its own sources).
_TOUCHES_NEW = {Demand: frozenset(("demands_posted", "demands_published", "ledger_interest")),
                Offer: frozenset(("offers_made", "offers_accepted")), Deal: frozenset(("deals",))}
# An enterprise's attributes that place its figures.
_ORG_FIELDS = ("district", "industry", "size")
# The rows counted, then the source's metrics in order.
COLUMNS = ("records", "m1", "m2", "m3", "m4")
# The funnel's stages (distinct demands in a period) are kept as lines of this pseudo-breakdown.
FUNNEL_DIM = "funnel"
EVENT_DIM = "event"
FUNNEL_SOURCES = tuple(stage[2] for stage in services.FUNNEL)
_KEY = ("source", "dim", "month", "district", "value")
_CHECKED_OUT = "console_summary_before"
_CHUNK = 500


def _metrics(key: str) -> list[services.Metric]:
    return [m for m in services.METRICS if m.source == key]


def column_of(metric: services.Metric) -> str:
    """The summary column holding `metric`: its place among its source's metrics."""
    return f"m{_metrics(metric.source).index(metric) + 1}"


assert all(len(_metrics(k)) <= len(COLUMNS) - 1 for k in SUMMARIZED), "a summarized source has too many metrics"


# --- the lines, from the raw rows ------------------------------------------------------------------


def _const(text: str) -> sa.ColumnElement:
    # Inline rather than bound: the codes are ours, and a bound value has no type for INSERT … SELECT.
    return sa.literal_column("'" + text.replace("'", "''") + "'", sa.String)


def _text(column) -> sa.ColumnElement:
    return sa.func.coalesce(sa.cast(column, sa.String), _const(""))


def _months(first: date, last: date) -> list[date]:
    months = [date(first.year, first.month, 1)]
    while months[-1] < date(last.year, last.month, 1):
        months.append(services._next_month(months[-1]))
    return months


def _local(src: services.Source, at) -> date:
    if src.time_kind == "local":
        return at
    return local_day(at, current_app.extensions["city"])


def _lines(key: str, joined: sa.Select, month, district, figures):
    """A function giving the select of one breakdown's lines (or the totals' lines, `dim` '')."""

    def lines(dim: str, value, where=None) -> sa.Select:
        q = joined if where is None else joined.where(where)
        # PostgreSQL refuses a constant in GROUP BY: a fixed value (a str) is not grouped.
        if isinstance(value, str):
            groups, value = [district], _const(value)
        else:
            groups = [district, value.label("value")]
        if not isinstance(month, str):
            groups.append(month)
        return q.add_columns(_const(key).label("source"), _const(dim).label("dim"),
                             (_const(month) if isinstance(month, str) else month).label("month"), district,
                             value.label("value"), *figures).group_by(*groups)

    return lines


def _pad(figures: list) -> list:
    return [sa.func.count().label("records")] + [f.label(f"m{i + 1}") for i, f in enumerate(figures)] \
        + [sa.literal_column("0").label(c) for c in COLUMNS[len(figures) + 1:]]


def _ledger_selects(key: str, org_ids=None) -> list[sa.Select]:
    """The ledger's lines: by district (dim '') and, for the projects, by cluster."""
    policy = current_app.extensions["city"].policy
    if key == "ledger_interest":
        base = sa.select().select_from(Demand).where(
            Demand.published_at.is_not(None), Demand.status.in_(services.LIVE_DEMAND_STATUSES))
        org = Demand.org_id
        figures = [sa.func.sum(interest_subsidy_sql(Demand.amount, Demand.max_rate, Demand.term_months,
                                                    Demand.purpose, policy))]
    else:
        base, org = sa.select().select_from(TechProject), TechProject.org_id
        figures = {
            "ledger_projects": lambda: [sa.func.count(TechProject.id), sa.func.sum(TechProject.total_investment),
                                        sa.func.sum(TechProject.equipment_investment),
                                        sa.func.count(sa.case((services.open_problem(), 1)))],
            "ledger_bands": lambda: [sa.func.count(sa.case((TechProject.progress.between(lo, hi), 1)))
                                     for _k, _t, lo, hi in services.PROGRESS_BANDS],
            "ledger_equipment": lambda: [sa.func.sum(equipment_subsidy_sql(
                TechProject.equipment_investment, TechProject.category, policy))],
        }[key]()
    if org_ids is not None:
        base = base.where(org.in_(org_ids))
    joined = base.join(Organization, Organization.id == org)
    district = _text(Organization.district).label("district")
    lines = _lines(key, joined, "", district, _pad(figures))
    out = [lines("", "")]
    if key == "ledger_projects":
        out.append(lines("cluster", _text(Organization.industry)))
    return out


def _selects(key: str, org_ids=None) -> list[sa.Select]:
    """The selects giving the lines (key columns, then COLUMNS) of one source, optionally for some enterprises."""
    if key in LEDGER:
        return _ledger_selects(key, org_ids)
    src = services.SOURCES[key]
    metrics = _metrics(key)
    base = src.base(metrics)
    if org_ids is not None:
        base = base.where(src.org().in_(org_ids))
    lo, hi = db_session.execute(base.add_columns(sa.func.min(src.time()), sa.func.max(src.time()))).one()
    if lo is None:
        return []
    scope = services.Scope(None, tuple(_months(_local(src, lo), _local(src, hi))))
    # Labelled once and grouped by the same labels: PostgreSQL must see one expression, not two copies.
    month = src.month_bucket(scope).label("month")
    figures = _pad([m.expr() for m in metrics])
    joined = base.join(Organization, Organization.id == src.org())
    district = _text(Organization.district).label("district")
    lines = _lines(key, joined, month, district, figures)

    out = [lines("", "")]
    for dim_key in src.dims:
        dim = services.DIMENSIONS[dim_key]
        if dim_key == "district":
            continue
        if dim.has is not None:
            out += [lines(dim_key, code, dim.has(src, code)) for code in dim.values()]
        else:
            row = dim.row(src)
            out.append(lines(dim_key, _text(row if row is not None else dim.org_column())))
    if key == "meetings":
        # Each event's outcomes, for the list of events held (`services.event_outcomes`).
        out.append(lines(EVENT_DIM, _text(Meeting.event_id)))
    if key in FUNNEL_SOURCES:
        out.append(_funnel_lines(key, joined, month, district))
    return out


def _funnel_lines(key: str, joined: sa.Select, month, district) -> sa.Select:
    """The funnel's distinct demands, made additive: per demand, each month it had such a row, with the
    previous such month (`value`, '' for none). A period counts a demand once, in its first month in the
    period: the lines whose month is in the period and whose previous month is before it."""
    per_month = joined.add_columns(Demand.id.label("demand_id"), month, district).distinct().subquery("per_month")
    prev = sa.func.lag(per_month.c.month).over(partition_by=per_month.c.demand_id, order_by=per_month.c.month)
    ordered = sa.select(per_month.c.month, per_month.c.district, sa.func.coalesce(prev, _const("")).label("value")) \
        .subquery("ordered")
    figures = [sa.func.count().label("records")] + [sa.literal_column("0").label(c) for c in COLUMNS[1:]]
    return sa.select(_const(key).label("source"), _const(FUNNEL_DIM).label("dim"), ordered.c.month,
                     ordered.c.district, ordered.c.value, *figures) \
        .group_by(ordered.c.month, ordered.c.district, ordered.c.value)


def rebuild() -> int:
    """Recompute every line from the raw rows (in the current transaction); returns the number of lines."""
    if db_session.get_bind().dialect.name == "postgresql":
        # Writers wait to add their differences until the rebuild commits (readers go on reading): a
        # transaction committed before the lock is in the raw rows, one committed after adds on top.
        db_session.execute(sa.text("LOCK TABLE console_summary IN EXCLUSIVE MODE"))
    db_session.execute(sa.delete(ConsoleSummary))
    columns = [*_KEY, *COLUMNS]
    for key in SUMMARIZED + LEDGER:
        for q in _selects(key):
            db_session.execute(sa.insert(ConsoleSummary).from_select(columns, q.subquery().select()))
    return db_session.scalar(sa.select(sa.func.count(ConsoleSummary.id)))


def contributions(org_ids, sources) -> dict:
    """The lines the enterprises `org_ids` add up to, as {key: (records, m1, m2, m3, m4)}."""
    out: dict = {}
    ids = sorted(org_ids)
    for i in range(0, len(ids), _CHUNK):
        for key in sorted(sources):
            selects = _selects(key, ids[i:i + _CHUNK])
            if not selects:
                continue
            # One statement per source: a write's recount is a couple of round trips per source.
            for row in db_session.execute(sa.union_all(*selects)):
                k = tuple(getattr(row, c) for c in _KEY)
                out[k] = _add(out.get(k), tuple(getattr(row, c) for c in COLUMNS))
    return out


_ZERO = (0,) + (Decimal(0),) * (len(COLUMNS) - 1)


def _exact(i: int, y):
    # Counts stay integers; sums are exact decimals (SQLite hands back floats).
    if not y:
        return 0
    if i == 0:
        return int(y)
    return y if isinstance(y, Decimal) else Decimal(str(y))


def _add(a, b, sign: int = 1):
    a = a or _ZERO
    if sign == 1:
        return tuple(x + _exact(i, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))
    return tuple(x - _exact(i, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))


def apply(delta: dict) -> None:
    """Add `delta` to the lines (creating the missing ones) and drop lines that now count nothing."""
    changes = [dict(zip(_KEY, k, strict=True)) | dict(zip(COLUMNS, v, strict=True))
               for k, v in delta.items() if any(v)]
    if not changes:
        return
    dialect = db_session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = ConsoleSummary.__table__
    for i in range(0, len(changes), _CHUNK):
        stmt = insert(table).values(changes[i:i + _CHUNK])
        db_session.execute(stmt.on_conflict_do_update(
            index_elements=list(_KEY), set_={c: table.c[c] + stmt.excluded[c] for c in COLUMNS}))
    db_session.execute(sa.delete(ConsoleSummary).where(ConsoleSummary.records == 0))


# --- keeping it right in every transaction -------------------------------------------------------------


def _history(obj, attr: str) -> list:
    return [v for v in sa.inspect(obj).attrs[attr].history.deleted if v is not None]


def _owner_ids(column_path: str, ids) -> list:
    """The enterprises owning demands, offers or deals by id (rows as they are in the database)."""
    if not ids:
        return []
    q = {"demand": sa.select(Demand.org_id).where(Demand.id.in_(ids)),
         "offer": sa.select(Demand.org_id).join(Offer, Offer.demand_id == Demand.id).where(Offer.id.in_(ids)),
         "deal": sa.select(Demand.org_id).join(Offer, Offer.demand_id == Demand.id)
         .join(Deal, Deal.offer_id == Offer.id).where(Deal.id.in_(ids))}[column_path]
    return list(db_session.scalars(q))


def _owners(obj) -> list:
    """The enterprises (ids, or Organization objects not yet flushed) whose figures `obj` counts in."""
    if isinstance(obj, Organization):
        return [obj]
    if isinstance(obj, Demand):
        return ([obj.org] if obj.org is not None else [obj.org_id]) + _history(obj, "org_id")
    if isinstance(obj, Offer):
        parent = _owners(obj.demand) if obj.demand is not None else _owner_ids("demand", [obj.demand_id])
        return parent + _owner_ids("demand", _history(obj, "demand_id"))
    if isinstance(obj, Deal):
        parent = _owners(obj.offer) if obj.offer is not None else _owner_ids("offer", [obj.offer_id])
        return parent + _owner_ids("offer", _history(obj, "offer_id"))
    if isinstance(obj, TechProject):
        return ([obj.org] if obj.org is not None else [obj.org_id]) + _history(obj, "org_id")
    if isinstance(obj, ProgressUpdate):
        return _owners(obj.project) if obj.project is not None else \
            list(db_session.scalars(sa.select(TechProject.org_id).where(TechProject.id == obj.project_id)))
    if isinstance(obj, Meeting):
        return ([obj.enterprise] if obj.enterprise is not None else [obj.enterprise_id]) \
            + _history(obj, "enterprise_id")
    if isinstance(obj, Event):
        if obj.id is None:
            return []
        return list(db_session.scalars(sa.select(Meeting.enterprise_id).where(Meeting.event_id == obj.id).distinct()))
    if isinstance(obj, Disbursement):
        parent = _owners(obj.deal) if obj.deal is not None else _owner_ids("deal", [obj.deal_id])
        return parent + _owner_ids("deal", _history(obj, "deal_id"))
    return []


def _active() -> bool:
    # The months are the city's: writes made without the application (a bulk load) need a rebuild.
    return has_app_context()


def _state(session: Session) -> dict:
    state = session.info.setdefault(_CHECKED_OUT, {"before": {}, "orgs": {}, "new": []})
    # An enterprise created in this transaction had no figures before it: once flushed, it counts as
    # read (with nothing) for every source, and all its figures are added at commit.
    for org in [o for o in state["new"] if o.id is not None]:
        state["orgs"][org.id] = ALL
        state["new"].remove(org)
    return state


def _before_flush(session: Session, _ctx, _instances) -> None:
    """Read the figures of each enterprise this flush is the first to touch, as they stand before it."""
    if not _active():
        return
    state = _state(session)
    wanted: dict[int, set] = {}
    with session.no_autoflush:
        for obj in [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]:
            sources = _TOUCHES_NEW.get(type(obj)) if obj in session.new else None
            sources = sources or _TOUCHES.get(type(obj))
            if sources is None:
                continue
            if isinstance(obj, Organization) and (obj in session.new or not any(
                    sa.inspect(obj).attrs[f].history.has_changes() for f in _ORG_FIELDS)):
                continue
            for owner in _owners(obj):
                if isinstance(owner, Organization):
                    if owner in session.new:
                        if not any(owner is o for o in state["new"]):
                            state["new"].append(owner)
                        continue
                    owner = owner.id
                if owner is None:
                    continue
                missing = sources - state["orgs"].get(owner, frozenset())
                if missing:
                    wanted.setdefault(owner, set()).update(missing)
        if not wanted:
            return
        if session.get_bind().dialect.name == "postgresql":
            # Two transactions changing one enterprise's figures take turns (a key share lock still
            # lets others insert rows referring to it).
            session.execute(sa.select(Organization.id).where(Organization.id.in_(sorted(wanted)))
                            .order_by(Organization.id).with_for_update(key_share=True))
        for sources, ids in _grouped(wanted).items():
            for org_id in ids:
                state["orgs"][org_id] = state["orgs"].get(org_id, frozenset()) | sources
            for k, v in contributions(ids, sources).items():
                state["before"][k] = _add(state["before"].get(k), v)


def _grouped(orgs: dict) -> dict[frozenset, list[int]]:
    out: dict[frozenset, list[int]] = {}
    for org_id, sources in orgs.items():
        out.setdefault(frozenset(sources), []).append(org_id)
    return out


def _before_commit(session: Session) -> None:
    """Add each touched enterprise's figures as they now stand, less what they were: one delta per line."""
    if not _active():
        return
    # The commit flushes only after this hook: flush now, so that this flush's enterprises are read too.
    session.flush()
    if not session.info.get(_CHECKED_OUT):
        return
    state = _state(session)
    session.info.pop(_CHECKED_OUT)
    delta: dict = {k: _add(None, v, -1) for k, v in state["before"].items()}
    with session.no_autoflush:
        # The same sources of the same enterprises as were read before, now.
        for sources, ids in _grouped(state["orgs"]).items():
            for k, v in contributions(ids, sources).items():
                delta[k] = _add(delta.get(k), v)
        apply(delta)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_CHECKED_OUT, None)


def init_app(app) -> None:
    """Attach the hooks to the session (once per process)."""
    if not event.contains(db_session, "before_flush", _before_flush):
        event.listen(db_session, "before_flush", _before_flush)
        event.listen(db_session, "before_commit", _before_commit)
        event.listen(db_session, "after_rollback", _forget)
        # Nothing read in one transaction may be taken for the state of the next.
        event.listen(db_session, "after_commit", _forget)


# --- reading ------------------------------------------------------------------------------------------


def sums(scope: services.Scope, key: str, n: int, by: str | None = None, dim: str = "") -> dict:
    """The first `n` metric columns of source `key` summed over the scope: {group value: (sums)}.

    `by` is None (one group, key None), "month", "district" (the district lines, '' read as none)
    or "value" (the lines of breakdown `dim`). The ledger's lines have no month: they are read whole.
    """
    t = ConsoleSummary
    cols = [sa.func.sum(getattr(t, f"m{i + 1}")) for i in range(n)]
    q = sa.select(*cols).where(t.source == key, t.dim == dim)
    q = q.where(t.month == "") if key in LEDGER else q.where(t.month.in_(scope.labels))
    if scope.district:
        q = q.where(t.district == scope.district)
    if by is None:
        return {None: tuple(db_session.execute(q).one())}
    group = getattr(t, by)
    return {(g if g != "" or by == "month" else None): tuple(rest)
            for g, *rest in db_session.execute(q.group_by(group).with_only_columns(group, *cols))}


def figures(scope: services.Scope, key: str, metrics, by: str | None = None, dim: str = "") -> dict:
    """The metrics of source `key` over the scope (see `sums`)."""
    columns = [int(column_of(m)[1:]) - 1 for m in metrics]
    found = sums(scope, key, max(columns) + 1, by, dim)
    return {g: tuple(v[i] for i in columns) for g, v in found.items()}


def funnel_demands(scope: services.Scope, key: str) -> int:
    """The distinct demands with a row of source `key` in the scope's period (see `_funnel_lines`)."""
    t = ConsoleSummary
    q = sa.select(sa.func.sum(t.records)).where(
        t.source == key, t.dim == FUNNEL_DIM, t.month.in_(scope.labels),
        sa.or_(t.value == "", t.value < scope.labels[0]))
    if scope.district:
        q = q.where(t.district == scope.district)
    return int(db_session.scalar(q) or 0)


def drill_total(scope: services.Scope, drill: services.Drill) -> int | None:
    """How many rows a drill-down lists, from the lines when they hold that count (None: count the rows).

    A count metric's figure is its rows; a sum's rows are the line's `records` when the sum takes every
    row of its source (the meetings' money lists only the meetings with an amount: counted raw).
    """
    m = services.METRIC_BY_KEY[drill.metric]
    if m.source not in SUMMARIZED or (m.value is not None and (m.where is not None or m.source == "meetings")):
        return None
    column = column_of(m) if m.value is None else "records"
    t = ConsoleSummary
    months = [drill.month] if drill.month else scope.labels
    q = sa.select(sa.func.sum(getattr(t, column))).where(t.source == m.source, t.month.in_(months))
    if scope.district:
        q = q.where(t.district == scope.district)
    if drill.dim == "district":
        q = q.where(t.dim == "", t.district == (drill.value or ""))
    elif drill.dim:
        q = q.where(t.dim == drill.dim, t.value == (drill.value or ""))
    else:
        q = q.where(t.dim == "")
    return int(db_session.scalar(q) or 0)
