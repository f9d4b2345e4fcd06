"""The pool's filters and pagination, intended banks (at most 3) and push lists to banks' inboxes."""
from decimal import Decimal

import pytest

from matchmaker.demands import services
from matchmaker.demands.services import DemandError
from models import OrgKind
from tests import factories


def test_pool_filters_keep_in_the_url_and_combine(world, login_as):
    a = factories.make_demand(world.enterprise.org, status="published", title="甲需求", amount=Decimal(500),
                              term_months=12, financing_types=["loan"], collateral=["property"], purpose="equipment")
    b = factories.make_demand(world.enterprise_b.org, status="published", title="乙需求", amount=Decimal(3000),
                              term_months=60, financing_types=["equity", "leasing"], collateral=["equity_pledge"],
                              purpose="green")
    factories.make_demand(world.enterprise.org, status="submitted", title="丙需求")
    bank = login_as(world.bank)

    def titles(query=""):
        text = bank.get("/demands/pool" + query).text
        return [t for t in ("甲需求", "乙需求", "丙需求") if t in text]

    assert titles() == ["甲需求", "乙需求"]
    assert titles("?district=薛城区") == ["乙需求"]
    assert titles("?cluster=高端装备") == ["甲需求", "乙需求"]
    assert titles("?purpose=green") == ["乙需求"]
    assert titles("?financing_type=equity") == ["乙需求"]
    assert titles("?financing_type=loan") == ["甲需求"]
    # "equity" must not match "equity_pledge".
    assert titles("?collateral=equity_pledge") == ["乙需求"]
    assert titles("?collateral=property") == ["甲需求"]
    assert titles("?amount_min=1000") == ["乙需求"]
    assert titles("?amount_max=1000&term_max=24") == ["甲需求"]
    assert titles("?term_min=13&term_max=120") == ["乙需求"]
    text = bank.get("/demands/pool?amount_min=abc").text
    assert "不是有效的数字" in text and "甲需求" in text
    assert a.id and b.id


def test_pool_is_newest_first_and_paginated_with_filters_kept(world, login_as):
    from datetime import datetime, timedelta

    base = datetime(2026, 11, 1, 9)
    for i in range(25):
        factories.make_demand(world.enterprise.org, status="published", title=f"需求第{i:02d}号",
                              published_at=base + timedelta(hours=i), commit=False)
    from models import db_session

    db_session.commit()
    bank = login_as(world.bank)
    first = bank.get("/demands/pool?financing_type=loan").text
    assert first.index("需求第24号") < first.index("需求第05号")
    assert "需求第04号" not in first and "共 25 条" in first
    assert "page=2" in first and "financing_type=loan" in first.split("page=2")[0].rsplit("href=", 1)[1]
    second = bank.get("/demands/pool?financing_type=loan&page=2").text
    assert "需求第04号" in second and "需求第00号" in second and "需求第24号" not in second


@pytest.fixture
def banks(world):
    return [world.bank.org, world.other_bank.org] + [factories.make_org(OrgKind.BANK) for _ in range(2)]


def test_at_most_three_intended_banks(world, banks, login_as):
    demand = factories.make_demand(world.enterprise.org, status="published")
    services.set_intended_banks(world.enterprise, demand, banks[:3])
    assert {r.org_id for r in demand.intended_banks} == {b.id for b in banks[:3]}
    assert {r.chosen_by for r in demand.intended_banks} == {"enterprise"}
    with pytest.raises(DemandError, match="最多选择3家意向银行"):
        services.set_intended_banks(world.district_bureau, demand, banks)
    with pytest.raises(DemandError, match="意向机构须为银行"):
        services.set_intended_banks(world.enterprise, demand, [world.fund.org])
    # Through the web too: the 4th bank is refused with the message and nothing changes.
    resp = login_as(world.district_bureau).post(f"/demands/{demand.ref}/banks",
                                                data={"banks": [b.ref for b in banks]}, follow_redirects=True)
    assert "最多选择3家意向银行，当前选择了4家" in resp.text
    assert len(demand.intended_banks) == 3


