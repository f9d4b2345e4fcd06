"""Periodic jobs: their slots in the city's time, one run per slot even with concurrent workers, status."""
import json
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from matchmaker.jobs import registry, runner
from matchmaker.jobs.registry import JOBS, Job
from models import Demand, JobRun, RunStatus, SearchOutbox, db_session, get_engine
from models.jobs import JobRun as JobRunModel
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_daily_job_is_due_at_its_time_in_shanghai():
    job = Job("x", "x", dict, daily_at=time(0, 5))
    # 2026-11-25 16:04 UTC is 00:04 in Shanghai on the 26th: the slot is still the 25th's 00:05.
    assert job.current_slot(datetime(2026, 11, 25, 16, 4), SHANGHAI) == datetime(2026, 11, 24, 16, 5)
    assert job.current_slot(datetime(2026, 11, 25, 16, 5), SHANGHAI) == datetime(2026, 11, 25, 16, 5)
    assert job.next_slot(datetime(2026, 11, 25, 16, 5), SHANGHAI) == datetime(2026, 11, 26, 16, 5)


def test_an_interval_job_has_one_slot_per_interval():
    job = Job("x", "x", dict, every=timedelta(minutes=5))
    assert job.current_slot(datetime(2026, 11, 26, 3, 7, 59), SHANGHAI) == datetime(2026, 11, 26, 3, 5)
    assert job.current_slot(datetime(2026, 11, 26, 3, 10), SHANGHAI) == datetime(2026, 11, 26, 3, 10)
    assert job.next_slot(datetime(2026, 11, 26, 3, 10), SHANGHAI) == datetime(2026, 11, 26, 3, 15)


def test_the_registry_covers_every_clock_of_the_platform():
    assert set(JOBS) == {"demands-expire", "offers-expire", "offers-remind", "search-sync", "webhooks-deliver",
                         "mail-deliver", "prune-history"}


def test_a_pass_runs_each_due_job_once_and_really_expires_a_demand(ctx):
    ent = factories.make_enterprise()
    demand = factories.make_demand(ent, status="published", valid_until=date(2020, 1, 1))
    outcomes = runner.run_due()
    assert {o.job for o in outcomes} == set(JOBS)
    assert all(o.status == RunStatus.FINISHED for o in outcomes), [o.error for o in outcomes]
    assert next(o for o in outcomes if o.job == "demands-expire").result == {"expired": 1}
    assert db_session.get(Demand, demand.id).status == "expired"
    # The same slots again: nothing runs, nothing is recorded twice.
    assert runner.run_due() == []
    assert db_session.scalar(sa.select(sa.func.count(JobRun.id))) == len(JOBS)


def test_the_next_slot_runs_again(ctx):
    now = datetime(2026, 11, 26, 3, 0, 30)
    assert {o.job for o in runner.run_due(now)} == set(JOBS)
    later = {o.job for o in runner.run_due(now + timedelta(minutes=1))}
    assert later == {"search-sync", "webhooks-deliver"}
    assert {o.job for o in runner.run_due(now + timedelta(minutes=5))} == {"search-sync", "webhooks-deliver",
                                                                          "mail-deliver"}


def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(i):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_two_concurrent_claims_of_one_slot_give_it_to_exactly_one(ctx):
    slot = datetime(2026, 11, 26, 3, 0)
    for attempt in range(5):
        got = _concurrently(2, lambda s=slot + timedelta(minutes=attempt): runner.claim("search-sync", s))
        assert sum(r is not None for r in got) == 1, got
    assert db_session.scalar(sa.select(sa.func.count(JobRunModel.id))) == 5


def test_two_workers_running_the_same_slot_call_the_service_once(ctx, monkeypatch):
    calls = []

    def slow_service():
        calls.append(1)
        return {"ok": True}

    monkeypatch.setitem(JOBS, "search-sync", Job("search-sync", "搜索索引同步", slow_service,
                                                  every=timedelta(minutes=1)))
    slot = datetime(2026, 11, 26, 3, 1)

    def run():
        with ctx.app_context():
            return runner.run_slot("search-sync", slot)

    outcomes = _concurrently(2, run)
    assert len(calls) == 1
    assert sorted(o is None for o in outcomes) == [False, True]
    run_row = db_session.scalar(sa.select(JobRun).where(JobRun.job == "search-sync"))
    assert run_row.status == RunStatus.FINISHED and run_row.result == {"ok": True}
    assert run_row.duration_ms is not None and run_row.finished_at is not None


def test_a_failed_run_is_recorded_with_its_error_and_listed(ctx, search_down):
    factories.make_enterprise()  # queues an index change the backend cannot take
    assert db_session.scalar(sa.select(sa.func.count(SearchOutbox.id))) >= 1
    outcome = runner.run_slot("search-sync", datetime(2026, 11, 26, 3, 2))
    assert outcome.status == RunStatus.FAILED
    assert "does not answer" in outcome.error
    assert outcome.result["failed"] >= 1 and outcome.result["pending"] >= 1
    # The changes stay queued: a failed job never loses the work it could not do.
    assert db_session.scalar(sa.select(sa.func.count(SearchOutbox.id))) >= 1

    result = ctx.test_cli_runner().invoke(args=["jobs", "list", "--json"], catch_exceptions=False)
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["search-sync"]["failures_24h"] == 1
    assert rows["search-sync"]["last_failure"]["status"] == "failed"
    assert "does not answer" in rows["search-sync"]["last_failure"]["error"]
    assert rows["demands-expire"]["last_run"] is None


