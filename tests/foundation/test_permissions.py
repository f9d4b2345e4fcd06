"""Roles and scopes: 403 for the wrong role, 404 outside the scope, pages per role."""
import pytest

from models import OrgStatus
from tests import factories

ROLES = ["enterprise", "bank", "fund", "guarantor", "district_bureau", "city_bureau"]


@pytest.mark.parametrize("role", ["enterprise", "bank", "fund", "guarantor"])
def test_non_bureau_roles_get_403_on_bureau_pages(world, login_as, role):
    c = login_as(getattr(world, role))
    for url in ("/bureau/reviews", "/bureau/organizations", "/bureau/institutions/new"):
        assert c.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/bureau/reviews")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_district_bureau_gets_404_for_another_districts_pending_enterprise(world, login_as):
    pending = factories.make_enterprise(district="薛城区", status=OrgStatus.PENDING)
    assert login_as(world.district_bureau).get(f"/bureau/organizations/{pending.ref}").status_code == 404
    assert login_as(world.other_district_bureau).get(f"/bureau/organizations/{pending.ref}").status_code == 200
    assert login_as(world.city_bureau).get(f"/bureau/organizations/{pending.ref}").status_code == 200


def test_district_bureau_directory_lists_only_its_district(world, login_as):
    text = login_as(world.district_bureau).get("/bureau/organizations").text
    assert world.enterprise.org.name in text
    assert world.enterprise_b.org.name not in text


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_its_own_home(world, login_as, role):
    text = login_as(getattr(world, role)).get("/").text
    expected = {
        "enterprise": "发布技改项目融资需求", "bank": "浏览融资需求项目库", "fund": "股权投资意向",
        "guarantor": "担保产品", "district_bureau": "审核注册申请", "city_bureau": "审核注册申请",
    }[role]
    assert expected in text


def test_pending_organisation_cannot_use_role_pages(ctx, login_as):
    bureau = factories.make_user(factories.make_org("bureau", district="滕州市", status=OrgStatus.PENDING))
    c = login_as(bureau)
    resp = c.get("/bureau/reviews")
    assert resp.status_code == 302


def test_error_pages_are_in_chinese(client, ctx):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "页面不存在" in resp.text


def test_security_headers_on_pages(client, ctx):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in resp.headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