def test_demand_form_refuses_a_fourth_bank_at_the_field(world, banks, login_as):
    resp = login_as(world.enterprise).post("/demands/new", data={
        "title": "设备贷", "description": "说明", "amount": "100", "term_months": "12", "purpose": "equipment",
        "financing_types": ["loan"], "collateral": ["none"], "valid_until": "2099-01-01",
        "banks": [b.ref for b in banks],
    })
    assert 'data-field="banks">最多选择3家意向银行' in resp.text


def test_bureau_builds_and_pushes_a_list_and_banks_see_it(world, banks, login_as):
    major = factories.make_demand(world.enterprise.org, status="published", title="重大项目需求",
                                  project=factories.make_project(world.enterprise.org, is_major=True))
    minor = factories.make_demand(world.enterprise.org, status="published", title="一般项目需求",
                                  project=factories.make_project(world.enterprise.org))
    elsewhere = factories.make_demand(world.enterprise_b.org, status="published", title="外区重大需求",
                                      project=factories.make_project(world.enterprise_b.org, is_major=True))
    bureau = login_as(world.district_bureau)
    resp = bureau.post("/demands/batches", data={"title": "2026年11月技改项目融资需求清单"}, follow_redirects=True)
    assert "可加入的需求" in resp.text
    assert "重大项目需求" in resp.text and "一般项目需求" not in resp.text and "外区重大需求" not in resp.text
    batch_url = resp.request.path
    bureau.post(batch_url, data={"op": "add", "demand": major.ref})
    # A minor project's demand and another district's are refused.
    assert "只能选择已发布的重大项目" in bureau.post(batch_url, data={"op": "add", "demand": minor.ref},
                                                    follow_redirects=True).text
    assert bureau.post(batch_url, data={"op": "add", "demand": elsewhere.ref}).status_code == 404
    assert "尚未选择意向银行" in bureau.post(batch_url, data={"op": "push"}, follow_redirects=True).text
    bureau.post(f"/demands/{major.ref}/banks", data={"banks": [banks[0].ref, banks[2].ref], "next": batch_url})
    resp = bureau.post(batch_url, data={"op": "push"}, follow_redirects=True)
    assert "清单已推送给 2 家银行" in resp.text

    inbox = login_as(world.bank).get("/demands/inbox").text
    assert "2026年11月技改项目融资需求清单" in inbox
    assert "2026年11月技改项目融资需求清单" not in login_as(world.other_bank).get("/demands/inbox").text
    # A pushed list is final.
    assert "清单已推送，不能再修改" in bureau.post(batch_url, data={"op": "remove", "demand": major.ref},
                                                  follow_redirects=True).text
    # Another bureau cannot open it; a bank not on it gets 404.
    assert login_as(world.other_district_bureau).get(batch_url).status_code == 404
    ref = batch_url.rsplit("/", 1)[1]
    assert login_as(world.other_bank).get(f"/demands/inbox/{ref}").status_code == 404
    assert "重大项目需求" in login_as(world.bank).get(f"/demands/inbox/{ref}").text


def test_enterprise_sets_intended_banks_on_its_published_demand(world, banks, login_as):
    demand = factories.make_demand(world.enterprise.org, status="published")
    ent = login_as(world.enterprise)
    assert "调整意向银行" in ent.get(f"/demands/{demand.ref}").text
    resp = ent.post(f"/demands/{demand.ref}/banks", data={"banks": [banks[1].ref]}, follow_redirects=True)
    assert "意向银行已保存" in resp.text and banks[1].name in resp.text
    assert [(r.org_id, r.chosen_by) for r in demand.intended_banks] == [(banks[1].id, "enterprise")]
    # Another enterprise cannot, and a bank never sees the form.
    assert login_as(world.enterprise_b).post(f"/demands/{demand.ref}/banks", data={"banks": []}).status_code == 403
    assert "调整意向银行" not in login_as(world.bank).get(f"/demands/{demand.ref}").text
