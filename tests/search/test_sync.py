"""The outbox: queued in the writer's transaction, applied after commit, kept and retried while the index is down."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import OrgKind, OutboxOp, SearchOutbox, db_session, enqueue
from models.types import utcnow
from search.embedded import EmbeddedBackend
from search.query import SearchQuery
from search.sources import make_loader, source_for
from search.sync import backoff, drain, pending_count
from tests import factories
from tests.search.switchable import Switchable


@pytest.fixture
def backend(tmp_path):
    return Switchable(EmbeddedBackend(tmp_path / "index", lock_timeout=2))


def _org(name: str, kind=OrgKind.BANK):
    org = factories.make_org(kind, commit=False, name=name)
    db_session.flush()
    enqueue("organization", org.ref)
    db_session.commit()
    return org


def _rows():
    return db_session.scalars(sa.select(SearchOutbox).order_by(SearchOutbox.id)).all()


def test_enqueue_commits_and_rolls_back_with_the_change(ctx):
    factories.make_org(OrgKind.BANK, commit=False, name="回滚银行")
    enqueue("organization", "bank-gone")
    db_session.rollback()
    assert pending_count() == 0
    org = _org("齐鲁银行枣庄分行")
    assert [(r.doc_type, r.ref, r.op, r.attempts) for r in _rows()] == [("organization", org.ref, OutboxOp.UPSERT, 0)]


def test_a_write_while_the_index_is_down_is_applied_once_it_is_back(ctx, backend):
    loader = make_loader()
    first = _org("工商银行枣庄分行")
    backend.down = True
    t0 = utcnow()
    report = drain(backend, loader, now=t0)
    assert report.failed == 1 and report.applied == 0 and "SearchUnavailable" in report.errors["organization"]
    (row,) = _rows()
    assert row.attempts == 1 and row.next_attempt_at == t0 + backoff(1) and "down" in row.last_error

    # More writes while down; a retry before the back-off is over does nothing.
    second = _org("建设银行枣庄分行")
    assert drain(backend, loader, now=t0 - timedelta(seconds=1)).failed == 0  # nothing is due yet
    assert drain(backend, loader, now=t0 + timedelta(seconds=5)).failed == 1  # only the new row is due
    assert pending_count() == 2 and [r.attempts for r in _rows()] == [1, 1]

    backend.down = False
    report = drain(backend, loader, now=t0 + timedelta(hours=2))
    assert report.applied == 2 and report.upserted == 2 and pending_count() == 0
    assert set(backend.search(SearchQuery(text="枣庄分行", doc_type="organization")).refs) == {first.ref, second.ref}

    # Drained rows are gone: draining again applies nothing twice.
    assert drain(backend, loader, now=t0 + timedelta(hours=3)).applied == 0
    assert backend.applied == Counter({first.ref: 1, second.ref: 1})


def test_backoff_grows_and_is_capped(ctx, backend):
    _org("农业银行枣庄分行")
    backend.down = True
    t = utcnow()
    waits = []
    for _ in range(10):
        drain(backend, make_loader(), now=t)
        (row,) = _rows()
        waits.append(row.next_attempt_at - t)
        t = row.next_attempt_at
    assert waits[:3] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert waits[-1] == timedelta(hours=1) and _rows()[0].attempts == 10


def test_updates_and_deletes_follow_the_database(ctx, backend):
    org = _org("恒丰银行枣庄分行")
    drain(backend, make_loader())
    org.name = "恒丰银行薛城支行"
    enqueue("organization", org.ref)
    enqueue("organization", org.ref)  # twice in one transaction: applied once
    db_session.commit()
    report = drain(backend, make_loader())
    assert report.applied == 2 and report.upserted == 1
    assert backend.search(SearchQuery(text="薛城支行", doc_type="organization")).refs == [org.ref]
    assert backend.search(SearchQuery(text="枣庄分行", doc_type="organization")).total == 0

    db_session.delete(org)
    enqueue("organization", org.ref, OutboxOp.DELETE)
    db_session.commit()
    assert drain(backend, make_loader()).deleted == 1
    assert backend.count("organization") == 0


def test_a_failing_type_does_not_hold_back_the_others(ctx, backend):
    _org("日照银行枣庄分行")
    enqueue("unknown_type", "x-1")
    db_session.commit()
    report = drain(backend, make_loader())
    assert report.applied == 1 and report.failed == 1 and "LookupError" in report.errors["unknown_type"]
    assert [r.doc_type for r in _rows()] == ["unknown_type"]


def test_organization_source_lists_public_searchable_organisations(ctx):
    bank = factories.make_org(OrgKind.BANK, name="浦发银行枣庄分行")
    factories.make_org(OrgKind.BUREAU, name="滕州市工信局")
    ent = factories.make_enterprise(name="枣庄华泰科技有限公司")
    source = source_for("organization")
    assert source.count() == 2
    docs = {d["ref"]: d for d in source.iter_documents()}
    assert set(docs) == {bank.ref, ent.ref} and ent.uscc not in repr(docs)
    assert source.load([bank.ref, "nope"]) == {bank.ref: docs[bank.ref], "nope": None}


@pytest.mark.postgres_only
def test_one_drainer_at_a_time_on_postgresql(ctx, backend):
    from models import get_engine
    from search.sync import ADVISORY_LOCK

    if get_engine().dialect.name != "postgresql":
        pytest.skip("the drain lock is PostgreSQL's advisory lock")
    org = _org("兴业银行枣庄分行")
    with get_engine().connect() as other:
        assert other.scalar(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_LOCK)))
        report = drain(backend, make_loader())
        assert report.skipped and report.applied == 0 and pending_count() == 1
        other.scalar(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK)))
        other.commit()
    assert drain(backend, make_loader()).applied == 1
    assert backend.search(SearchQuery(text="兴业银行", doc_type="organization")).refs == [org.ref]
