"""JSON Lines import and export of organisations and users: all or nothing, round trips."""
import io
import json

import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from models import AuditEntry, Organization, User, db_session
from tests import factories

GOOD = [
    {"type": "organization", "ref": "ent-0001", "kind": "enterprise", "name": "滕州华鑫智能装备有限公司",
     "uscc": factories.valid_uscc(900001), "district": "滕州市", "industry": "高端装备", "size": "small",
     "founded": 2011, "revenue": 8600, "employees": 240, "rd_ratio": 0.034, "tags": ["高新技术企业", "专精特新"]},
    {"type": "organization", "ref": "bank-01", "kind": "bank", "name": "工商银行枣庄分行", "district": "市中区"},
    {"type": "organization", "ref": "bank-03", "kind": "bank", "name": "工商银行滕州支行", "district": "滕州市",
     "parent": "bank-01"},
    {"type": "organization", "ref": "bureau-city", "kind": "bureau", "name": "市工信局", "district": None},
    {"type": "user", "ref": "u-0001", "org": "ent-0001", "username": "huaxin", "password": "init1234",
     "role": "admin", "name": "王强"},
]


def lines(objs):
    return [json.dumps(o, ensure_ascii=False) for o in objs]


def test_good_file_imports_everything(ctx, city):
    report = import_lines(lines(GOOD), city=city)
    assert report.ok, report.errors
    assert report.counts == {"organization": 4, "user": 1}
    branch = db_session.scalar(sa.select(Organization).where(Organization.ref == "bank-03"))
    assert branch.parent.ref == "bank-01"
    ent = db_session.scalar(sa.select(Organization).where(Organization.ref == "ent-0001"))
    assert str(ent.rd_ratio) == "0.0340" and ent.tags == ["高新技术企业", "专精特新"]
    user = db_session.scalar(sa.select(User).where(User.username == "huaxin"))
    assert user.password_hash.startswith("scrypt:") and "init1234" not in user.password_hash
    # The audit log records the import of each object.
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action.like("%.imported"))) == 5


def test_one_bad_line_imports_nothing_and_names_the_line(ctx, city):
    bad = [dict(o) for o in GOOD]
    bad[2]["parent"] = "bank-99"                        # line 3: unknown reference
    bad[0]["uscc"] = bad[0]["uscc"][:-1] + ("0" if bad[0]["uscc"][-1] != "0" else "1")  # line 1: check digit
    report = import_lines(lines(bad), city=city)
    assert not report.ok
    assert [(e.line, e.field) for e in report.errors] == [(1, "uscc"), (3, "parent"), (5, "org")]
    assert "校验位" in report.errors[0].message and "bank-99" in report.errors[1].message
    # A line that uses a bad line's ref points at it rather than saying the ref is unknown.
    assert "第1行有误" in report.errors[2].message
    assert db_session.scalar(sa.select(sa.func.count(Organization.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_line_errors(ctx, city):
    cases = [
        ('{"type":"organization"', None, "不是有效的 JSON"),
        ('[1,2]', None, "JSON 对象"),
        ('{"type":"widget","ref":"x"}', "type", "未知的类型"),
        ('{"type":"organization","ref":"o1","kind":"bank","name":"x","colour":"red"}', "colour", "未知字段"),
        ('{"type":"organization","ref":"o2","kind":"shop","name":"x"}', "kind", "无效"),
        ('{"type":"organization","ref":"o3","kind":"bank","name":"x","district":"北京"}', "district", "不是本市"),
        ('{"type":"organization","ref":"o4","kind":"enterprise","name":"x","district":"滕州市"}', "uscc", "须有"),
        ('{"type":"organization","ref":"o5","kind":"bank","name":"x","revenue":"lots"}', "revenue", "应为数字"),
        ('{"type":"user","ref":"u1","org":"nope","username":"a","password":"p","name":"n"}', "org", "不存在"),
    ]
    report = import_lines([c[0] for c in cases], city=city)
    got = [(e.line, e.field) for e in report.errors]
    assert got == [(i, c[1]) for i, c in enumerate(cases, start=1)]
    for e, c in zip(report.errors, cases, strict=True):
        assert c[2] in e.message, (e, c)


def test_duplicate_refs_within_one_file_are_refused(ctx, city):
    report = import_lines(lines([GOOD[1], GOOD[1]]), city=city)
    assert [(e.line, e.field) for e in report.errors] == [(2, "ref")]


def test_export_then_import_gives_the_same_data(ctx, city):
    assert import_lines(lines(GOOD), city=city).ok
    first = io.StringIO()
    export_lines(first, city=city)
    factories.make_user(factories.make_enterprise(), username="extra")  # exported too
    full = io.StringIO()
    export_lines(full, city=city)

    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(full.getvalue().splitlines(), city=city)
    assert report.ok, report.errors
    again = io.StringIO()
    export_lines(again, city=city)
    assert again.getvalue() == full.getvalue()
    assert first.getvalue().splitlines()[0] in again.getvalue()
    # Logins survive: the password hash travelled, not the password.
    user = db_session.scalar(sa.select(User).where(User.username == "huaxin"))
    assert "password_hash" in full.getvalue() and "init1234" not in full.getvalue()
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, "init1234")


def test_cli_import_reports_lines_and_exit_code(app, tmp_path):
    path = tmp_path / "world.jsonl"
    bad = [dict(o) for o in GOOD]
    bad[4]["org"] = "missing"
    path.write_text("\n".join(lines(bad)) + "\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["data", "import", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False and out["errors"][0]["line"] == 5 and out["errors"][0]["field"] == "org"
    assert "第5行" in result.stderr

    path.write_text("\n".join(lines(GOOD)) + "\n", encoding="utf-8")
    result = runner.invoke(args=["data", "import", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True, "imported": {"organization": 4, "user": 1}, "errors": []}
