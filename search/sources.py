"""Document sources per document type (the database side of reindex and sync), and their registry.

Organisations are registered here; the demand pool and the product catalogue register theirs
(`register_source("demand", DemandSource)`) when they land, and every command picks them up.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Organization, OrgKind, db_session
from search.backend import Document, DocumentSource, Loader
from search.documents import organization_document

SourceFactory = Callable[[Session], DocumentSource]
_REGISTRY: dict[str, SourceFactory] = {}


def register_source(doc_type: str, factory: SourceFactory) -> None:
    """Make `doc_type` indexable: `factory(session)` returns its DocumentSource."""
    _REGISTRY[doc_type] = factory


def registered_types() -> list[str]:
    """The document types that have a source, in registration order."""
    return list(_REGISTRY)


def source_for(doc_type: str, session: Session | None = None) -> DocumentSource:
    """The source of `doc_type` on `session` (the scoped session by default); KeyError if none."""
    return _REGISTRY[doc_type](session or db_session())


def make_loader(session: Session | None = None, sources: Mapping[str, SourceFactory] | None = None) -> Loader:
    """The loader the outbox drain uses: documents of any registered type, by ref."""
    registry = _REGISTRY if sources is None else sources

    def load(doc_type: str, refs: Sequence[str]) -> dict[str, Document | None]:
        if doc_type not in registry:
            raise LookupError(f"no search document source is registered for {doc_type!r}")
        return registry[doc_type](session or db_session()).load(refs)

    return load


class ModelSource:
    """A DocumentSource over one mapped class with a `ref` column: the rows `where` admits, built by `build`.

    The demand pool registers itself with, for example::

        register_source("demand", lambda session: ModelSource(
            session, Demand, demand_document, "demand",
            where=[Demand.status != DemandStatus.DRAFT],
            options=[selectinload(Demand.org), selectinload(Demand.project)]))
    """

    def __init__(self, session: Session, model: type, build: Callable[[Any], Document], doc_type: str,
                 where: Sequence[Any] = (), options: Sequence[Any] = ()):
        self.session = session
        self.model = model
        self.build = build
        self.doc_type = doc_type
        self.where = list(where)
        self.options = list(options)

    def _select(self) -> sa.Select:
        return sa.select(self.model).where(*self.where).options(*self.options).order_by(self.model.id)

    def count(self) -> int:
        """How many rows a reindex writes."""
        query = sa.select(sa.func.count()).select_from(self.model).where(*self.where)
        return self.session.scalar(query) or 0

    def iter_documents(self) -> Iterable[Document]:
        """Every searchable row as a document, streamed in batches."""
        for row in self.session.scalars(self._select().execution_options(yield_per=500)):
            yield self.build(row)

    def load(self, refs: Sequence[str]) -> dict[str, Document | None]:
        """Current documents of `refs`; None for a ref that is gone or not searchable."""
        found = {r.ref: r for r in self.session.scalars(self._select().where(self.model.ref.in_(list(refs))))}
        return {ref: self.build(found[ref]) if ref in found else None for ref in refs}


def organization_source(session: Session) -> ModelSource:
    """Enterprises and institutions of every review status (bureaus are not searched), as public documents.

    The bureau's directory lists pending and rejected ones too; any page for other users filters
    status=approved.
    """
    return ModelSource(session, Organization, organization_document, "organization",
                       where=[Organization.kind != OrgKind.BUREAU])


register_source("organization", organization_source)
