"""Registration, review by the right bureau, sign-in, lock-out, rate limit, CSRF, members."""
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker import create_app
from models import AuditEntry, Organization, OrgStatus, User, db_session
from tests import factories


def registration(**overrides):
    data = {
        "kind": "enterprise", "org_name": "滕州华鑫智能装备有限公司", "uscc": factories.valid_uscc(),
        "district": "滕州市", "industry": "高端装备", "size": "small", "founded": "2012", "revenue": "8600",
        "employees": "240", "rd_ratio": "3.4", "tags": ["专精特新"], "contact_name": "王经理",
        "contact_phone": "13912345678", "name": "王强", "username": "huaxin", "password": "secret123",
        "confirm": "secret123",
    }
    data.update(overrides)
    return data


def test_registration_review_and_login_journey(client, world, login_as):
    resp = client.post("/register", data=registration(), follow_redirects=True)
    assert "等待" in resp.text and "滕州市工信局审核" in resp.text
    org = db_session.scalar(sa.select(Organization).where(Organization.name == "滕州华鑫智能装备有限公司"))
    assert org.status == OrgStatus.PENDING
    assert org.rd_ratio == Decimal("0.034")

    # While pending the applicant sees the state but cannot use role pages.
    assert "审核" in client.get("/").text

    # The other district's bureau cannot even see it; the right one approves it.
    other = login_as(world.other_district_bureau)
    assert other.get(f"/bureau/organizations/{org.ref}").status_code == 404
    assert "滕州华鑫" not in other.get("/bureau/reviews").text
    assert other.post(f"/bureau/organizations/{org.ref}", data={"decision": "approve"}).status_code == 404

    bureau = login_as(world.district_bureau)
    assert "滕州华鑫" in bureau.get("/bureau/reviews").text
    resp = bureau.post(f"/bureau/organizations/{org.ref}", data={"decision": "approve"}, follow_redirects=True)
    assert "已通过" in resp.text
    db_session.expire_all()
    assert org.status == OrgStatus.APPROVED
    assert db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "organization.approved")).user_id == world.district_bureau.id

    # A fresh login now reaches the enterprise home.
    fresh = client.application.test_client()
    resp = fresh.post("/login", data={"username": "huaxin", "password": "secret123"}, follow_redirects=True)
    assert "发布技改项目融资需求" in resp.text


def test_reject_needs_a_reason_and_the_applicant_sees_it(client, world, login_as):
    client.post("/register", data=registration())
    org = db_session.scalar(sa.select(Organization).where(Organization.status == OrgStatus.PENDING))
    bureau = login_as(world.city_bureau)
    resp = bureau.post(f"/bureau/organizations/{org.ref}", data={"decision": "reject", "note": ""})
    assert "须填写理由" in resp.text
    bureau.post(f"/bureau/organizations/{org.ref}", data={"decision": "reject", "note": "营业执照信息不一致"})
    assert "营业执照信息不一致" in client.get("/").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("uscc", "91370481000000001A", "校验位不正确"),
        ("uscc", "9137048100000001N", "应为18位"),
        ("uscc", "91370481000000001n", "须大写"),
        ("uscc", "91370481I00000001N", "不允许的字符"),
        ("uscc", "", "须填写统一社会信用代码"),
        ("district", "", "须选择所在区"),
        ("password", "short1", "至少8位"),
        ("confirm", "different1", "不一致"),
        ("contact_phone", "abc", "有效的电话"),
        ("username", "中文名", "只能包含"),
        ("rd_ratio", "150", "0至100"),
    ],
)
def test_bad_registration_input_is_named_at_the_field_and_kept(client, ctx, field, value, message):
    resp = client.post("/register", data=registration(**{field: value}))
    assert resp.status_code == 200
    errors = dict(re.findall(r'data-field="(\w+)">([^<]+)<', resp.text))
    assert message in errors.get(field, ""), errors
    # What the user typed is still in the form.
    assert "滕州华鑫智能装备有限公司" in resp.text
    assert db_session.scalar(sa.select(sa.func.count(Organization.id))) == 0


def test_duplicate_credit_code_and_username_refused(client, ctx):
    ent = factories.make_enterprise()
    factories.make_user(ent, username="taken")
    resp = client.post("/register", data=registration(uscc=ent.uscc, username="Taken"))
    assert "已注册" in resp.text and "已被使用" in resp.text


