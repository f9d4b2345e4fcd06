"""The demo world carries projects with progress histories and demands in every state; every page renders."""
import sqlalchemy as sa

from models import Demand, DemandStatus, ProgressUpdate, PushBatch, TechProject, db_session


def login(app, username):
    c = app.test_client()
    resp = c.post("/login", data={"username": username, "password": "demo2026"})
    assert resp.status_code == 302, username
    return c


def test_demo_has_projects_and_demands_in_every_state(app):
    app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "60"], catch_exceptions=False)
    statuses = set(db_session.scalars(sa.select(Demand.status).distinct()))
    assert statuses == set(DemandStatus)
    assert db_session.scalar(sa.select(sa.func.count(TechProject.id)).where(TechProject.is_major.is_(True))) > 0
    open_problems = sa.select(sa.func.count(ProgressUpdate.id)).where(
        ProgressUpdate.problems.is_not(None), ProgressUpdate.is_resolved.is_(False))
    assert db_session.scalar(open_problems) > 0
    # Each demand's history walks to its current state.
    for d in db_session.scalars(sa.select(Demand)):
        assert d.history[0].action == "create" and d.history[-1].to_status == d.status, d.ref
    assert db_session.scalar(sa.select(PushBatch)).is_pushed

    pages = {
        "enterprise": ["/", "/projects/", "/demands/mine"],
        "bank": ["/", "/demands/pool", "/demands/pool?page=2&financing_type=loan", "/demands/inbox"],
        "fund": ["/demands/pool"],
        "city": ["/", "/demands/review", "/projects/ledger", "/projects/ledger?problems=1", "/demands/batches",
                 "/projects/ledger.xlsx"],
        "bureau-tengzhou": ["/demands/review", "/projects/ledger"],
    }
    for username, urls in pages.items():
        c = login(app, username)
        for url in urls:
            assert c.get(url).status_code == 200, (username, url)
    ent = login(app, "enterprise")
    mine = ent.get("/demands/mine").text
    assert "已退回" in mine and "退回理由" in mine
    for d in db_session.scalars(sa.select(Demand).join(Demand.org).where(Demand.org.has(ref="demo-ent-0001"))):
        assert ent.get(f"/demands/{d.ref}").status_code == 200
    for p in db_session.scalars(sa.select(TechProject).where(TechProject.org.has(ref="demo-ent-0001"))):
        assert ent.get(f"/projects/{p.ref}").status_code == 200
    bank = login(app, "bank")
    inbox = bank.get("/demands/inbox").text
    batch = db_session.scalar(sa.select(PushBatch))
    assert batch.title in inbox
    assert bank.get(f"/demands/inbox/{batch.ref}").status_code == 200
    city = login(app, "city")
    assert city.get(f"/demands/batches/{batch.ref}").status_code == 200
