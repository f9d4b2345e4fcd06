"""Migrations from empty, the demo world, and the commands a fresh machine runs."""
import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base, Organization, OrgKind, OrgStatus, User, db_session, get_engine
from models.organizations import valid_uscc


def test_migrations_match_the_models(app):
    # The session fixture built the schema from the migrations alone; any drift shows here.
    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_seed_demo_builds_the_city_and_is_idempotent(app, city):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["created"] is True and out["logins"]["市工信局"] == "city"

    count = lambda kind: db_session.scalar(  # noqa: E731
        sa.select(sa.func.count(Organization.id)).where(Organization.kind == kind))
    assert 280 <= count(OrgKind.ENTERPRISE) <= 320
    assert count(OrgKind.BANK) >= 20 and count(OrgKind.FUND) == 6 and count(OrgKind.GUARANTOR) == 4
    assert count(OrgKind.BUREAU) == 1 + len(city.districts)
    enterprises = db_session.scalars(sa.select(Organization).where(Organization.kind == OrgKind.ENTERPRISE)).all()
    assert {e.district for e in enterprises} == set(city.districts)
    assert {e.industry for e in enterprises} == set(city.clusters)
    assert all(valid_uscc(e.uscc) for e in enterprises)
    assert any(e.status == OrgStatus.PENDING for e in enterprises)
    banks = db_session.scalars(sa.select(Organization).where(Organization.kind == OrgKind.BANK)).all()
    assert any(b.parent_id for b in banks)

    before = db_session.scalar(sa.select(sa.func.count(User.id)))
    again = runner.invoke(args=["seed-demo", "--json"], catch_exceptions=False)
    assert json.loads(again.stdout)["created"] is False
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == before


def test_demo_logins_reach_their_homes(app, client):
    app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "20"], catch_exceptions=False)
    for username, text in [("city", "审核注册申请"), ("bureau-tengzhou", "审核注册申请"), ("bank", "浏览融资需求项目库"),
                           ("fund", "股权投资意向"), ("guarantor", "担保产品"), ("enterprise", "发布技改项目融资需求")]:
        c = app.test_client()
        resp = c.post("/login", data={"username": username, "password": "demo2026"}, follow_redirects=True)
        assert text in resp.text, username