def test_a_job_that_raises_is_recorded_failed_and_the_loop_goes_on(ctx, monkeypatch):
    def broken():
        raise ValueError("数据有误")

    monkeypatch.setitem(JOBS, "offers-remind", Job("offers-remind", "申请答复期限提醒", broken, daily_at=time(8, 30)))
    outcomes = {o.job: o for o in runner.run_due()}
    assert outcomes["offers-remind"].status == RunStatus.FAILED
    assert "ValueError: 数据有误" in outcomes["offers-remind"].error
    assert outcomes["demands-expire"].status == RunStatus.FINISHED


def test_jobs_run_and_list_commands(ctx):
    runner_ = ctx.test_cli_runner()
    result = runner_.invoke(args=["jobs", "run", "demands-expire", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["status"] == "finished" and out["result"] == {"expired": 0}
    # A manual run does not take the scheduled slot: the schedule still runs it.
    assert "demands-expire" in {o.job for o in runner.run_due()}
    rows = {r["name"]: r for r in json.loads(runner_.invoke(args=["jobs", "list", "--json"]).stdout)}
    assert rows["demands-expire"]["last_run"]["status"] == "finished"
    assert datetime.fromisoformat(rows["demands-expire"]["next_due"]) > datetime.fromisoformat(
        rows["demands-expire"]["last_run"]["slot"])
    bad = runner_.invoke(args=["jobs", "run", "no-such-job"])
    assert bad.exit_code == 2 and "no-such-job" in bad.output


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_runs_on_an_empty_database(ctx, name):
    outcome = runner.run_now(name)
    assert outcome.status == RunStatus.FINISHED, outcome.error
    assert isinstance(outcome.result, dict)


def test_claims_go_through_their_own_transaction(ctx):
    # A claim must be visible to other workers at once, whatever the caller's session holds.
    factories.make_enterprise(commit=False)
    run_id = runner.claim("mail-deliver", datetime(2026, 11, 26, 3, 5))
    with get_engine().connect() as conn:
        assert conn.scalar(sa.select(JobRun.__table__.c.id).where(JobRun.__table__.c.id == run_id)) == run_id
    db_session.rollback()
    assert registry.get("mail-deliver").name == "mail-deliver"


def test_the_city_bureau_sees_the_jobs_and_their_failures(ctx, world, login_as, search_down):
    factories.make_enterprise()
    city = login_as(world.city_bureau)
    runner.run_slot("search-sync", datetime(2026, 11, 26, 3, 2))
    from models.types import utcnow

    slot = JOBS["demands-expire"].current_slot(utcnow(), SHANGHAI)
    runner.run_slot("demands-expire", slot)
    page = city.get("/bureau/jobs")
    assert page.status_code == 200
    text = page.text
    assert "搜索索引同步" in text and "失败" in text and "does not answer" in text
    assert "融资需求到期失效" in text and "成功" in text and "从未运行" in text
    # The next daily slot, in Beijing time: tomorrow's 00:05.
    nxt = JOBS["demands-expire"].next_slot(slot, SHANGHAI).replace(tzinfo=ZoneInfo("UTC")).astimezone(SHANGHAI)
    assert nxt.strftime("%Y-%m-%d 00:05") in text
    assert "后台任务" in city.get("/bureau/organizations").text


@pytest.mark.parametrize("role", ["district_bureau", "bank", "enterprise"])
def test_others_do_not_see_the_jobs(ctx, world, login_as, role):
    assert login_as(getattr(world, role)).get("/bureau/jobs").status_code == 403


def test_visitors_are_sent_to_sign_in(ctx, client):
    assert client.get("/bureau/jobs").status_code == 302


def test_old_history_is_pruned_but_recent_runs_and_unsent_mail_stay(ctx):
    from models import MailStatus, OutgoingMail
    from models.types import utcnow

    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    db_session.add_all([
        JobRun(job="search-sync", slot=old, started_at=old, status=RunStatus.FINISHED, worker="w"),
        JobRun(job="search-sync", slot=recent, started_at=recent, status=RunStatus.FAILED, worker="w"),
        OutgoingMail(sender="a@b", recipient="c@d", subject="s", body="b", status=MailStatus.SENT, sent_at=old),
        OutgoingMail(sender="a@b", recipient="c@d", subject="s", body="b", status=MailStatus.FAILED),
    ])
    db_session.commit()
    outcome = runner.run_now("prune-history")
    assert outcome.result == {"runs": 1, "mail": 1}
    assert [r.slot for r in db_session.scalars(sa.select(JobRun).where(JobRun.trigger == "schedule"))] == [recent]
    assert db_session.scalars(sa.select(OutgoingMail.status)).all() == [MailStatus.FAILED]