def test_institution_registration_goes_to_the_city_bureau(client, world, login_as):
    client.post("/register", data=registration(kind="bank", org_name="测试村镇银行", uscc="", district="",
                                               industry="", size="", username="cunzhen"))
    org = db_session.scalar(sa.select(Organization).where(Organization.name == "测试村镇银行"))
    assert org.status == OrgStatus.PENDING and org.uscc is None
    assert "测试村镇银行" not in login_as(world.district_bureau).get("/bureau/reviews").text
    assert "测试村镇银行" in login_as(world.city_bureau).get("/bureau/reviews").text


def test_login_locks_after_repeated_wrong_passwords(client, ctx, city):
    user = factories.make_user(factories.make_enterprise(), username="alice")
    limit = city.security["login_max_failures"]
    for i in range(limit - 1):
        resp = client.post("/login", data={"username": "alice", "password": "wrong"})
        assert f"再输错{limit - 1 - i}次" in resp.text
    resp = client.post("/login", data={"username": "alice", "password": "wrong"})
    assert "已被锁定" in resp.text
    # Even the right password is refused while locked, with the same clear message.
    resp = client.post("/login", data={"username": "alice", "password": factories.PASSWORD})
    assert "已被锁定" in resp.text and "/login" in resp.request.path
    db_session.expire_all()
    assert user.locked_until is not None


def test_unknown_user_and_wrong_password_look_the_same(client, ctx):
    factories.make_user(factories.make_enterprise(), username="bob")
    a = client.post("/login", data={"username": "nobody", "password": "x"})
    assert "用户名或密码错误" in a.text


def test_login_rate_limit_per_address(database_url, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    c = app.test_client()
    codes = [c.post("/login", data={"username": f"u{i}", "password": "x"}).status_code for i in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429
    assert "过于频繁" in c.post("/login", data={"username": "u", "password": "x"}).text


def test_post_without_csrf_token_is_refused(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "RATELIMIT_ENABLED": False})
    c = app.test_client()
    resp = c.post("/login", data={"username": "a", "password": "b"})
    assert resp.status_code == 400 and "表单已失效" in resp.text
    # With the token from the page the same form is processed.
    page = c.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = c.post("/login", data={"username": "a", "password": "b", "csrf_token": token})
    assert resp.status_code == 200 and "用户名或密码错误" in resp.text


def test_password_change_logs_out_other_sessions(ctx, login_as):
    user = factories.make_user(factories.make_enterprise())
    other_device = login_as(user)
    this_device = login_as(user)
    resp = this_device.post("/password", data={"old": factories.PASSWORD, "new": "newpass123", "confirm": "newpass123"},
                            follow_redirects=True)
    assert "密码已修改" in resp.text
    assert this_device.get("/account/").status_code == 200
    assert other_device.get("/account/").status_code == 302


def test_admin_manages_members_and_a_member_cannot(ctx, login_as):
    org = factories.make_enterprise()
    admin = factories.make_user(org)
    member = factories.make_user(org, role="member")
    c = login_as(admin)
    resp = c.post("/account/members/new", data={"name": "李四", "username": "lisi", "role": "member",
                                                "password": "abcd1234"}, follow_redirects=True)
    assert "已添加成员" in resp.text
    c.post(f"/account/members/{member.ref}", data={"action": "disable"})
    db_session.expire_all()
    assert member.is_active is False
    # The admin cannot lock themself out.
    resp = c.post(f"/account/members/{admin.ref}", data={"action": "disable"}, follow_redirects=True)
    assert "不能停用自己" in resp.text
    plain = login_as(factories.make_user(org, role="member"))
    assert plain.get("/account/members/new").status_code == 403


def test_admin_cannot_touch_another_organisations_member(ctx, login_as):
    admin = factories.make_user(factories.make_enterprise())
    stranger = factories.make_user(factories.make_enterprise())
    resp = login_as(admin).post(f"/account/members/{stranger.ref}", data={"action": "disable"})
    assert resp.status_code == 404
    db_session.expire_all()
    assert db_session.get(User, stranger.id).is_active


def test_city_bureau_creates_a_bank_branch(world, login_as):
    c = login_as(world.city_bureau)
    resp = c.post("/bureau/institutions/new", data={
        "kind": "bank", "org_name": "工商银行滕州支行", "district": "滕州市", "parent_ref": world.bank.org.ref,
        "contact_name": "刘行长", "contact_phone": "0632-5555555", "name": "刘伟", "username": "icbc-tz",
        "password": "bank12345",
    }, follow_redirects=True)
    assert "已创建机构" in resp.text
    branch = db_session.scalar(sa.select(Organization).where(Organization.name == "工商银行滕州支行"))
    assert branch.parent_id == world.bank.org.id and branch.status == OrgStatus.APPROVED
    assert login_as(world.district_bureau).get("/bureau/institutions/new").status_code == 403
