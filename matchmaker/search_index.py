"""What reaches the search index: the demand and product sources, and one session hook that queues every change."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload

from models import (
    Demand,
    DemandStatus,
    Organization,
    OrgStatus,
    Product,
    ProductStatus,
    SearchOutbox,
    TechProject,
    db_session,
    enqueue,
)
from search.documents import demand_document, product_document
from search.sources import ModelSource, register_source

# Organisation fields a demand or product document is built from (the masked secrets included):
# when one of them changes, every document of that organisation must be rebuilt.
ORG_FIELDS = ("name", "uscc", "contact_name", "contact_phone", "district", "industry", "size", "tags", "status")
PROJECT_FIELDS = ("name", "category", "is_major")
_QUEUED = "search_queued"
# Set on a session whose transaction the hook queued something in.
_SYNC = "search_sync_on_commit"
# Commits outside a request left changes queued in this process (see sync_before_search).
_state = {"pending": False}


def pool_document(demand: Demand) -> dict:
    """A demand's document, dated by publication: "newest" in the pool means newest published."""
    doc = demand_document(demand)
    if demand.published_at is not None:
        doc["created_at"] = demand.published_at.isoformat()
    return doc


def demand_source(session: Session) -> ModelSource:
    """Every demand past draft (the pages filter by status); built without the enterprise's identity."""
    return ModelSource(session, Demand, pool_document, "demand", where=[Demand.status != DemandStatus.DRAFT],
                       options=[selectinload(Demand.org), selectinload(Demand.project)])


def product_source(session: Session) -> ModelSource:
    """Products on sale from approved institutions: what the supermarket shows."""
    return ModelSource(session, Product, product_document, "product",
                       where=[Product.status == ProductStatus.ACTIVE,
                              Product.org.has(Organization.status == OrgStatus.APPROVED)],
                       options=[selectinload(Product.org)])


register_source("demand", demand_source)
register_source("product", product_source)


def _changed(obj, names) -> bool:
    state = sa.inspect(obj)
    return any(name in state.attrs and state.attrs[name].history.has_changes() for name in names)


def _queue_changes(session: Session, flush_context, instances) -> None:
    """Queue the documents this flush changes, in the same transaction (DESIGN §3's outbox).

    One hook instead of a call in every service: create, edit, each life-cycle step, imports and
    the demo seeding all flush through here, so no write path can forget the index.
    """
    if has_app_context() and not current_app.config.get("SEARCH_QUEUE_CHANGES", True):
        return
    queued: set = session.info.setdefault(_QUEUED, set())

    def queue(doc_type: str, ref: str | None) -> None:
        if ref and (doc_type, ref) not in queued:
            queued.add((doc_type, ref))
            enqueue(doc_type, ref, session=session)
            session.info[_SYNC] = True

    def refs_of(column, value) -> list[str]:
        model = column.class_
        return list(session.scalars(sa.select(model.ref).where(column == value)))

    touched = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    with session.no_autoflush:
        for obj in touched:
            if isinstance(obj, SearchOutbox):
                continue
            if isinstance(obj, Demand):
                queue("demand", obj.ref)
            elif isinstance(obj, Product):
                queue("product", obj.ref)
            elif isinstance(obj, Organization):
                queue("organization", obj.ref)
                if obj.id is not None and obj not in session.new and _changed(obj, ORG_FIELDS):
                    for ref in refs_of(Demand.org_id, obj.id):
                        queue("demand", ref)
                    for ref in refs_of(Product.org_id, obj.id):
                        queue("product", ref)
            elif (isinstance(obj, TechProject) and obj.id is not None and obj not in session.new
                  and _changed(obj, PROJECT_FIELDS)):
                for ref in refs_of(Demand.project_id, obj.id):
                    queue("demand", ref)


def _forget(session: Session, *args) -> None:
    session.info.pop(_QUEUED, None)


def _after_commit(session: Session) -> None:
    _forget(session)
    if session.info.pop(_SYNC, False):
        _state["pending"] = True


def sync_before_search() -> None:
    """With SEARCH_SYNC_BEFORE_SEARCH, apply queued index changes before a page searches.

    Web writes reach the index after their request; this is for writes made outside a request (the
    tests' factories, in this process or another one writing to the database a live test server
    reads), so a page reads what was just written. Production leaves it off and runs `search sync`.
    """
    if not (has_app_context() and current_app.config.get("SEARCH_SYNC_BEFORE_SEARCH")):
        return
    from matchmaker.search_cli import sync_now
    from models import SearchOutbox, get_engine

    if not _state["pending"]:
        with get_engine().connect() as conn:
            if conn.execute(sa.select(SearchOutbox.id).limit(1)).first() is None:
                return
    _state["pending"] = False
    sync_now()


def _after_rollback(session: Session) -> None:
    _forget(session)
    session.info.pop(_SYNC, None)


def init_app(app) -> None:
    """Attach the hook to the app's session (once per process; the sources are registered on import)."""
    if not event.contains(db_session, "before_flush", _queue_changes):
        event.listen(db_session, "before_flush", _queue_changes)
        event.listen(db_session, "after_commit", _after_commit)
        event.listen(db_session, "after_rollback", _after_rollback)
