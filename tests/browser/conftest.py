"""The live site (gunicorn on a free local port, on the test database) and a Chromium page per test."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without these flags Chromium keeps trying to reach Google's hosts and stalls on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(database_url, app, tmp_path_factory):
    """gunicorn serving wsgi:app on the test database, as `make serve` does.

    It shares the test app's search index directory, so what a test writes and syncs (or reindexes)
    in its own process is what the live site finds.
    """
    port = _free_port()
    instance = tmp_path_factory.mktemp("live-instance")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "browser-tests",
        "RATELIMIT_ENABLED": "0",
        "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        # Rows the tests make with factories reach the index before the live site searches it.
        "SEARCH_SYNC_BEFORE_SEARCH": "1",
        "MODEL_DIR": str(instance / "models"),
        "ATTACHMENT_DIR": str(instance / "attachments"),
        "NOTICE_FILES_DIR": str(instance / "notice-files"),
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = open(tmp_path_factory.mktemp("logs") / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/login", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"gunicorn did not start: see {log.name}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context (no cookies) whose console errors fail the test."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
