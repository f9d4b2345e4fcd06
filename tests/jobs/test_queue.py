"""The scaled way: the scheduler enqueues due slots into RQ on a real Redis (db 5), a real worker runs them."""
import os
from datetime import datetime

import pytest
import sqlalchemy as sa

from matchmaker.jobs import queue, runner
from matchmaker.jobs.registry import JOBS
from models import JobRun, RunStatus, db_session
from models.types import utcnow

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_conn(app):
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    conn.flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    yield conn
    app.config["REDIS_URL"] = None
    conn.flushdb()


def _burst(conn):
    from rq import SimpleWorker

    worker = queue.make_worker(conn)
    assert isinstance(worker, SimpleWorker)
    worker.work(burst=True)


def test_scheduler_enqueues_due_slots_and_a_worker_runs_them(ctx, redis_conn):
    # One moment for both passes: a minute boundary between them would make the minute jobs due again.
    now = utcnow()
    ids = queue.enqueue_due(redis_conn, now=now)
    assert len(ids) == len(JOBS)
    assert sorted(queue.get_queue(redis_conn).job_ids) == sorted(ids)
    _burst(redis_conn)
    runs = db_session.scalars(sa.select(JobRun)).all()
    assert {r.job for r in runs} == set(JOBS)
    assert all(r.status == RunStatus.FINISHED for r in runs), [r.error for r in runs]
    assert queue.get_queue(redis_conn).count == 0
    # Everything due has run: the next pass enqueues nothing.
    assert queue.enqueue_due(redis_conn, now=now) == []


def test_a_slot_enqueued_twice_runs_once(ctx, redis_conn):
    # Two schedulers (each with its own memory) enqueue the same due slots.
    first = queue.enqueue_due(redis_conn, seen=set())
    second = queue.enqueue_due(redis_conn, seen=set())
    assert sorted(first) == sorted(second)
    # And one slot pushed again by hand under another id: three copies of it in the queue.
    slot = datetime.fromisoformat(next(i for i in first if i.startswith("search-sync")).split("_")[1])
    q = queue.get_queue(redis_conn)
    extra = q.enqueue(queue.perform, "search-sync", slot.isoformat())
    _burst(redis_conn)
    counts = dict(db_session.execute(sa.select(JobRun.job, sa.func.count(JobRun.id)).group_by(JobRun.job)).all())
    assert counts == {name: 1 for name in JOBS}
    assert extra.refresh() is None and extra.return_value() == {"job": "search-sync", "slot": slot.isoformat(),
                                                                 "status": "skipped"}


def test_a_scheduler_remembers_what_it_enqueued(ctx, redis_conn):
    seen = set()
    assert len(queue.enqueue_due(redis_conn, seen=seen)) == len(JOBS)
    # Not yet run by any worker, still due, but this scheduler does not push it again.
    assert queue.enqueue_due(redis_conn, seen=seen) == []
    assert queue.get_queue(redis_conn).count == len(JOBS)


def test_the_worker_command_runs_the_queue_in_burst_mode(ctx, redis_conn):
    queue.enqueue_due(redis_conn)
    result = ctx.test_cli_runner().invoke(args=["jobs", "worker", "--burst"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert db_session.scalar(sa.select(sa.func.count(JobRun.id))) == len(JOBS)
    assert runner.due_jobs() == []


def test_the_scheduler_command_enqueues_once(ctx, redis_conn):
    import json

    result = ctx.test_cli_runner().invoke(args=["jobs", "scheduler", "--once"], catch_exceptions=False)
    assert len(json.loads(result.stdout)["enqueued"]) == len(JOBS)


def test_without_redis_the_scaled_commands_say_what_to_do(ctx, app):
    app.config["REDIS_URL"] = None
    result = ctx.test_cli_runner().invoke(args=["jobs", "scheduler", "--once"])
    assert result.exit_code == 1 and "REDIS_URL" in result.output
    assert ctx.test_cli_runner().invoke(args=["jobs", "worker", "--burst"]).exit_code == 1
