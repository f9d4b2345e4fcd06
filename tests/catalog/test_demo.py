"""The demo world's products: every institution has some, they keep the product rules, same seed same shelf."""
import sqlalchemy as sa

from matchmaker.catalog.services import product_problems
from models import Organization, OrgKind, Product, db_session


def shelf():
    return db_session.execute(
        sa.select(Product.ref, Product.name, Product.amount_max, Product.status).order_by(Product.ref)).all()


def test_every_demo_institution_publishes_valid_products(app, city):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--enterprises", "10"], catch_exceptions=False).exit_code == 0
    institutions = db_session.scalars(sa.select(Organization).where(
        Organization.kind.in_([OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR]))).all()
    products = db_session.scalars(sa.select(Product)).all()
    assert {p.org_id for p in products} == {o.id for o in institutions}
    names = {p.name for p in products}
    assert {"技改贷", "专精特新信用贷", "股权直投（成长期）", "中小企业融资担保"} <= names
    for p in products:
        values = {k: getattr(p, k) for k in ("name", "description", "amount_min", "amount_max", "term_min",
                                             "term_max", "rate_min", "rate_max", "collateral", "industries",
                                             "districts", "sizes", "purposes", "tags", "approval_days")}
        values.update(kind=p.kind.value, stage=p.stage.value if p.stage else None)
        assert product_problems(values, p.org.kind, city) == {}, p.ref
    # Branches serve their own district.
    branch_products = [p for p in products if p.org.parent_id]
    assert branch_products and all(p.districts == [p.org.district] for p in branch_products)

    first = shelf()
    assert runner.invoke(args=["seed-demo"], catch_exceptions=False).exit_code == 0
    assert shelf() == first  # idempotent

    from tests.conftest import _clear_tables

    _clear_tables()
    runner.invoke(args=["seed-demo", "--enterprises", "10"], catch_exceptions=False)
    assert shelf() == first  # deterministic for a seed


def test_demo_supermarket_answers_filters(app, client):
    app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "10"], catch_exceptions=False)
    resp = client.get("/products/", query_string={"kind": "equity"})
    assert "股权" in resp.text and "共 0 个产品" not in resp.text
