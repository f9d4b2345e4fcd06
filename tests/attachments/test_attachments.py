"""Uploading, storing, listing, downloading and deleting documents of demands, projects and offers, and who may."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from matchmaker.attachments import services
from matchmaker.attachments.content import Upload
from matchmaker.demands import services as demands
from models import Attachment, AuditEntry, db_session
from tests import factories
from tests.attachments import files
from tests.offers import helpers as offers


def post_file(client, owner_type, ref, data, name="营业执照.pdf", kind="business_licence"):
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart({"kind": kind, "file": FileStorage(io.BytesIO(data), name)})
    return client.post(f"/attachments/{owner_type}/{ref}/upload", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def fetch(client, att_or_id):
    """GET a download and close it (a sent file stays open until its response is closed)."""
    r = client.get(f"/attachments/{getattr(att_or_id, 'id', att_or_id)}")
    r.get_data()
    r.close()
    return r


def attach(user, obj, data=None, name="营业执照.pdf", kind="business_licence") -> Attachment:
    return services.upload(user, obj, kind=kind, up=Upload(name, data or files.pdf()))


def audit(action):
    return list(db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def published(world, **kw):
    return factories.make_demand(world.enterprise.org, status="published", **kw)


# --- upload and storage ---------------------------------------------------------------------------


def test_the_enterprise_uploads_a_pdf_to_its_demand_and_sees_it_listed(world, store, login_as, app):
    demand = factories.make_demand(world.enterprise.org)
    c = login_as(world.enterprise)
    data = files.pdf()
    r = post_file(c, "demand", demand.ref, data)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/demands/{demand.ref}#attachments")

    att = db_session.scalars(sa.select(Attachment)).one()
    assert (att.filename, att.kind, att.content_type, att.size) == ("营业执照.pdf", "business_licence",
                                                                     "application/pdf", len(data))
    assert att.sha256 == hashlib.sha256(data).hexdigest() and att.uploaded_by_id == world.enterprise.id
    # Stored under a generated name in sharded folders of ATTACHMENT_DIR, never under the web root.
    path = services.file_path(att)
    assert path == store / att.stored_name[:2] / att.stored_name[2:4] / att.stored_name and path.read_bytes() == data
    assert "营业执照" not in att.stored_name and len(att.stored_name) == 32
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())
    assert [p for p in store.rglob("*") if p.is_file()] == [path]

    page = c.get(f"/demands/{demand.ref}").get_data(as_text=True)
    assert "营业执照.pdf" in page and f"/attachments/{att.id}" in page and "附件材料" in page
    [entry] = audit("attachment.uploaded")
    assert (entry.object_type, entry.object_ref, entry.user_id) == ("demand", demand.ref, world.enterprise.id)
    assert entry.details["filename"] == "营业执照.pdf" and entry.details["sha256"] == att.sha256


@pytest.mark.parametrize(("name", "data", "message"), [
    ("营业执照.pdf", files.HTML, "内容是网页或脚本"),
    ("营业执照.pdf", files.EXE, "内容是可执行程序"),
    ("营业执照.pdf", files.png(), "内容是PNG 图片"),
])
def test_a_disguised_file_is_refused_at_the_field_and_nothing_is_stored(world, store, login_as, name, data, message):
    demand = factories.make_demand(world.enterprise.org)
    r = post_file(login_as(world.enterprise), "demand", demand.ref, data, name=name, kind="financial_statements")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert message in html and 'data-field="file"' in html
    assert '<option selected value="financial_statements">' in html  # the chosen kind is kept
    assert db_session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    assert audit("attachment.uploaded") == []


def test_the_size_limit_comes_from_the_configuration(world, store, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_MB", 1)
    demand = factories.make_demand(world.enterprise.org)
    c = login_as(world.enterprise)
    big = files.pdf() + b" " * (1024 * 1024)
    r = post_file(c, "demand", demand.ref, big)
    assert r.status_code == 200 and "超过 1 MB 的上限" in r.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    # A body beyond what the server reads at all is answered with the same form and the reason at the field.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    r = post_file(c, "demand", demand.ref, files.pdf() + b" " * 200 * 1024)
    assert r.status_code == 413
    html = r.get_data(as_text=True)
    assert "超过 1 MB 的上限" in html and 'data-field="file"' in html


def test_a_kind_of_another_owner_or_no_file_is_refused_at_the_field(world, store, login_as):
    demand = factories.make_demand(world.enterprise.org)
    c = login_as(world.enterprise)
    r = post_file(c, "demand", demand.ref, files.pdf(), kind="credit_plan")
    assert r.status_code == 200 and "请选择附件类型" in r.get_data(as_text=True)
    r = c.post(f"/attachments/demand/{demand.ref}/upload", data={"kind": "other"}, content_type="multipart/form-data")
    assert r.status_code == 200 and "请选择要上传的文件" in r.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


# --- download -------------------------------------------------------------------------------------


def test_download_headers_and_audit(world, store, login_as):
    demand = factories.make_demand(world.enterprise.org)
    att = attach(world.enterprise, demand, name="2025年财务报表.pdf", kind="financial_statements")
    r = fetch(login_as(world.enterprise), att.id)
    assert r.status_code == 200 and r.data == files.pdf()
    assert r.mimetype == "application/pdf"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('2025年财务报表.pdf')}" in disposition
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    [entry] = audit("attachment.downloaded")
    assert (entry.user_id, entry.org_id, entry.object_ref) == (world.enterprise.id, world.enterprise.org_id, demand.ref)
    assert entry.details["attachment"] == att.id and entry.details["filename"] == "2025年财务报表.pdf"


def test_a_missing_file_or_attachment_is_404(world, store, login_as):
    demand = factories.make_demand(world.enterprise.org)
    att = attach(world.enterprise, demand)
    c = login_as(world.enterprise)
    assert fetch(c, att.id + 1).status_code == 404
    services.file_path(att).unlink()
    assert fetch(c, att.id).status_code == 404
    assert audit("attachment.downloaded") == []


# --- who may see a demand's documents ---------------------------------------------------------------


def test_other_enterprise_and_other_district_bureau_get_404(world, store, login_as):
    demand = published(world)
    att = attach(world.enterprise, demand)
    for user in (world.enterprise_b, world.other_district_bureau):
        c = login_as(user)
        assert fetch(c, att.id).status_code == 404
        assert c.get(f"/attachments/demand/{demand.ref}/upload").status_code == 404
        assert c.post(f"/attachments/{att.id}/delete").status_code == 404
    page = login_as(world.enterprise_b).get(f"/demands/{demand.ref}")
    assert page.status_code == 200 and "附件材料" not in page.get_data(as_text=True)
    assert audit("attachment.downloaded") == []


def test_bureaus_in_scope_read_but_do_not_upload(world, store, login_as):
    demand = published(world)
    att = attach(world.enterprise, demand)
    for user in (world.district_bureau, world.city_bureau):
        c = login_as(user)
        assert fetch(c, att.id).status_code == 200
        page = c.get(f"/demands/{demand.ref}").get_data(as_text=True)
        assert "营业执照.pdf" in page and "attachment-upload" not in page
        assert c.get(f"/attachments/demand/{demand.ref}/upload").status_code == 403
        assert c.post(f"/attachments/{att.id}/delete").status_code == 403
    assert [e.user_id for e in audit("attachment.downloaded")] == [world.district_bureau.id, world.city_bureau.id]


def test_a_bank_sees_nothing_before_the_reveal_and_downloads_after_acceptance(world, store, login_as):
    demand = published(world)
    att = attach(world.enterprise, demand)
    c = login_as(world.bank)
    # Before the enterprise accepts its offer: not the file, not the list, not even that there is one.
    page = c.get(f"/demands/{demand.ref}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "附件材料" not in html and "营业执照.pdf" not in html and "/attachments/" not in html
    assert fetch(c, att.id).status_code == 404
    assert c.get(f"/attachments/demand/{demand.ref}/upload").status_code == 404

    offer = offers.bid(world.bank, demand)
    assert fetch(c, att.id).status_code == 404  # an offer alone reveals nothing
    from matchmaker.offers import services as offer_services
    offer_services.accept(world.enterprise, offer)

    html = c.get(f"/demands/{demand.ref}").get_data(as_text=True)
    assert "营业执照.pdf" in html
    r = fetch(c, att.id)
    assert r.status_code == 200 and r.data == files.pdf()
    assert [e.user_id for e in audit("attachment.downloaded")] == [world.bank.id]
    # Another bank still sees nothing.
    assert fetch(login_as(world.other_bank), att.id).status_code == 404


def test_an_application_to_a_bank_shows_that_bank_the_documents(world, store, login_as):
    from matchmaker.offers import services as offer_services

    demand = published(world)
    att = attach(world.enterprise, demand)
    offer_services.apply(world.enterprise, demand, factories.make_product(world.bank.org), "请审阅营业执照")
    assert fetch(login_as(world.bank), att.id).status_code == 200
    assert fetch(login_as(world.other_bank), att.id).status_code == 404


# --- delete ---------------------------------------------------------------------------------------


def test_delete_is_soft_audited_and_only_while_editable(world, store, login_as):
    demand = factories.make_demand(world.enterprise.org)
    att = attach(world.enterprise, demand)
    keep = attach(world.enterprise, demand, name="可研报告.pdf", kind="feasibility_study")
    c = login_as(world.enterprise)
    r = c.post(f"/attachments/{att.id}/delete")
    assert r.status_code == 302
    db_session.expire_all()
    assert att.is_deleted and att.deleted_by_id == world.enterprise.id
    assert services.file_path(att).exists()  # the bytes stay for the record and the backups
    assert fetch(c, att.id).status_code == 404
    page = c.get(f"/demands/{demand.ref}").get_data(as_text=True)
    assert "营业执照.pdf" not in page and "可研报告.pdf" in page
    [entry] = audit("attachment.deleted")
    assert entry.details["filename"] == "营业执照.pdf" and entry.user_id == world.enterprise.id

    demands.act(world.enterprise, demand, "submit")
    assert c.post(f"/attachments/{keep.id}/delete").status_code == 403
    html = c.get(f"/demands/{demand.ref}").get_data(as_text=True)
    assert "可研报告.pdf" in html and f"/attachments/{keep.id}/delete" not in html
    # Still open for more documents while under review.
    assert post_file(c, "demand", demand.ref, files.xlsx(), name="报表.xlsx", kind="financial_statements"
                     ).status_code == 302


def test_no_upload_once_the_demand_is_withdrawn(world, store, login_as):
    demand = factories.make_demand(world.enterprise.org, status="withdrawn")
    r = post_file(login_as(world.enterprise), "demand", demand.ref, files.pdf())
    assert r.status_code == 302 and db_session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


# --- projects and offers --------------------------------------------------------------------------


def test_project_documents_are_the_enterprise_and_its_bureau_only(world, store, login_as):
    project = factories.make_project(world.enterprise.org)
    c = login_as(world.enterprise)
    r = post_file(c, "tech_project", project.ref, files.docx(), name="可行性研究报告.docx", kind="feasibility_study")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/projects/{project.ref}#attachments")
    att = db_session.scalars(sa.select(Attachment)).one()
    assert "可行性研究报告.docx" in c.get(f"/projects/{project.ref}").get_data(as_text=True)
    assert fetch(login_as(world.district_bureau), att.id).status_code == 200
    for user in (world.other_district_bureau, world.bank, world.enterprise_b):
        assert fetch(login_as(user), att.id).status_code == 404


def test_offer_documents_for_the_institution_the_enterprise_and_the_bureau(world, store, login_as):
    demand = published(world)
    offer = offers.bid(world.bank, demand)
    c = login_as(world.bank)
    r = post_file(c, "offer", offer.ref, files.pdf("credit plan"), name="授信方案.pdf", kind="credit_plan")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/offers/{offer.ref}#attachments")
    att = db_session.scalars(sa.select(Attachment)).one()
    assert att.org_id == world.bank.org_id and att.kind == "credit_plan"
    # The enterprise reads it on the offer's page (before accepting) but cannot add to the bank's offer.
    e = login_as(world.enterprise)
    assert "授信方案.pdf" in e.get(f"/offers/{offer.ref}").get_data(as_text=True)
    assert fetch(e, att.id).status_code == 200
    assert e.get(f"/attachments/offer/{offer.ref}/upload").status_code == 403
    assert fetch(login_as(world.district_bureau), att.id).status_code == 200
    for user in (world.other_bank, world.enterprise_b, world.other_district_bureau, world.fund):
        assert fetch(login_as(user), att.id).status_code == 404
    # A business licence is not an offer's document.
    r = post_file(c, "offer", offer.ref, files.pdf(), kind="business_licence")
    assert "请选择附件类型" in r.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(world, store, client):
    demand = published(world)
    att = attach(world.enterprise, demand)
    r = fetch(client, att.id)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
