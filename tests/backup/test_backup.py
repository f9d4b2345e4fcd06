"""Backup and restore: a restored site exports the same data, keeps its files and finds the same demands."""
from __future__ import annotations

import gzip
import io
import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from matchmaker.demo.services import seed_demo
from matchmaker.interchange import backup
from matchmaker.interchange.services import export_lines
from matchmaker.notices import services as notices
from matchmaker.search_cli import get_backend, sync_all
from models import Organization, db_session, get_engine, init_engine
from search.query import SearchQuery
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def target_url(database_url, tmp_path):
    """An empty second database of the same kind as the test database (PostgreSQL: TEST_RESTORE_DATABASE_URL)."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    url = os.environ.get("TEST_RESTORE_DATABASE_URL") or database_url.rsplit("/", 1)[0] + "/" + (
        sa.make_url(database_url).database + "_restore")
    name = sa.make_url(url).database
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    target = sa.create_engine(url)
    with target.begin() as conn:  # empty, without even a schema: restore creates it
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    target.dispose()
    return url


@pytest.fixture
def dirs(app, tmp_path, monkeypatch):
    """The source site's file directories (the test may point the app at other ones)."""
    paths = {key: tmp_path / "source" / key.lower() for key in backup.FILE_DIRECTORIES}
    for key, path in paths.items():
        monkeypatch.setitem(app.config, key, str(path))
    return paths


@contextmanager
def site(url: str):
    """The app's session and engine on another database for the duration (a second site)."""
    original = get_engine().url.render_as_string(hide_password=False)
    db_session.remove()
    init_engine(url)
    try:
        yield get_engine()
    finally:
        db_session.remove()
        init_engine(original)


def export_text(city) -> str:
    out = io.StringIO()
    export_lines(out, city=city)
    db_session.remove()
    return out.getvalue()


def found(text: str) -> list[str]:
    result = get_backend().search(SearchQuery(text=text, per_page=100, doc_type="demand"))
    return sorted(h.ref for h in result.hits)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def demo_site(ctx, city, dirs):
    """A small demo world with a notice attachment and a file in the attachment directory."""
    seed_demo(city, enterprises=10)
    bureau = db_session.scalar(sa.select(Organization).where(Organization.ref == "demo-bureau-city")).users[0]
    notices.publish(bureau, kind="policy", title="技改贷款贴息政策", body="详见附件。", audience_kinds=[],
                    audience_districts=[], uploads=[notices.Upload("政策.pdf", PDF)])
    (dirs["ATTACHMENT_DIR"] / "ab").mkdir(parents=True)
    (dirs["ATTACHMENT_DIR"] / "ab" / "licence.pdf").write_bytes(PDF + b"licence")
    sync_all()
    return city


def test_restore_into_an_empty_database_gives_the_same_site(app, demo_site, dirs, target_url, tmp_path, monkeypatch):
    city = demo_site
    before = export_text(city)
    searched = {word: found(word) for word in ("技改", "生产线", "设备")}
    assert any(searched.values())
    runner = app.test_cli_runner()

    made = runner.invoke(args=["data", "backup", str(tmp_path / "bk"), "--json"])
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["tables"]["demands"] > 0 and summary["files"] == {"NOTICE_FILES_DIR": 1, "ATTACHMENT_DIR": 1}
    assert "备份" in made.stderr

    restored_dirs = {key: tmp_path / "restored" / key.lower() for key in backup.FILE_DIRECTORIES}
    for key, path in restored_dirs.items():
        monkeypatch.setitem(app.config, key, str(path))
    app.extensions.pop("search", None)
    monkeypatch.setitem(app.config, "SEARCH_INDEX_DIR", str(tmp_path / "restored-index"))
    with site(target_url):
        done = runner.invoke(args=["data", "restore", str(tmp_path / "bk"), "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["rows"] == summary["rows"]
        after = export_text(city)
        assert {word: found(word) for word in searched} == searched
        # The ids continue after the restored ones: the restored site takes new rows.
        ent = factories.make_enterprise()
        assert ent.id > db_session.scalar(sa.select(sa.func.max(Organization.id)).where(Organization.id != ent.id))
        db_session.remove()
    app.extensions.pop("search", None)

    assert after == before
    for key in backup.FILE_DIRECTORIES:
        assert files_of(restored_dirs[key]) == files_of(dirs[key]) != {}


@pytest.mark.parametrize("damaged", ["tables/demands.jsonl.gz", "files/ATTACHMENT_DIR/ab/licence.pdf"])
def test_a_damaged_backup_is_refused_naming_the_file(demo_site, dirs, target_url, tmp_path, damaged):
    backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    path = tmp_path / "bk" / damaged
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    restored = {key: tmp_path / "restored" / key for key in backup.FILE_DIRECTORIES}
    with site(target_url) as engine, pytest.raises(backup.BackupError, match=damaged):
        backup.restore(engine, tmp_path / "bk", file_dirs=restored)
    with site(target_url) as engine:
        assert not sa.inspect(engine).has_table("organizations")  # nothing was written
    assert not any(p.exists() for p in restored.values())


def test_a_non_empty_database_is_refused(demo_site, dirs, tmp_path):
    engine = get_engine()
    backup.backup(engine, tmp_path / "bk", file_dirs=dirs)
    before = backup.count_rows(engine)
    with pytest.raises(backup.BackupError, match="目标数据库不是空的"):
        backup.restore(engine, tmp_path / "bk", file_dirs={k: tmp_path / "other" / k for k in dirs})
    assert backup.count_rows(engine) == before


def test_a_non_empty_file_directory_is_refused(demo_site, dirs, target_url, tmp_path):
    backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    with site(target_url) as engine, pytest.raises(backup.BackupError, match="不是空的"):
        backup.restore(engine, tmp_path / "bk", file_dirs=dirs)  # the source's own directories


def test_another_schema_revision_is_refused_with_what_to_do(demo_site, dirs, target_url, tmp_path):
    backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    manifest["schema_revision"] = "0001"
    (tmp_path / "bk" / "manifest.json").write_text(json.dumps(manifest))
    with site(target_url) as engine, pytest.raises(backup.BackupError, match="0001.*db upgrade"):
        backup.restore(engine, tmp_path / "bk", file_dirs={k: tmp_path / "r" / k for k in dirs})


def test_an_interrupted_backup_is_refused_and_an_existing_one_never_overwritten(demo_site, dirs, tmp_path):
    backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    with pytest.raises(backup.BackupError, match="已存在且不为空"):
        backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    (tmp_path / "bk" / "manifest.json").unlink()
    with pytest.raises(backup.BackupError, match="缺少 manifest.json"):
        backup.restore(get_engine(), tmp_path / "bk", file_dirs=dirs)


def test_values_keep_their_exact_types(demo_site, dirs, tmp_path):
    backup.backup(get_engine(), tmp_path / "bk", file_dirs=dirs)
    with gzip.open(tmp_path / "bk" / "tables" / "demands.jsonl.gz", "rt", encoding="utf-8") as fh:
        row = json.loads(fh.readline())
    assert isinstance(row["amount"], str) and "." in row["amount"]  # Decimal as its exact digits
    assert "T" in row["created_at"]
    assert isinstance(row["financing_types"], list)
