"""Document sources per document type (the database side of reindex and sync), and their registry.

Organisations are registered here; the demand pool and the product catalogue register theirs
(`register_source("demand", DemandSource)`) when they land, and every command picks them up.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Organization, OrgKind, OrgStatus, db_session
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


class OrganizationSource:
    """Approved enterprises and institutions (bureaus are not searched), as public documents."""

    doc_type = "organization"

    def __init__(self, session: Session):
        self.session = session

    def _select(self):
        return (sa.select(Organization)
                .where(Organization.status == OrgStatus.APPROVED, Organization.kind != OrgKind.BUREAU)
                .order_by(Organization.id))

    def count(self) -> int:
        """How many organisations a reindex writes."""
        return self.session.scalar(sa.select(sa.func.count()).select_from(self._select().subquery())) or 0

    def iter_documents(self) -> Iterable[Document]:
        """Every searchable organisation, streamed in batches."""
        for org in self.session.scalars(self._select().execution_options(yield_per=500)):
            yield organization_document(org)

    def load(self, refs: Sequence[str]) -> dict[str, Document | None]:
        """Current documents of `refs`; None for one deleted, unapproved or a bureau."""
        found = {o.ref: o for o in self.session.scalars(self._select().where(Organization.ref.in_(list(refs))))}
        return {ref: organization_document(found[ref]) if ref in found else None for ref in refs}


register_source("organization", OrganizationSource)
