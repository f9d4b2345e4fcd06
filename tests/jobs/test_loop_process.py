"""The embedded loop as a real process: it runs the due jobs and stops cleanly on SIGTERM and SIGINT."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import JobRun, db_session

ROOT = Path(__file__).resolve().parents[2]


def _start_loop(database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "SEARCH_INDEX_DIR": str(tmp_path / "search"), "MODEL_DIR": str(tmp_path / "models")}
    env.pop("REDIS_URL", None)
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "--app", "wsgi", "jobs", "loop", "--tick", "0.2"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _wait_for_runs(n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_session.remove()
        if db_session.scalar(sa.select(sa.func.count(JobRun.id))) >= n:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_loop_runs_due_jobs_and_stops_on_a_signal(ctx, database_url, tmp_path, sig):
    from matchmaker.jobs.registry import JOBS

    proc = _start_loop(database_url, tmp_path)
    try:
        assert _wait_for_runs(len(JOBS)), proc.stderr.read() if proc.poll() is not None else "no runs"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "后台任务循环已退出" in err and "Traceback" not in err
    finished = db_session.scalars(sa.select(JobRun.status)).all()
    assert len(finished) == len(JOBS) and set(finished) == {"finished"}
