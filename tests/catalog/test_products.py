"""Publishing and managing products: permissions per role, bad input at the field, audit, status."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import AuditEntry, Product, ProductStatus, UserRole, db_session
from tests import factories

GOOD = {
    "kind": "loan", "name": "技改贷", "description": "支持企业设备更新和智能化改造",
    "amount_min": "100", "amount_max": "5000", "term_min": "6", "term_max": "60",
    "rate_min": "3.2", "rate_max": "5.5", "collateral": ["none", "equipment"], "districts": ["滕州市"],
    "sizes": ["small", "micro"], "purposes": ["smart_upgrade", "equipment"], "tags": "信用贷 技改贷",
    "approval_days": "7",
}


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the checkbox `name`=`value` is rendered checked."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    raise AssertionError(f"no checkbox {name}={value}")


def post_new(client, **changes):
    data = {**GOOD, **changes}
    return client.post("/my-products/new", data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("role", ["bank", "guarantor", "fund"])
def test_institutions_publish_products(world, login_as, role):
    user = getattr(world, role)
    kind = {"bank": "loan", "guarantor": "guarantee", "fund": "equity"}[role]
    changes = {"kind": kind}
    if kind == "equity":
        changes.update(rate_min="", rate_max="", stage="growth", name="股权直投（成长期）")
    resp = post_new(login_as(user), **changes)
    assert resp.status_code == 302, resp.text
    product = db_session.scalar(sa.select(Product).where(Product.org_id == user.org_id))
    assert product.kind.value == kind and product.status == ProductStatus.ACTIVE
    assert product.amount_min == Decimal(100) and product.tags == ["信用贷", "技改贷"]
    assert product.collateral == ["none", "equipment"] and product.districts == ["滕州市"]
    if kind == "equity":
        assert product.rate_min == 0 and product.rate_max == 0 and product.stage.value == "growth"
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.object_ref == product.ref))
    assert entry.action == "product.created" and entry.user_id == user.id


@pytest.mark.parametrize("role", ["enterprise", "district_bureau", "city_bureau"])
def test_others_may_not_create_products(world, login_as, role):
    client = login_as(getattr(world, role))
    assert client.get("/my-products/new").status_code == 403
    assert post_new(client).status_code == 403
    assert client.get("/my-products").status_code == 403
    assert db_session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_anonymous_is_sent_to_login_for_managing(client, world):
    resp = client.get("/my-products/new")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_bank_may_not_publish_equity(world, login_as):
    resp = post_new(login_as(world.bank), kind="equity")
    assert resp.status_code == 200
    assert db_session.scalar(sa.select(sa.func.count(Product.id))) == 0


@pytest.mark.parametrize("changes, field, message", [
    ({"amount_min": "6000"}, "amount_max", "最高金额不能小于最低金额"),
    ({"amount_min": "0"}, "amount_min", "金额须大于0"),
    ({"amount_min": "一百"}, "amount_min", "请输入数字"),
    ({"amount_max": ""}, "amount_max", "请填写最高金额"),
    ({"term_min": "0"}, "term_min", "期限应在1至360个月之间"),
    ({"term_max": "361"}, "term_max", "期限应在1至360个月之间"),
    ({"term_min": "36", "term_max": "12"}, "term_max", "最长期限不能小于最短期限"),
    ({"term_min": "6.5"}, "term_min", "请输入整数"),
    ({"rate_min": "-1"}, "rate_min", "年化利率应在0%至36%之间"),
    ({"rate_max": "36.5"}, "rate_max", "年化利率应在0%至36%之间"),
    ({"rate_min": "6", "rate_max": "4"}, "rate_max", "最高利率不能小于最低利率"),
    ({"rate_min": ""}, "rate_min", "请填写年化利率（%）"),
    ({"name": "   "}, "name", "请填写产品名称"),
    ({"name": "贷" * 101}, "name", "产品名称不能超过100个字"),
    ({"description": "长" * 2001}, "description", "产品介绍不能超过2000个字"),
    ({"tags": " ".join(f"标签{i}" for i in range(11))}, "tags", "标签最多10个"),
])
def test_bad_input_is_reported_at_the_field_and_nothing_typed_is_lost(world, login_as, changes, field, message):
    resp = post_new(login_as(world.bank), **changes)
    assert resp.status_code == 200
    assert f'data-field="{field}">{message}' in resp.text
    # What was typed comes back in the form.
    assert 'value="技改贷"' in resp.text or field == "name"
    assert "支持企业设备更新和智能化改造" in resp.text or field == "description"
    for key, value in changes.items():
        if value.strip() and key != "description":
            assert value in resp.text
    assert is_checked(resp.text, "collateral", "equipment") and is_checked(resp.text, "districts", "滕州市")
    assert not is_checked(resp.text, "collateral", "property")
    assert db_session.scalar(sa.select(sa.func.count(Product.id))) == 0


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.MEMBER])
def test_admins_and_members_edit_their_institutions_products(world, login_as, role):
    colleague = factories.make_user(world.bank.org, role=role)
    product = factories.make_product(world.bank.org, name="旧名称")
    client = login_as(colleague)
    assert client.get(f"/my-products/{product.ref}/edit").status_code == 200
    resp = client.post(f"/my-products/{product.ref}/edit", data={**GOOD, "name": "新名称", "rate_max": "6.1"})
    assert resp.status_code == 302
    db_session.refresh(product)
    assert product.name == "新名称" and product.rate_max == Decimal("6.1")
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "product.updated"))
    assert entry.user_id == colleague.id and entry.details["changed"]["name"] == "新名称"


@pytest.mark.parametrize("role", ["other_bank", "fund", "guarantor"])
def test_other_institutions_get_404_on_edit(world, login_as, role):
    product = factories.make_product(world.bank.org)
    client = login_as(getattr(world, role))
    assert client.get(f"/my-products/{product.ref}/edit").status_code == 404
    assert client.post(f"/my-products/{product.ref}/edit", data=GOOD).status_code == 404
    assert client.post(f"/my-products/{product.ref}/status", data={"action": "pause"}).status_code == 404
    db_session.refresh(product)
    assert product.status == ProductStatus.ACTIVE


@pytest.mark.parametrize("role, code", [("enterprise", 403), ("city_bureau", 403)])
def test_non_institutions_get_403_on_edit(world, login_as, role, code):
    product = factories.make_product(world.bank.org)
    assert login_as(getattr(world, role)).get(f"/my-products/{product.ref}/edit").status_code == code


def test_pause_resume_retire_are_audited_and_retired_is_final(world, login_as, client):
    product = factories.make_product(world.bank.org, name="设备按揭贷")
    owner = login_as(world.bank)
    assert owner.post(f"/my-products/{product.ref}/status", data={"action": "pause"}).status_code == 302
    db_session.refresh(product)
    assert product.status == ProductStatus.PAUSED
    # A paused product leaves the supermarket and its public page.
    assert "设备按揭贷" not in client.get("/products/").text
    assert client.get(f"/products/{product.ref}").status_code == 404
    assert login_as(world.enterprise).get(f"/products/{product.ref}").status_code == 404
    # Its owner and the bureau still see it.
    assert owner.get(f"/products/{product.ref}").status_code == 200
    assert login_as(world.city_bureau).get(f"/products/{product.ref}").status_code == 200

    owner.post(f"/my-products/{product.ref}/status", data={"action": "resume"})
    db_session.refresh(product)
    assert product.status == ProductStatus.ACTIVE
    owner.post(f"/my-products/{product.ref}/status", data={"action": "retire"})
    db_session.refresh(product)
    assert product.status == ProductStatus.RETIRED
    resp = owner.post(f"/my-products/{product.ref}/status", data={"action": "resume"}, follow_redirects=True)
    assert "不能执行该操作" in resp.text
    db_session.refresh(product)
    assert product.status == ProductStatus.RETIRED
    actions = db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_ref == product.ref)
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["product.paused", "product.active", "product.retired"]


def test_my_products_lists_only_my_institution(world, login_as):
    factories.make_product(world.bank.org, name="本行产品")
    factories.make_product(world.other_bank.org, name="他行产品")
    text = login_as(world.bank).get("/my-products").text
    assert "本行产品" in text and "他行产品" not in text


def test_product_page_shows_the_branch_and_its_parent(ctx, client):
    from models import OrgKind

    head = factories.make_org(OrgKind.BANK, name="工商银行枣庄分行", district="市中区")
    branch = factories.make_org(OrgKind.BANK, name="工商银行滕州支行", district="滕州市", parent=head)
    product = factories.make_product(branch, name="科技履约贷")
    text = client.get(f"/products/{product.ref}").text
    assert "科技履约贷" in text and "工商银行滕州支行" in text and "上级机构：工商银行枣庄分行" in text
    assert "暂无记录" in text


def test_equity_products_carry_no_rate(world, login_as):
    resp = post_new(login_as(world.fund), kind="equity", rate_min="3", rate_max="5")
    assert 'data-field="rate_min">股权投资产品不设利率' in resp.text
    assert db_session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_stage_belongs_to_equity_only(world, login_as):
    resp = post_new(login_as(world.bank), stage="growth")
    assert 'data-field="stage">只有股权投资产品填写投资阶段' in resp.text


def test_a_retired_product_is_not_edited(world, login_as):
    product = factories.make_product(world.bank.org, name="旧产品", status=ProductStatus.RETIRED)
    resp = login_as(world.bank).post(f"/my-products/{product.ref}/edit", data={**GOOD, "name": "改名"})
    assert resp.status_code == 200 and "已下架的产品不能再修改" in resp.text
    db_session.refresh(product)
    assert product.name == "旧产品"


def test_edit_form_shows_the_saved_values(world, login_as):
    product = factories.make_product(world.bank.org, name="绿色转型贷", tags=["绿色贷", "技改贷"],
                                     districts=["滕州市"], amount_max=Decimal("2500.5"))
    text = login_as(world.bank).get(f"/my-products/{product.ref}/edit").text
    assert 'value="绿色转型贷"' in text and 'value="绿色贷 技改贷"' in text and 'value="2500.50"' in text
    assert is_checked(text, "districts", "滕州市") and not is_checked(text, "districts", "山亭区")
