"""The bureau's audit log page: filters, the district scope, pages, the Excel export, and the append-only guard."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models import AuditEntry, AuditLogIsAppendOnly, db_session, record
from tests import factories


def entry(actor, action, obj, at: datetime | None = None, **details) -> AuditEntry:
    e = record(actor, action, obj, **details)
    if at is not None:
        e.at = at
    db_session.commit()
    return e


def rows(client, **args) -> list[str]:
    """The action and object ref of each listed row, as the page shows them."""
    r = client.get("/audit/", query_string=args)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    return [chunk.split("</tr>")[0] for chunk in html.split('<tr class="audit-row">')[1:]]


def refs(client, **args) -> list[str]:
    out = []
    for row in rows(client, **args):
        action = row.split("<code>")[1].split("</code>")[0]
        ref = row.split("object_ref=")[1].split('">')[1].split("</a>")[0]
        out.append(f"{action} {ref}")
    return out


@pytest.fixture
def log(world):
    """Entries about a 滕州市 demand, a 薛城区 demand, a 滕州市 project, and the 薛城区 bureau's own act."""
    tz = factories.make_demand(world.enterprise.org, ref="dm-tz", status="submitted")
    xc = factories.make_demand(world.enterprise_b.org, ref="dm-xc", status="submitted")
    project = factories.make_project(world.enterprise.org, ref="tp-tz")
    entry(world.enterprise, "demand.created", tz, at=datetime(2026, 3, 1, 2, 0))
    entry(world.enterprise_b, "demand.created", xc, at=datetime(2026, 3, 2, 2, 0))
    entry(world.district_bureau, "demand.publish", tz, at=datetime(2026, 3, 5, 2, 0))
    entry(world.enterprise, "tech_project.created", project, at=datetime(2026, 3, 10, 2, 0))
    # The 薛城区 bureau looks at a 滕州市 organisation: its own staff's act, so in its log too.
    entry(world.other_district_bureau, "organization.viewed", world.enterprise.org, at=datetime(2026, 3, 12, 2, 0))
    return tz, xc, project


def test_the_city_bureau_sees_everything_newest_first(world, log, login_as):
    c = login_as(world.city_bureau)
    assert refs(c) == [f"organization.viewed {world.enterprise.org.ref}", "tech_project.created tp-tz",
                       "demand.publish dm-tz", "demand.created dm-xc", "demand.created dm-tz"]


def test_a_district_bureau_sees_its_district_and_its_own_staff(world, log, login_as):
    tz = refs(login_as(world.district_bureau))
    # The look at the 滕州市 enterprise is about an object of 滕州市, whoever took it.
    assert tz == [f"organization.viewed {world.enterprise.org.ref}", "tech_project.created tp-tz",
                  "demand.publish dm-tz", "demand.created dm-tz"]
    xc = refs(login_as(world.other_district_bureau))
    assert xc == [f"organization.viewed {world.enterprise.org.ref}", "demand.created dm-xc"]
    # Asking for another district's object by its ref finds nothing.
    assert refs(login_as(world.other_district_bureau), object_ref="dm-tz") == []


def test_filters(world, log, login_as):
    c = login_as(world.city_bureau)
    assert refs(c, object_type="tech_project") == ["tech_project.created tp-tz"]
    assert refs(c, object_ref="dm-tz") == ["demand.publish dm-tz", "demand.created dm-tz"]
    assert refs(c, action="demand.created") == ["demand.created dm-xc", "demand.created dm-tz"]
    assert refs(c, action="demand.") == ["demand.publish dm-tz", "demand.created dm-xc", "demand.created dm-tz"]
    assert refs(c, user=world.enterprise.username) == ["tech_project.created tp-tz", "demand.created dm-tz"]
    assert refs(c, user=world.district_bureau.name) == ["demand.publish dm-tz"]
    # Dates are the city's calendar days, both ends included: 2026-03-05 02:00 UTC is 10:00 in 枣庄.
    assert refs(c, date_from="2026-03-02", date_to="2026-03-05") == ["demand.publish dm-tz", "demand.created dm-xc"]
    assert refs(c, date_from="2026-03-06") == [f"organization.viewed {world.enterprise.org.ref}",
                                               "tech_project.created tp-tz"]


