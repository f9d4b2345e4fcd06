"""The console's figures, trends, breakdowns and drill-downs against a history computed by hand."""
from __future__ import annotations

from decimal import Decimal

import pytest

from matchmaker.console import services
from matchmaker.demands.subsidy import equipment_subsidy, interest_subsidy
from models import Demand, TechProject, db_session
from tests.console import history as H


@pytest.fixture
def hist(ctx):
    return H.build()


def scope(user, district=None):
    return services.scope_for(user, *H.PERIOD, district)


@pytest.mark.parametrize("district", [None, "滕州市"])
def test_totals_match_the_hand_count(hist, district):
    user = hist.city_bureau if district is None else hist.tengzhou_bureau
    assert services.totals(scope(user)) == H.EXPECTED[district]


def test_the_city_bureau_filtering_a_district_sees_what_the_district_bureau_sees(hist):
    assert services.totals(scope(hist.city_bureau, "滕州市")) == services.totals(scope(hist.tengzhou_bureau))


def test_trends_by_month_in_the_city_time_zone(hist):
    trends = services.trends(scope(hist.city_bureau))
    for key, values in H.TRENDS.items():
        assert trends[key] == values, key
    # Signed and disbursed are separate series.
    assert trends["signed_amount"] != trends["disbursed_amount"]


def test_a_demand_submitted_at_17h_utc_on_31_october_belongs_to_november(hist):
    nov = services.scope_for(hist.city_bureau, "2026-11", "2026-11")
    oct_ = services.scope_for(hist.city_bureau, "2026-10", "2026-10")
    assert {d.ref for d in services.drill_page(nov, services.Drill("demands_posted"), 1)[0]} == {"dm-d3"}
    assert {d.ref for d in services.drill_page(oct_, services.Drill("demands_posted"), 1)[0]} == {"dm-d4", "dm-d5"}


def _rows(b):
    return {r["value"]: r["figures"] for r in b}


def test_breakdowns(hist):
    s = scope(hist.city_bureau)
    by_district = _rows(services.breakdown(s, "district", ("demands_posted", "amount_requested", "events_held",
                                                           "intent_amount", "signed_amount", "disbursed_amount")))
    assert by_district["滕州市"] == {"demands_posted": 3, "amount_requested": 3300, "events_held": 1,
                                    "intent_amount": 1500, "signed_amount": 1100, "disbursed_amount": 100}
    assert by_district["薛城区"] == {"demands_posted": 1, "amount_requested": 800, "events_held": 0,
                                    "intent_amount": 200, "signed_amount": 0, "disbursed_amount": 0}
    assert by_district["市中区"]["demands_posted"] == 0  # every district is listed, even with nothing
    assert by_district[None]["events_held"] == 1  # the city-wide event
    by_cluster = _rows(services.breakdown(s, "cluster", ("demands_posted", "amount_requested")))
    assert by_cluster["高端装备"] == {"demands_posted": 3, "amount_requested": 2100}
    assert by_cluster["锂电"] == {"demands_posted": 1, "amount_requested": 2000}
    by_type = _rows(services.breakdown(s, "financing_type", ("demands_posted", "amount_requested")))
    assert by_type["loan"] == {"demands_posted": 3, "amount_requested": 2100}
    assert by_type["equity"] == {"demands_posted": 1, "amount_requested": 2000}
    assert by_type["leasing"] == {"demands_posted": 0, "amount_requested": 0}
    by_size = _rows(services.breakdown(s, "size", ("demands_posted",)))
    assert (by_size["small"], by_size["medium"], by_size["micro"]) == ({"demands_posted": 2}, {"demands_posted": 1},
                                                                       {"demands_posted": 1})
    by_purpose = _rows(services.breakdown(s, "purpose", ("demands_posted",)))
    assert by_purpose["smart_upgrade"] == {"demands_posted": 2}


def test_shares(hist):
    shares = {s["key"]: s for s in services.shares(services.totals(scope(hist.city_bureau)))}
    assert shares["first_loan_share"]["percent"] == Decimal("25.0")
    assert shares["credit_loan_share"]["percent"] == Decimal("50.0")


@pytest.mark.parametrize(("metric", "month", "dim", "value"), list(H.DRILLS))
def test_drill_downs_list_the_rows_a_figure_counts(hist, metric, month, dim, value):
    rows, total = services.drill_page(scope(hist.city_bureau), services.Drill(metric, month, dim, value), 1)
    assert {ref_of(r) for r in rows} == H.DRILLS[(metric, month, dim, value)]
    assert total == len(rows)


def ref_of(row) -> str:
    # A disbursement has no reference of its own: it is shown as its deal's.
    return row.ref if hasattr(row, "ref") else row.deal.ref


@pytest.mark.parametrize("dim", list(H.OFFER_BREAKDOWNS))
def test_offer_breakdowns_by_the_demands_enterprise_and_by_institution(hist, dim):
    rows = {r["label"] if dim == "institution" else r["value"]: r["figures"]
            for r in services.breakdown(scope(hist.city_bureau), dim, H.OFFER_KEYS)}
    for value, figures in H.OFFER_BREAKDOWNS[dim].items():
        assert tuple(rows[value][k] for k in H.OFFER_KEYS) == figures, (dim, value)


