"""Who sees what: 403 for the wrong role, 404 outside the scope, and the reveal rule on every page."""
import pytest

from matchmaker.demands import services
from matchmaker.demands.reveal import can_see_identity, revenue_band
from tests import factories

ENTERPRISE_PAGES = ["/projects/", "/projects/new", "/demands/mine", "/demands/new"]


@pytest.mark.parametrize("role", ["bank", "fund", "guarantor", "district_bureau"])
def test_enterprise_pages_are_403_for_other_roles(world, login_as, role):
    c = login_as(getattr(world, role))
    for url in ENTERPRISE_PAGES:
        assert c.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["enterprise", "bank", "fund", "guarantor"])
def test_bureau_pages_are_403_for_other_roles(world, login_as, role):
    c = login_as(getattr(world, role))
    for url in ("/demands/review", "/demands/batches", "/projects/ledger", "/projects/ledger.xlsx"):
        assert c.get(url).status_code == 403, url


def test_pool_is_for_institutions_and_bureaus_and_inbox_for_banks(world, login_as):
    assert login_as(world.enterprise).get("/demands/pool").status_code == 403
    for role in ("bank", "fund", "guarantor", "city_bureau"):
        assert login_as(getattr(world, role)).get("/demands/pool").status_code == 200
    assert login_as(world.fund).get("/demands/inbox").status_code == 403


def test_enterprise_b_cannot_see_a_draft_of_enterprise_a(world, login_as):
    draft = factories.make_demand(world.enterprise.org, status="draft")
    project = factories.make_project(world.enterprise.org)
    b = login_as(world.enterprise_b)
    assert b.get(f"/demands/{draft.ref}").status_code == 404
    assert b.get(f"/demands/{draft.ref}/edit").status_code == 404
    assert b.post(f"/demands/{draft.ref}/action", data={"action": "submit"}).status_code == 404
    assert b.get(f"/projects/{project.ref}").status_code == 404
    assert login_as(world.bank).get(f"/demands/{draft.ref}").status_code == 404
    # Even the bureau does not see a draft: it is the enterprise's notebook.
    assert login_as(world.district_bureau).get(f"/demands/{draft.ref}").status_code == 404


def test_other_enterprises_see_a_published_demand_only_anonymised(world, login_as):
    demand = factories.make_demand(world.enterprise.org, status="published")
    text = login_as(world.enterprise_b).get(f"/demands/{demand.ref}").text
    assert demand.title in text
    assert world.enterprise.org.name not in text and world.enterprise.org.uscc not in text and "李会计" not in text


def test_district_bureau_reviews_only_its_district(world, login_as):
    ours = factories.make_demand(world.enterprise.org, status="submitted")        # 滕州市
    theirs = factories.make_demand(world.enterprise_b.org, status="submitted")    # 薛城区
    page = login_as(world.district_bureau).get("/demands/review").text
    assert ours.title in page and theirs.title not in page
    c = login_as(world.district_bureau)
    assert c.get(f"/demands/{theirs.ref}").status_code == 404
    assert c.post(f"/demands/{theirs.ref}/action", data={"action": "publish"}).status_code == 404
    city = login_as(world.city_bureau).get("/demands/review").text
    assert ours.title in city and theirs.title in city


def test_reveal_rule(world):
    demand = factories.make_demand(world.enterprise.org, status="published")
    assert can_see_identity(world.enterprise, demand)
    assert can_see_identity(world.district_bureau, demand) and can_see_identity(world.city_bureau, demand)
    assert not can_see_identity(world.other_district_bureau, demand)
    assert not can_see_identity(world.enterprise_b, demand)
    for role in ("bank", "other_bank", "fund", "guarantor"):
        assert not can_see_identity(getattr(world, role), demand)
    services.disclose(demand, world.bank.org, "accepted")
    services.disclose(demand, world.bank.org, "applied")  # idempotent
    assert can_see_identity(world.bank, demand)
    assert not can_see_identity(world.other_bank, demand) and not can_see_identity(world.fund, demand)


