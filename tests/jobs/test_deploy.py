"""deploy/: the gunicorn configuration loads, the systemd units run commands that exist, the env file is complete."""
import configparser
import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALL = "/srv/matchmaker"  # where the units expect the checkout


def test_gunicorn_conf_loads_with_known_settings_only():
    from gunicorn.config import KNOWN_SETTINGS

    values = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    settings = {k: v for k, v in values.items() if not k.startswith("_") and k not in ("multiprocessing", "os", "env")}
    known = {s.name for s in KNOWN_SETTINGS}
    assert set(settings) <= known, set(settings) - known  # a typo would be silently ignored by gunicorn
    assert settings["workers"] == os.cpu_count() * 2 + 1
    assert settings["bind"] == "127.0.0.1:8000" and settings["timeout"] >= 30
    assert settings["forwarded_allow_ips"] == "127.0.0.1"
    assert "x-forwarded-for" in settings["access_log_format"]


def test_gunicorn_accepts_the_configuration_and_the_app(app, database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x", "GUNICORN_WORKERS": "2",
           "MODEL_DIR": str(tmp_path / "models"), "SEARCH_INDEX_DIR": str(tmp_path / "search")}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    out = subprocess.run([str(gunicorn), "--check-config", "--print-config", "-c", "deploy/gunicorn.conf.py",
                          "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^workers\s*=\s*2$", out.stdout, re.M)


def _units():
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {"matchmaker-web.service", "matchmaker-jobs-scheduler.service",
                                       "matchmaker-jobs-worker@.service", "matchmaker-jobs-loop.service"}
    for path in units:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(path)
        yield path.name, parser


def _local(path: str) -> Path:
    assert path.startswith(INSTALL), path
    return ROOT / path[len(INSTALL) + 1:]


def test_every_systemd_unit_runs_a_command_that_exists(app):
    commands = app.cli.list_commands(None)
    for name, unit in _units():
        service = unit["Service"]
        assert service["WorkingDirectory"] == INSTALL and service["EnvironmentFile"] == "/etc/matchmaker/matchmaker.env"
        argv = shlex.split(service["ExecStart"])
        assert _local(argv[0]).exists(), (name, argv[0])  # .venv/bin/gunicorn or .venv/bin/flask
        if argv[0].endswith("/gunicorn"):
            assert _local(argv[argv.index("-c") + 1]).exists() and argv[-1] == "wsgi:app"
            continue
        assert argv[1:3] == ["--app", "wsgi"], name
        group = app.cli.get_command(None, argv[3])
        assert argv[3] in commands and group is not None, (name, argv[3])
        sub = group.get_command(None, argv[4])
        assert sub is not None, (name, argv[4])
        # Every option the unit passes is one the command takes.
        options = {o for p in sub.params for o in getattr(p, "opts", [])}
        assert {a for a in argv[5:] if a.startswith("--")} <= options, (name, argv)
        assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_loop_and_the_queue_are_alternatives():
    units = dict(_units())
    assert "matchmaker-jobs-scheduler.service" in units["matchmaker-jobs-loop.service"]["Unit"]["Conflicts"]
    assert "matchmaker-jobs-loop.service" in units["matchmaker-jobs-scheduler.service"]["Unit"]["Conflicts"]


def test_the_env_example_names_every_setting():
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "matchmaker" / "config.py").read_text()))
    gunicorn = set(re.findall(r'env\("([A-Z_]+)"', (DEPLOY / "gunicorn.conf.py").read_text()))
    example = (DEPLOY / "matchmaker.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z_]+)=", example, re.M))
    assert read | gunicorn <= named, (read | gunicorn) - named
    assert named <= read | gunicorn, named - (read | gunicorn)


def test_nginx_allows_the_bodies_the_app_accepts(app):
    conf = (DEPLOY / "nginx" / "matchmaker.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]
    assert "alias /srv/matchmaker/static/;" in conf and "limit_req zone=matchmaker_api" in conf
    proxy = (DEPLOY / "nginx" / "matchmaker-proxy.inc").read_text()
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in proxy


@pytest.mark.parametrize("doc", ["README.md", "deploy/README.md"])
def test_the_walkthrough_names_the_files_that_exist(doc):
    text = (ROOT / doc).read_text()
    for ref in set(re.findall(r"deploy/[\w./@-]+\.(?:py|conf|inc|service|example)", text)):
        assert (ROOT / ref).exists(), ref
