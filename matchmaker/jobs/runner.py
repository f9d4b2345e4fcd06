"""Claiming and running job slots: the unique (job, slot) row makes every slot run at most once."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker.jobs.registry import JOBS, Job, JobIncomplete, city_zone, get
from models import db_session, get_engine
from models.jobs import JobRun, MailStatus, OutgoingMail, RunStatus
from models.types import utcnow

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass
class Outcome:
    job: str
    slot: datetime
    status: RunStatus
    duration_ms: int
    result: dict | None
    error: str | None

    def as_json(self) -> dict:
        return {"job": self.job, "slot": self.slot.isoformat(), "status": self.status.value,
                "duration_ms": self.duration_ms, "result": self.result, "error": self.error}


def claim(name: str, slot: datetime, trigger: str = "schedule") -> int | None:
    """Insert the run row for (`name`, `slot`) in a transaction of its own; None if another worker has it.

    On PostgreSQL a concurrent insert of the same key waits for the first to commit and then fails on
    the unique key; on SQLite the writers are serialised by the database lock. Either way one wins.
    """
    with Session(bind=get_engine()) as s:
        run = JobRun(job=name, slot=slot, trigger=trigger, status=RunStatus.RUNNING, worker=worker_id(),
                     started_at=utcnow())
        s.add(run)
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            return None
        return run.id


def _finish(run_id: int, status: RunStatus, duration_ms: int, result: dict | None, error: str | None) -> None:
    with Session(bind=get_engine()) as s:
        run = s.get(JobRun, run_id)
        run.status, run.finished_at, run.duration_ms = status, utcnow(), duration_ms
        run.result, run.error = result, error
        s.commit()


def run_slot(name: str, slot: datetime, trigger: str = "schedule") -> Outcome | None:
    """Claim and run one slot of job `name` (needs an app context); None when the slot was already claimed."""
    job = get(name)
    run_id = claim(name, slot, trigger)
    if run_id is None:
        log.info("job %s slot %s: claimed by another worker, skipped", name, slot)
        return None
    started = time.monotonic()
    result, error, status = None, None, RunStatus.FINISHED
    try:
        result = job.func()
    except JobIncomplete as e:
        db_session.rollback()
        status, result, error = RunStatus.FAILED, e.result, str(e)
    except Exception:
        db_session.rollback()
        status, error = RunStatus.FAILED, traceback.format_exc()[-4000:]
        log.exception("job %s slot %s failed", name, slot)
    finally:
        db_session.remove()
    duration = int((time.monotonic() - started) * 1000)
    result = _plain(result)
    _finish(run_id, status, duration, result, error)
    return Outcome(name, slot, status, duration, result, error)


def _plain(result) -> dict | None:
    if result is None or isinstance(result, dict):
        return result
    return {"result": result}


def run_now(name: str) -> Outcome:
    """Run a job at once, outside its schedule (`jobs run NAME`); recorded as a manual run."""
    outcome = run_slot(name, utcnow(), trigger="manual")
    if outcome is None:  # two manual runs within the same microsecond
        raise RuntimeError(f"job {name} was just started by another process")
    return outcome


def due_jobs(now: datetime | None = None) -> list[tuple[Job, datetime]]:
    """Each job whose current slot nobody has claimed yet, with that slot."""
    now = now or utcnow()
    tz = city_zone()
    slots = {job.name: job.current_slot(now, tz) for job in JOBS.values()}
    # A session of its own: the caller's transaction (a request, a test) is neither used nor ended.
    with Session(bind=get_engine()) as s:
        taken = set(s.execute(
            sa.select(JobRun.job, JobRun.slot).where(
                sa.tuple_(JobRun.job, JobRun.slot).in_(list(slots.items())) if slots else sa.false())
        ).all())
    return [(JOBS[name], slot) for name, slot in slots.items() if (name, slot) not in taken]


def run_due(now: datetime | None = None) -> list[Outcome]:
    """Run every due job once (one pass of the embedded loop)."""
    outcomes = []
    for job, slot in due_jobs(now):
        outcome = run_slot(job.name, slot)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def loop(stop: threading.Event, tick: float = 10.0) -> int:
    """Run due jobs every `tick` seconds until `stop` is set; a job in progress finishes first."""
    passes = 0
    while not stop.is_set():
        try:
            for o in run_due():
                log.info("job %s: %s in %d ms", o.job, o.status.value, o.duration_ms)
        except Exception:  # the database being away must not end the loop: try again next tick
            log.exception("jobs loop: a pass failed")
            db_session.remove()
        passes += 1
        stop.wait(tick)
    return passes


def status(now: datetime | None = None) -> list[dict]:
    """Per job: schedule, last run, last failure, failures in the last 24 hours and when it is next due."""
    now = now or utcnow()
    tz = city_zone()
    out = []
    for job in JOBS.values():
        runs = JobRun.__table__
        last = db_session.scalar(sa.select(JobRun).where(JobRun.job == job.name)
                                 .order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1))
        last_failure = db_session.scalar(
            sa.select(JobRun).where(JobRun.job == job.name, JobRun.status == RunStatus.FAILED)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1))
        failures = db_session.scalar(sa.select(sa.func.count(JobRun.id)).where(
            JobRun.job == job.name, JobRun.status == RunStatus.FAILED,
            JobRun.started_at >= now - timedelta(hours=24))) or 0
        slot = job.current_slot(now, tz)
        claimed = db_session.scalar(sa.select(JobRun.id).where(JobRun.job == job.name, JobRun.slot == slot))
        out.append({
            "name": job.name, "title": job.title, "schedule": job.schedule_text,
            "last_run": _run_json(last), "last_failure": _run_json(last_failure), "failures_24h": failures,
            # An unclaimed current slot is due now; otherwise the next one.
            "next_due": (slot if claimed is None else job.next_slot(slot, tz)).isoformat(),
        })
    return out


def _run_json(run: JobRun | None) -> dict | None:
    if run is None:
        return None
    return {"slot": run.slot.isoformat(), "trigger": run.trigger, "status": run.status.value, "worker": run.worker,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration_ms": run.duration_ms, "result": run.result, "error": run.error}


KEEP_DAYS = 30


def prune(now: datetime | None = None, keep_days: int = KEEP_DAYS) -> dict:
    """Delete job runs and sent mail older than `keep_days` (failed mail stays for a person to read)."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    with Session(bind=get_engine()) as s:
        runs = s.execute(sa.delete(JobRun).where(JobRun.started_at < cutoff,
                                                 JobRun.status != RunStatus.RUNNING)).rowcount
        mail = s.execute(sa.delete(OutgoingMail).where(OutgoingMail.status == MailStatus.SENT,
                                                       OutgoingMail.sent_at < cutoff)).rowcount
        s.commit()
    return {"runs": runs, "mail": mail}