def test_institution_sees_identity_nowhere_before_disclosure_and_everywhere_after(world, login_as):
    org = world.enterprise.org
    demand = factories.make_demand(org, status="published", contact_name="李会计", contact_phone="13911112222")
    project = demand.project = factories.make_project(org, is_major=True)
    services.set_intended_banks(world.enterprise, demand, [world.bank.org])
    batch = services.create_batch(world.district_bureau, "2026年11月技改项目融资需求清单")
    services.add_to_batch(world.district_bureau, batch, demand)
    services.push_batch(world.district_bureau, batch)

    bank = login_as(world.bank)
    secrets = (org.name, org.uscc, "李会计", "13911112222", project.name)
    pages = ["/demands/pool", f"/demands/{demand.ref}", "/demands/inbox", f"/demands/inbox/{batch.ref}"]
    for url in pages:
        text = bank.get(url).text
        assert demand.title in text or batch.title in text, url
        for s in secrets:
            assert s not in text, (url, s)
    # The only spreadsheet export is the bureau's.
    assert bank.get("/projects/ledger.xlsx").status_code == 403
    assert "5000万–1亿" not in bank.get(f"/demands/{demand.ref}").text  # revenue 3000 万元
    assert "2000万–5000万" in bank.get(f"/demands/{demand.ref}").text

    services.disclose(demand, world.bank.org, "applied")
    for url in ("/demands/pool", f"/demands/{demand.ref}"):
        assert org.name in bank.get(url).text, url
    assert "13911112222" in bank.get(f"/demands/{demand.ref}").text
    # Another bank still sees nothing.
    assert org.name not in login_as(world.other_bank).get(f"/demands/{demand.ref}").text


def test_a_disclosed_institution_keeps_seeing_the_demand_after_it_leaves_the_pool(world, login_as):
    demand = factories.make_demand(world.enterprise.org, status="published")
    services.disclose(demand, world.bank.org, "accepted")
    services.mark_matched(demand)
    assert login_as(world.bank).get(f"/demands/{demand.ref}").status_code == 200
    assert login_as(world.other_bank).get(f"/demands/{demand.ref}").status_code == 404


@pytest.mark.parametrize(("revenue", "band"), [
    (None, "未填报"), (499, "500万以下"), (500, "500万–2000万"), (4999.99, "2000万–5000万"),
    (5000, "5000万–1亿"), (9999, "5000万–1亿"), (10000, "1亿–10亿"), (100000, "10亿以上"),
])
def test_revenue_bands(revenue, band):
    from decimal import Decimal

    assert revenue_band(None if revenue is None else Decimal(str(revenue))) == band


def test_home_pages_and_navigation_carry_each_roles_demand_tasks(world, login_as):
    factories.make_demand(world.enterprise.org, status="submitted")
    factories.make_demand(world.enterprise.org, status="returned", return_reason="请补充材料")
    factories.make_demand(world.enterprise_b.org, status="submitted")
    factories.make_demand(world.enterprise_b.org, status="published")

    def count(text, title):
        import re

        m = re.search(rf'{title}</span>\s*<span class="count">(\d+)</span>', text)
        return int(m[1]) if m else None

    ent = login_as(world.enterprise).get("/").text
    assert count(ent, "我的融资需求") == 2 and "有 1 项需求被退回" in ent and count(ent, "我的技改项目") == 0
    assert 'href="/demands/mine"' in ent and 'href="/projects/"' in ent and 'href="/demands/pool"' not in ent
    assert count(login_as(world.district_bureau).get("/").text, "融资需求审核") == 1
    city = login_as(world.city_bureau).get("/").text
    assert count(city, "融资需求审核") == 2
    assert all(f'href="{u}"' in city for u in ("/demands/review", "/projects/ledger", "/demands/batches"))
    bank = login_as(world.bank).get("/").text
    assert count(bank, "融资需求项目库") == 1 and count(bank, "推送清单") == 0 and 'href="/demands/inbox"' in bank
    fund = login_as(world.fund).get("/").text
    assert count(fund, "融资需求项目库") == 1 and 'href="/demands/inbox"' not in fund