def test_bad_filters_are_explained_at_the_field(world, log, login_as):
    c = login_as(world.city_bureau)
    r = c.get("/audit/", query_string={"date_from": "2026-13-45", "date_to": "2026-03-01"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-field="date_from"' in html and "请输入有效日期" in html
    r = c.get("/audit/", query_string={"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert "结束日期不能早于开始日期" in r.get_data(as_text=True)
    r = c.get("/audit/", query_string={"object_type": "<script>"})
    assert r.status_code == 200 and "请选择列表中的对象类型" in r.get_data(as_text=True)


def test_pages_of_fifty(world, login_as):
    demand = factories.make_demand(world.enterprise.org)
    for i in range(55):
        record(world.enterprise, "demand.updated", demand, n=i)
    db_session.commit()
    c = login_as(world.city_bureau)
    assert len(rows(c)) == 50
    second = rows(c, page=2)
    assert len(second) == 5 and "n: 4" in second[0] and "n: 0" in second[-1]
    assert "第 1 / 2 页，共 55 条" in c.get("/audit/").get_data(as_text=True)


def test_only_bureaus_open_the_log(world, log, login_as, client):
    for user in (world.enterprise, world.bank, world.fund):
        c = login_as(user)
        assert c.get("/audit/").status_code == 403 and c.get("/audit/export.xlsx").status_code == 403
    assert client.get("/audit/").status_code == 302
    assert "审计日志" in login_as(world.district_bureau).get("/").get_data(as_text=True)  # in the navigation


def test_the_export_holds_the_filtered_scoped_list(world, log, login_as):
    demand, _xc, _project = log
    entry(world.enterprise, "attachment.uploaded", demand, filename="=HYPERLINK(\"http://x\")")
    r = login_as(world.district_bureau).get("/audit/export.xlsx", query_string={"object_ref": "dm-tz"})
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    table = list(ws.iter_rows(values_only=True))
    assert table[0] == ("时间", "用户", "用户名", "机构", "操作", "对象类型", "对象编号", "详情")
    assert [(row[4], row[6]) for row in table[1:]] == [
        ("attachment.uploaded", "dm-tz"), ("demand.publish", "dm-tz"), ("demand.created", "dm-tz")]
    assert table[2][1] == world.district_bureau.name and table[2][5] == "融资需求"
    assert table[3][0] == "2026-03-01 10:00:00"  # the city's time
    # Text a user typed stays text in Excel, never a formula.
    cell = ws.cell(row=2, column=8)
    assert cell.data_type == "s" and "=HYPERLINK" in cell.value
    # Out of scope stays out of the file too.
    r = login_as(world.other_district_bureau).get("/audit/export.xlsx", query_string={"object_ref": "dm-tz"})
    assert len(list(load_workbook(io.BytesIO(r.data)).active.iter_rows())) == 1


# --- append-only ----------------------------------------------------------------------------------


def test_no_route_changes_the_log(app, world, log, login_as):
    methods = {m for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.") for m in rule.methods}
    assert methods <= {"GET", "HEAD", "OPTIONS"}
    c = login_as(world.city_bureau)
    assert c.post("/audit/").status_code == 405 and c.delete("/audit/").status_code == 405


def test_application_code_cannot_change_or_delete_an_entry(world, log):
    first = db_session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).first()
    first_id, action = first.id, first.action

    first.action = "demand.nothing_happened"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.commit()
    db_session.rollback()

    db_session.delete(db_session.get(AuditEntry, first_id))
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.commit()
    db_session.rollback()

    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(sa.update(AuditEntry).values(action="x"))
    db_session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(sa.delete(AuditEntry).where(AuditEntry.id == first_id))
    db_session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(AuditEntry.__table__.delete())
    db_session.rollback()

    db_session.expire_all()
    assert db_session.get(AuditEntry, first_id).action == action
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 5
    # Adding goes on as before.
    record(world.city_bureau, "audit.checked", world.city_bureau.org)
    db_session.commit()
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 6
