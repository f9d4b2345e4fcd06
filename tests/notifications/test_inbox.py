"""Notifications: written with the change that causes them, counted in the navigation, read in the inbox."""
import pytest
import sqlalchemy as sa

from matchmaker.notifications.services import mark_all_read, notify, recipients, unread_count
from models import Notification, db_session, get_engine
from tests import factories


def test_notify_an_organisation_reaches_its_active_users(world):
    colleague = factories.make_user(world.bank.org, role="member")
    factories.make_user(world.bank.org, is_active=False)
    notes = notify(world.bank.org, "test", "新的融资需求", "滕州市一家企业发布了需求", "/products/")
    db_session.commit()
    assert {n.user_id for n in notes} == {world.bank.id, colleague.id}
    assert unread_count(world.bank) == 1 and unread_count(colleague) == 1
    assert unread_count(world.other_bank) == 0


def test_recipients_mix_users_and_organisations_without_duplicates(world):
    users = recipients([world.bank, world.bank.org, world.fund])
    assert [u.id for u in users] == [world.bank.id, world.fund.id]


def test_notification_commits_with_the_change_and_rolls_back_with_it(world):
    notify(world.enterprise, "test", "会被撤销")
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    notify(world.enterprise, "test", "会保存")
    db_session.commit()
    assert db_session.scalar(sa.select(Notification.title)) == "会保存"


def test_unread_count_in_the_navigation_with_one_count_query(world, login_as, app):
    for i in range(3):
        notify(world.enterprise, "test", f"消息{i}")
    db_session.commit()
    client = login_as(world.enterprise)
    statements = []

    def spy(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(get_engine(), "before_cursor_execute", spy)
    try:
        resp = client.get("/")
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", spy)
    assert 'id="nav-count-inbox"' in resp.text and "3 条未读" in resp.text
    touching = [s for s in statements if "notifications" in s]
    assert len(touching) == 1 and "count(" in touching[0].lower()


def test_inbox_marks_read_one_and_all(world, login_as):
    first, = notify(world.bank, "test", "第一条", link="/products/")
    notify(world.bank, "test", "第二条")
    notify(world.bank, "test", "第三条")
    db_session.commit()
    client = login_as(world.bank)
    page = client.get("/inbox").text
    assert "第一条" in page and "第三条" in page and "全部标为已读" in page
    resp = client.post(f"/inbox/{first.id}/read", data={"open": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/products/")
    assert unread_count(world.bank) == 2
    assert "第一条" not in client.get("/inbox?unread=1").text
    client.post("/inbox/read-all")
    assert unread_count(world.bank) == 0
    assert 'id="nav-count-inbox"' not in client.get("/inbox").text


def test_nobody_reads_another_users_notification(world, login_as):
    note, = notify(world.bank, "test", "银行的消息")
    db_session.commit()
    other = login_as(world.other_bank)
    assert other.post(f"/inbox/{note.id}/read").status_code == 404
    assert "银行的消息" not in other.get("/inbox").text
    assert mark_all_read(world.other_bank) == 0
    assert unread_count(world.bank) == 1


def test_inbox_needs_a_login(client, world):
    assert client.get("/inbox").status_code == 302


@pytest.mark.parametrize("role", ["enterprise", "city_bureau", "fund"])
def test_every_role_has_an_inbox(world, login_as, role):
    assert login_as(getattr(world, role)).get("/inbox").status_code == 200


def test_users_set_their_own_notification_address(world, login_as):
    client = login_as(world.enterprise)
    resp = client.post("/inbox", data={"email": "not-an-address"})
    assert "请输入有效的邮箱地址" in resp.text and 'value="not-an-address"' in resp.text
    assert client.post("/inbox", data={"email": "cfo@example.com"}).status_code == 302
    db_session.refresh(world.enterprise)
    assert world.enterprise.email == "cfo@example.com"
    client.post("/inbox", data={"email": ""})
    db_session.refresh(world.enterprise)
    assert world.enterprise.email is None
