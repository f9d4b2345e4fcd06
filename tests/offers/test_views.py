"""Offer pages: who sees what (the reveal rule), bad input at the field with nothing lost, the bureau's overdue list."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.offers import services
from models import Offer, db_session
from tests import factories
from tests.offers.helpers import bid, published, terms


def test_the_enterprise_applies_from_the_product_page(world, login_as):
    demand = published(world)
    product = factories.make_product(world.bank.org)
    ent = login_as(world.enterprise)
    page = ent.get(f"/products/{product.ref}").text
    assert "申请此产品" in page
    form = ent.get(f"/offers/apply?product={product.ref}").text
    assert demand.title in form
    resp = ent.post("/offers/apply", data={"product": product.ref, "demand": demand.ref, "note": "请尽快联系"})
    assert resp.status_code == 302
    offer = db_session.scalar(sa.select(Offer))
    assert offer.status == "requested" and offer.note == "请尽快联系"
    detail = ent.get(f"/offers/{offer.ref}").text
    assert "答复期限" in detail and "个工作日" in detail
    bank_page = login_as(world.bank).get(f"/offers/{offer.ref}").text
    assert world.enterprise.org.name in bank_page and "提交方案" in bank_page and "还剩" in bank_page


def test_the_demand_page_offers_products_to_apply_to(world, login_as):
    demand = published(world)
    product = factories.make_product(world.bank.org)
    page = login_as(world.enterprise).get(f"/demands/{demand.ref}").text
    assert "申请此产品" in page and product.ref in page


def test_the_reveal_rule_on_pages(world, login_as):
    demand = published(world)
    name = world.enterprise.org.name
    bank, other, guarantor = login_as(world.bank), login_as(world.other_bank), login_as(world.guarantor)
    assert name not in bank.get(f"/demands/{demand.ref}").text
    offer = bid(world.bank, demand)
    g_offer = bid(world.guarantor, demand, kind="guarantee")
    # Bidding alone reveals nothing; the pool row and the offer page stay anonymous.
    assert name not in bank.get(f"/offers/{offer.ref}").text
    assert name not in bank.get("/demands/pool").text
    services.accept(world.enterprise, offer)
    assert name in bank.get(f"/offers/{offer.ref}").text and "李会计" in bank.get(f"/demands/{demand.ref}").text
    # Others never: not the guarantor whose offer waits, not another bank (which cannot even see the offer).
    assert name not in guarantor.get(f"/offers/{g_offer.ref}").text
    assert other.get(f"/offers/{offer.ref}").status_code == 404
    assert other.get(f"/demands/{demand.ref}").status_code == 404  # matched: out of the pool


def test_bad_input_is_shown_at_the_field_and_nothing_typed_is_lost(world, login_as):
    demand = published(world, amount=Decimal(2000))
    product = factories.make_product(world.bank.org)
    bank = login_as(world.bank)
    form = {"product": product.ref, "amount": "2500", "rate": "6.8", "term_months": "36", "valid_until": "2099-01-01",
            "conditions": "需提供设备发票原件"}
    resp = bank.post(f"/offers/new/{demand.ref}", data=form)
    assert resp.status_code == 200
    page = resp.text
    assert '<div class="invalid-feedback d-block" data-field="amount">金额不能超过需求金额 2000 万元</div>' in page
    assert 'data-field="rate">利率 6.8% 超出所选产品的利率区间' in page
    assert "需提供设备发票原件" in page and 'value="2500"' in page and 'value="6.8"' in page
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 0
    form.update(amount="1800", rate_reason="无抵押，风险溢价")
    assert bank.post(f"/offers/new/{demand.ref}", data=form).status_code == 302


def test_a_disbursement_above_the_signed_amount_is_refused_at_the_field(world, login_as):
    demand = published(world)
    offer = bid(world.bank, demand)
    services.accept(world.enterprise, offer)
    bank = login_as(world.bank)
    resp = bank.post(f"/offers/{offer.ref}/sign", data={"signed_amount": "900", "signed_on": "2026-11-20",
                                                        "rate": "4.0", "term_months": "36"})
    assert resp.status_code == 302
    resp = bank.post(f"/offers/{offer.ref}/disburse", data={"amount": "950", "disbursed_on": "2026-11-21"})
    assert resp.status_code == 200
    assert 'data-field="amount">放款合计不能超过签约金额：尚可放款 900 万元' in resp.text and 'value="950"' in resp.text


def test_declining_without_a_reason_keeps_the_application_waiting(world, login_as):
    offer = services.apply(world.enterprise, published(world), factories.make_product(world.bank.org))
    bank = login_as(world.bank)
    resp = bank.post(f"/offers/{offer.ref}/decline", data={"reason": ""})
    assert resp.status_code == 200 and "拒绝申请须填写理由" in resp.text
    db_session.refresh(offer)
    assert offer.status == "requested"
    bank.post(f"/offers/{offer.ref}/decline", data={"reason": "超出本行授信范围"})
    db_session.refresh(offer)
    assert offer.status == "declined"


def test_the_comparison_page_shows_terms_records_and_subsidy(world, login_as):
    demand = published(world, amount=Decimal(2000))
    bid(world.bank, demand, amount=Decimal(1500), rate=Decimal("4.0"))
    bid(world.guarantor, demand, amount=Decimal(1500), rate=Decimal("1.5"), kind="guarantee")
    page = login_as(world.enterprise).get(f"/offers/compare/{demand.ref}").text
    assert world.bank.org.name in page and world.guarantor.org.name in page
    assert "贷款贴息估算" in page and "90 万元" in page  # 1500 × 4% × 3 × 50%
    assert "机构响应记录" in page and "还可报价 1 家" in page
    assert login_as(world.enterprise_b).get(f"/offers/compare/{demand.ref}").status_code == 404
    assert login_as(world.bank).get(f"/offers/compare/{demand.ref}").status_code == 403


def test_the_pool_shows_free_places(world, login_as):
    demand = published(world)
    bid(world.guarantor, demand, kind="guarantee")
    page = login_as(world.bank).get("/demands/pool").text
    assert "还可报价 2 家" in page


def test_the_bureau_sees_overdue_applications_in_its_district(world, login_as):
    demand = published(world)
    offer = services.apply(world.enterprise, demand, factories.make_product(world.bank.org),
                           now=datetime(2026, 1, 5, 2))
    page = login_as(world.district_bureau).get("/offers/overdue").text
    assert offer.ref in page and world.bank.org.name in page and "个工作日" in page
    assert offer.ref not in login_as(world.other_district_bureau).get("/offers/overdue").text
    assert offer.ref in login_as(world.city_bureau).get("/offers/overdue").text
    assert login_as(world.bank).get("/offers/overdue").status_code == 403


def test_the_institutions_list_and_the_enterprises_list(world, login_as):
    demand = published(world)
    offer = bid(world.bank, demand)
    assert offer.ref in login_as(world.bank).get("/offers/").text
    assert offer.ref in login_as(world.enterprise).get("/offers/").text
    assert offer.ref not in login_as(world.other_bank).get("/offers/").text


def test_the_answer_form_keeps_input_on_error(world, login_as):
    offer = services.apply(world.enterprise, published(world), factories.make_product(world.bank.org))
    resp = login_as(world.bank).post(f"/offers/{offer.ref}/answer", data={
        "amount": "99999", "rate": "4", "term_months": "36", "valid_until": "2099-01-01", "conditions": "按月付息"})
    assert resp.status_code == 200 and "金额不能超过需求金额" in resp.text and "按月付息" in resp.text
    ok = login_as(world.bank).post(f"/offers/{offer.ref}/answer", data={**terms_form(), "amount": "800"})
    assert ok.status_code == 302


def terms_form() -> dict:
    t = terms()
    return {"amount": str(t["amount"]), "rate": str(t["rate"]), "term_months": str(t["term_months"]),
            "valid_until": t["valid_until"].isoformat()}


def test_the_demand_page_lists_event_outcomes_naming_it(world, login_as):
    from models import Meeting
    from tests.events.helpers import make_event

    demand = published(world)
    event = make_event(status="held", tables=3)
    db_session.add(Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org,
                           institution=world.bank.org, signed_amount=Decimal(300), intent_amount=Decimal(500),
                           demand_ref=demand.ref, recorded_at=datetime(2026, 11, 1)))
    db_session.commit()
    page = login_as(world.enterprise).get(f"/demands/{demand.ref}").text
    assert "对接活动中的洽谈结果" in page and event.title in page
    assert "对接活动中的洽谈结果" in login_as(world.district_bureau).get(f"/demands/{demand.ref}").text
    assert "对接活动中的洽谈结果" not in login_as(world.other_bank).get(f"/demands/{demand.ref}").text


def test_a_fund_expresses_equity_interest_on_the_page(world, login_as):
    demand = published(world, financing_types=["equity"])
    fund = login_as(world.fund)
    page = fund.get(f"/demands/{demand.ref}").text
    assert "表达投资意向" in page
    resp = fund.post(f"/offers/new/{demand.ref}", data={"amount": "1000", "stake_percent": "8", "valuation_min": "9000",
                                                        "valuation_max": "12000", "valid_until": "2099-01-01"})
    assert resp.status_code == 302, resp.text
    offer = db_session.scalar(sa.select(Offer))
    assert (offer.kind, offer.rate, offer.stake_percent, offer.valuation_max) == ("equity", 0, 8, 12000)


def test_the_response_record_shows_on_the_institution_and_product_pages(world, login_as):
    product = factories.make_product(world.bank.org)
    offer = services.apply(world.enterprise, published(world), product)
    services.decline(world.bank, offer, "额度不足")
    page = login_as(world.city_bureau).get(f"/bureau/organizations/{world.bank.org.ref}").text
    assert 'id="response-record"' in page and "暂无记录" not in page
    assert "暂无记录" not in login_as(world.enterprise).get(f"/products/{product.ref}").text


def test_home_pages_count_what_waits(world, login_as):
    offer = services.apply(world.enterprise, published(world), factories.make_product(world.bank.org),
                           now=datetime(2026, 1, 5, 2))
    assert "待答复的申请" in login_as(world.bank).get("/").text
    assert "逾期未答复" in login_as(world.district_bureau).get("/").text
    services.answer(world.bank, offer, terms())
    assert "申请与方案" in login_as(world.enterprise).get("/").text


def test_the_bureau_sees_offers_in_its_district_only(world, login_as):
    offer = bid(world.bank, published(world))
    assert login_as(world.district_bureau).get(f"/offers/{offer.ref}").status_code == 200
    assert login_as(world.other_district_bureau).get(f"/offers/{offer.ref}").status_code == 404
    assert login_as(world.enterprise_b).get(f"/offers/{offer.ref}").status_code == 404
