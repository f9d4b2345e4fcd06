"""Notices: audience rules, publishing and notifying, attachment checks and authorised downloads."""
from __future__ import annotations

import io
import zipfile

import pytest

from matchmaker.notices import services
from models import Notice, NoticeAttachment, Notification, OrgKind, db_session
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        # The shared content check reads the main part's type from the manifest, as Word writes it.
        z.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.fixture
def files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_FILES_DIR", str(tmp_path / "notice-files"))
    return tmp_path / "notice-files"


def publish(actor, kinds=(), districts=(), uploads=(), title="关于举办银企对接会的通知", kind="event_notice"):
    return services.publish(actor, kind=kind, title=title, body="定于12月10日举办。", audience_kinds=list(kinds),
                            audience_districts=list(districts), uploads=list(uploads))


def refs(user) -> set[str]:
    return {n.ref for n in db_session.scalars(services.visible_query(user))}


def test_audience_by_kind_and_district(world, files):
    public = publish(world.city_bureau)
    banks = publish(world.city_bureau, kinds=["bank"])
    tengzhou = publish(world.city_bureau, districts=["滕州市"])
    tz_enterprises = publish(world.city_bureau, kinds=["enterprise"], districts=["滕州市"])
    own = publish(world.other_district_bureau)  # a district bureau's notice is held to its district
    assert own.audience_districts == ["薛城区"]

    assert refs(world.enterprise) == {public.ref, tengzhou.ref, tz_enterprises.ref}
    assert refs(world.enterprise_b) == {public.ref, own.ref}
    assert refs(world.bank) == {public.ref, banks.ref}
    assert refs(world.other_bank) == {public.ref, banks.ref, tengzhou.ref}  # a 滕州市 bank
    # A fund without a district serves the whole city: it belongs to every district's audience.
    assert refs(world.fund) == {public.ref, tengzhou.ref, own.ref}
    assert refs(world.city_bureau) == {public.ref, banks.ref, tengzhou.ref, tz_enterprises.ref, own.ref}
    assert refs(world.other_district_bureau) == {public.ref, own.ref}


def test_visitors_see_only_public_notices(world, files, client):
    public = publish(world.city_bureau, title="公开的政策")
    hidden = publish(world.city_bureau, kinds=["bank"], title="只给银行")
    home = client.get("/").get_data(as_text=True)
    assert "公开的政策" in home and "只给银行" not in home
    assert client.get(f"/notices/{public.ref}").status_code == 200
    assert client.get(f"/notices/{hidden.ref}").status_code == 404


def test_publishing_notifies_the_audience(world, files):
    notice = publish(world.city_bureau, kinds=["enterprise"], districts=["滕州市"])
    told = {n.user_id for n in db_session.query(Notification).filter_by(kind="notice")}
    assert told == {world.enterprise.id}
    assert db_session.query(Notice).one().ref == notice.ref


def test_the_bureau_publishes_through_the_form_with_files(world, files, login_as):
    c = login_as(world.city_bureau)
    r = c.post("/notices/new", data={
        "kind": "policy", "title": "技改贷款贴息政策", "body": "贴息比例50%。", "audience_kinds": ["enterprise"],
        "files": [(io.BytesIO(PDF), "政策原文.pdf"), (io.BytesIO(docx()), "申报表.docx")],
    }, content_type="multipart/form-data")
    assert r.status_code == 302
    notice = db_session.query(Notice).one()
    atts = notice.attachments
    assert [(a.filename, a.content_type) for a in atts] == [
        ("政策原文.pdf", "application/pdf"),
        ("申报表.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
    assert all((files / a.stored_name).exists() for a in atts)
    url = f"/notices/{notice.ref}/files/{atts[0].id}"
    got = login_as(world.enterprise).get(url)
    assert got.status_code == 200 and got.data == PDF
    assert "attachment" in got.headers["Content-Disposition"]
    got.close()
    # Outside the audience the file is not there at all.
    assert login_as(world.bank).get(url).status_code == 404
    assert c.get(url.replace(str(atts[0].id), str(atts[0].id + 100))).status_code == 404


@pytest.mark.parametrize(("name", "data", "message"), [
    ("假的.pdf", b"MZ\x90\x00 an executable", "不是允许的类型"),
    ("网页.pdf", b"<html><script>alert(1)</script></html>", "不是允许的类型"),
    ("空.pdf", b"", "空文件"),
    ("压缩包.docx", b"PK\x03\x04 not really a zip", "不是允许的类型"),
])
def test_bad_attachments_are_refused_and_nothing_is_saved(world, files, login_as, name, data, message):
    r = login_as(world.city_bureau).post("/notices/new", data={
        "kind": "policy", "title": "标题", "body": "正文", "files": [(io.BytesIO(data), name)],
    }, content_type="multipart/form-data")
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    assert 'data-field="files"' in r.get_data(as_text=True)
    assert 'value="标题"' in r.get_data(as_text=True)  # nothing typed is lost
    assert db_session.query(Notice).count() == 0 and db_session.query(NoticeAttachment).count() == 0
    assert not files.exists() or not any(files.iterdir())


def test_a_file_over_the_limit_is_refused(ctx):
    with pytest.raises(services.NoticeError, match="超过"):
        services.check_upload(services.Upload("大.pdf", b"%PDF-" + b"0" * services.MAX_FILE_BYTES))
    assert services.check_upload(services.Upload("小.pdf", PDF)) == "application/pdf"


@pytest.mark.parametrize("kind", [OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND])
def test_only_bureaus_publish(ctx, login_as, kind):
    c = login_as(factories.make_user(factories.make_org(kind)))
    assert c.get("/notices/new").status_code == 403
    assert c.post("/notices/new", data={"kind": "policy", "title": "x", "body": "y"}).status_code == 403


def test_missing_fields_are_shown_next_to_them(world, files, login_as):
    r = login_as(world.city_bureau).post("/notices/new", data={"kind": "", "title": "", "body": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-field="title"' in html and 'data-field="body"' in html


def test_the_list_and_the_public_home_page(world, files, client, login_as):
    publish(world.city_bureau, title="产品推介：首贷通", kind="product_promotion")
    html = client.get("/notices/").get_data(as_text=True)
    assert "产品推介：首贷通" in html
    assert "产品推介：首贷通" in client.get("/notices/?kind=product_promotion").get_data(as_text=True)
    assert "产品推介：首贷通" not in client.get("/notices/?kind=policy").get_data(as_text=True)
    home = login_as(world.enterprise).get("/").get_data(as_text=True)
    assert "产品推介：首贷通" in home


def test_headline_figures_on_the_public_home_page(ctx, client):
    e = factories.make_enterprise()
    factories.make_demand(e, status="published", amount=1200)
    factories.make_demand(e, status="draft", amount=999)
    html = client.get("/").get_data(as_text=True)
    assert 'id="fig-demands">1<' in html and 'id="fig-amount">1,200<' in html and 'id="fig-enterprises">1<' in html
    assert 'id="fig-events">0<' in html
