"""The scaled way to run jobs: a scheduler enqueues due slots into RQ (Redis), workers run them.

The database claim in `runner.run_slot` still decides who runs a slot, so two schedulers, a slot
enqueued twice or two workers picking copies of it never run the same slot twice.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask, current_app, has_app_context

from matchmaker.jobs import runner
from models.types import utcnow

log = logging.getLogger(__name__)

QUEUE_NAME = "matchmaker-jobs"
_app: Flask | None = None


def connection(url: str | None = None):
    """A Redis connection for REDIS_URL (RQ stores pickled arguments, so no decode_responses)."""
    from redis import Redis

    url = url or current_app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: use `flask --app wsgi jobs loop` without Redis")
    return Redis.from_url(url)


def get_queue(conn):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=conn)


def job_id(name: str, slot: datetime) -> str:
    return f"{name}_{slot:%Y%m%dT%H%M%S}"


def enqueue_due(conn, now: datetime | None = None, seen: set | None = None) -> list[str]:
    """Enqueue every due slot (needs an app context); `seen` keeps one scheduler from enqueuing a slot twice."""
    queue = get_queue(conn)
    ids = []
    for job, slot in runner.due_jobs(now or utcnow()):
        key = (job.name, slot)
        if seen is not None:
            if key in seen:
                continue
            seen.add(key)
        ids.append(queue.enqueue(perform, job.name, slot.isoformat(), job_id=job_id(job.name, slot),
                                 job_timeout=job.timeout, result_ttl=86400, failure_ttl=7 * 86400,
                                 description=f"{job.name} @ {slot.isoformat()}").id)
    return ids


def schedule(conn, stop: threading.Event, tick: float = 10.0) -> None:
    """The scheduler process: every `tick` seconds enqueue what is due, until `stop` is set."""
    seen: set = set()
    while not stop.is_set():
        try:
            for jid in enqueue_due(conn, seen=seen):
                log.info("enqueued %s", jid)
        except Exception:  # Redis or the database away: try again next tick
            log.exception("jobs scheduler: a pass failed")
        # Keep the memory of enqueued slots small: a slot older than a day is never due again.
        cutoff = utcnow().timestamp() - 86400
        seen = {k for k in seen if k[1].timestamp() > cutoff}
        stop.wait(tick)


def perform(name: str, slot_iso: str) -> dict:
    """What an RQ worker executes: run one slot inside the app (built from the environment if needed)."""
    slot = datetime.fromisoformat(slot_iso)
    if has_app_context():
        outcome = runner.run_slot(name, slot)
    else:
        with _worker_app().app_context():
            outcome = runner.run_slot(name, slot)
    return outcome.as_json() if outcome else {"job": name, "slot": slot_iso, "status": "skipped"}


def _worker_app() -> Flask:
    """A plain `rq worker` has no app: build one per process, as wsgi.py does."""
    global _app
    if _app is None:
        from matchmaker import create_app

        _app = create_app()
    return _app


def make_worker(conn, name: str | None = None):
    """An RQ SimpleWorker on the jobs queue: jobs run inside the worker process itself, without a fork,
    so the app, its database pool and its search backend are built once and stay valid between jobs."""
    from rq import SimpleWorker

    return SimpleWorker([get_queue(conn)], connection=conn, name=name)