def test_the_institution_drill_down_lists_that_institutions_offers(hist):
    bank = hist.bank.org
    rows, total = services.drill_page(scope(hist.city_bureau), services.Drill("offers_made", dim="institution",
                                                                              value=str(bank.id)), 1)
    assert {r.ref for r in rows} == {"of-o1", "of-o4", "of-o7"}
    # Within 滕州市 the same institution's offer to 薛城区 is not listed.
    rows, _ = services.drill_page(scope(hist.tengzhou_bureau), services.Drill("offers_made", dim="institution",
                                                                              value=str(bank.id)), 1)
    assert {r.ref for r in rows} == {"of-o1", "of-o7"}
    with pytest.raises(LookupError):
        services.drill_page(scope(hist.city_bureau), services.Drill("offers_made", dim="institution", value="x"), 1)


@pytest.mark.parametrize("district", [None, "滕州市"])
def test_the_funnel_counts_demands_reaching_each_stage(hist, district):
    user = hist.city_bureau if district is None else hist.tengzhou_bureau
    assert [(f["demands"], f["percent"]) for f in services.funnel(scope(user))] == H.FUNNEL[district]


def test_signed_and_disbursed_from_deals_are_separate_figures(hist):
    t = services.totals(scope(hist.city_bureau))
    # k0 was signed in August (outside) and paid in September (inside); k2 is signed and not paid.
    assert (t["deal_signed_amount"], t["deal_disbursed_amount"]) == (1000, 950)


def test_every_figure_equals_its_drill_down(hist):
    s = scope(hist.city_bureau)
    for key, value in services.totals(s).items():
        if services.METRIC_BY_KEY[key].value is None:
            assert services.drill_page(s, services.Drill(key), 1)[1] == value, key


def test_ledger_summary(hist):
    summary = services.ledger_summary(scope(hist.city_bureau))
    for key, value in H.LEDGER.items():
        if key == "bands":
            assert [b["projects"] for b in summary["bands"]] == value
        else:
            assert summary[key] == value, key
    by_district = {r["value"]: r for r in summary["by_district"]}
    assert (by_district["薛城区"]["projects"], by_district["薛城区"]["open_problems"]) == (1, 1)
    assert services.ledger_summary(scope(hist.tengzhou_bureau))["projects"] == 2


def test_ledger_subsidies_equal_the_per_row_estimates_of_subsidy_py(hist, city):
    policy = city.policy
    equipment = sum(equipment_subsidy(p.equipment_investment, p.category, policy).amount
                    for p in db_session.query(TechProject))
    interest = sum(interest_subsidy(d.amount, d.max_rate, d.term_months, d.purpose, policy).amount
                   for d in db_session.query(Demand)
                   if d.published_at and d.status in ("published", "matched", "signed", "funded"))
    summary = services.ledger_summary(scope(hist.city_bureau))
    assert (summary["equipment_subsidy"], summary["interest_subsidy"]) == (equipment, interest)


def test_event_outcomes_keep_signed_and_disbursed_apart(hist):
    rows = {e["ref"]: e for e in services.event_outcomes(scope(hist.city_bureau))}
    assert set(rows) == {"ev-1", "ev-2"}
    assert (rows["ev-1"]["meetings_held"], rows["ev-1"]["intent_amount"], rows["ev-1"]["signed_amount"],
            rows["ev-1"]["disbursed_amount"]) == (2, 700, 300, 100)
    per_inst = {r["name"]: r for r in services.institution_outcomes(scope(hist.city_bureau))}
    assert per_inst["工商银行枣庄分行"]["signed_amount"] == 1100
    assert per_inst["农业银行滕州支行"]["meetings_held"] == 0


def test_an_empty_platform_shows_zeros(ctx):
    from tests import factories

    bureau = factories.make_user(factories.make_org("bureau", district=None))
    data = services.console(services.scope_for(bureau))
    assert data["is_empty"]
    assert all(v == 0 for v in data["totals"].values())
    assert all(s["percent"] is None for s in data["shares"])
    assert data["ledger"]["projects"] == 0


def test_period_errors(hist):
    with pytest.raises(services.ConsoleError):
        services.scope_for(hist.city_bureau, "2026-11", "2026-09")
    with pytest.raises(services.ConsoleError):
        services.scope_for(hist.city_bureau, "2026-13", "2026-12")
    with pytest.raises(services.ConsoleError):
        services.scope_for(hist.city_bureau, "2020-01", "2026-12")
    with pytest.raises(LookupError):
        services.scope_for(hist.tengzhou_bureau, district="薛城区")


def test_submitting_through_the_life_cycle_dates_the_demand_and_the_console_counts_it(world):
    from matchmaker.demands import services as demands
    from tests import factories

    d = factories.make_demand(world.enterprise.org, status="draft", created_at=H.utc("2026-08-01T02:00"))
    demands.act(world.enterprise, d, "submit")
    assert d.submitted_at is not None and d.submitted_at > d.created_at
    month = services.local_month(d.submitted_at).strftime("%Y-%m")
    s = services.scope_for(world.city_bureau, month, month)
    assert services.totals(s, ["demands_posted"]) == {"demands_posted": 1}
    # Returned and submitted again: still counted once, in the month of the first submission.
    demands.act(world.district_bureau, d, "return", "请补充材料")
    first = d.submitted_at
    demands.act(world.enterprise, d, "submit")
    assert d.submitted_at == first
