"""The console's summary table against a full recount of the raw rows, after the writes a platform sees."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.console import services, summary
from matchmaker.demands import services as demands
from matchmaker.interchange.services import import_lines
from matchmaker.offers import services as offers
from models import ConsoleSummary, Event, Meeting, ProgressUpdate, db_session
from tests import factories
from tests.console import history as H
from tests.demands.test_interchange import WORLD
from tests.offers.helpers import terms

VALUES = {"description": "新建锂电池模组产线", "amount": 1500, "term_months": 24, "purpose": "equipment",
          "financing_types": ["loan", "leasing"], "collateral": ["none"]}
# The imported history of DESIGN §9: an offer accepted in March 2026, signed and paid out in April.
IMPORTED = [*WORLD,
            {"type": "offer", "ref": "of-0001", "demand": "dm-0001", "org": "bank-03", "amount": 1500, "rate": 4.1,
             "term_months": 36, "status": "accepted", "created": "2026-03-05T10:00:00"},
            {"type": "deal", "ref": "dl-0001", "offer": "of-0001", "signed_amount": 1500, "signed_on": "2026-04-10",
             "disbursements": [{"amount": 1000, "on": "2026-04-20"}, {"amount": 500, "on": "2026-05-20"}]}]


def lines() -> dict:
    """The summary table as {key: figures}, exact."""
    return {(r.source, r.dim, r.month, r.district, r.value): (r.records, *(Decimal(str(getattr(r, c))).quantize(
        Decimal("0.0001")) for c in ("m1", "m2", "m3", "m4")))
        for r in db_session.scalars(sa.select(ConsoleSummary))}


def assert_summary_is_the_raw_count(user) -> None:
    # The lines kept write by write are the lines a rebuild from scratch makes...
    kept = lines()
    assert kept, "the writes left no lines in the summary"
    summary.rebuild()
    assert lines() == kept
    db_session.rollback()
    # ...and every figure read from them equals the raw count, for the city, each district and one month.
    month = services.local_month()
    last = month.strftime("%Y-%m")
    # Two years back covers the imported history of 2025 and 2026 (at the time of writing).
    first = f"{month.year - 2}-{month.month:02d}" if month.month == 12 else f"{month.year - 2}-{month.month + 1:02d}"
    for district in (None, "滕州市", "薛城区"):
        for start, end in ((first, last), (last, last), ("2026-03", "2026-05")):
            scope = services.scope_for(user, start, end, district)
            assert services.console(scope) == services.console(scope, raw=True), (district, start, end)
            assert_drill_totals(scope)


def assert_drill_totals(scope) -> None:
    """Every drill-down's row count read from the lines is the number of rows it lists."""
    checked = 0
    for m in services.METRICS:
        src = services.SOURCES[m.source]
        drills = [services.Drill(m.key), services.Drill(m.key, month=scope.labels[-1])]
        for dim in src.dims:
            drills += [services.Drill(m.key, dim=dim, value=row["value"] or "")
                       for row in services.breakdown(scope, dim, [m.key])]
        for d in drills:
            total = summary.drill_total(scope, d)
            if total is not None:
                q = services.drill_query(scope, d)
                assert total == db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery())), d
                checked += 1
    assert checked > 100


def test_figures_from_the_summary_equal_the_raw_rows_after_every_kind_of_write(ctx, city, world):
    ent, ent_b, bank = world.enterprise, world.enterprise_b, world.bank
    # Demands created, submitted, published, withdrawn.
    d1 = demands.create_demand(ent, {"title": "锂电池模组产线设备更新", **VALUES})
    demands.act(ent, d1, "submit")
    demands.act(world.city_bureau, d1, "publish")
    d2 = demands.create_demand(ent_b, {"title": "研发中心建设", **VALUES, "purpose": "rnd", "collateral": ["ip"]})
    demands.act(ent_b, d2, "submit")
    demands.act(world.city_bureau, d2, "publish")
    d3 = demands.create_demand(ent, {"title": "流动资金", **VALUES, "purpose": "working_capital"})
    demands.act(ent, d3, "submit")
    demands.act(ent, d3, "withdraw")
    # Offers made, declined, accepted; a deal signed and paid out in two parts.
    taken = offers.bid(bank, d1, terms(amount=Decimal(1200)))
    turned_down = offers.bid(world.other_bank, d1, terms(amount=Decimal(800)))
    offers.reject(ent, turned_down, "利率偏高")
    offers.accept(ent, taken)
    deal = offers.sign(bank, taken, signed_amount=Decimal(1200), signed_on=demands.local_today(),
                       rate=Decimal("4.2"), term_months=36)
    offers.disburse(bank, deal, amount=Decimal(700), disbursed_on=demands.local_today())
    offers.disburse(bank, deal, amount=Decimal(500), disbursed_on=demands.local_today())
    product = factories.make_product(world.other_bank.org)
    application = offers.apply(ent_b, d2, product)
    offers.decline(world.other_bank, application, "抵押物不足")
    offers.bid(world.fund, d2, terms(amount=Decimal(1000), rate=Decimal(0), stake_percent=Decimal(5)))
    # A project with an open problem, and an event held with a meeting's outcome.
    project = factories.make_project(ent.org, progress=45)
    db_session.add(ProgressUpdate(project=project, percent=45, done="设备到货", problems="用电增容未批"))
    event = Event(ref="ev-s1", kind="bank_enterprise_meeting", title="银企对接会", status="published",
                  district="滕州市", date=demands.local_today())
    db_session.add(Meeting(event=event, slot=0, table_no=1, enterprise=ent_b.org, institution=bank.org,
                           is_held=True, intent_amount=Decimal(900), signed_amount=Decimal(400)))
    db_session.commit()
    # History imported from a file.
    report = import_lines([json.dumps(o, ensure_ascii=False) for o in IMPORTED], city=city)
    assert report.ok, report.errors
    # An enterprise moves to another district and changes its size: all its figures move with it.
    ent_b.org.district, ent_b.org.size = "滕州市", "medium"
    db_session.commit()
    # The event is held: its meeting's outcome now counts.
    event.status = "held"
    db_session.commit()

    assert_summary_is_the_raw_count(world.city_bureau)


def test_the_hand_computed_history_reads_the_same_from_the_summary(ctx):
    hist = H.build()
    assert_summary_is_the_raw_count(hist.city_bureau)
    scope = services.scope_for(hist.city_bureau, *H.PERIOD)
    assert services.totals(scope) == H.EXPECTED[None]


def test_a_rolled_back_write_leaves_the_summary_as_it_was(ctx, world):
    d = factories.make_demand(world.enterprise.org, status="published")
    before = lines()
    offers.bid(world.bank, d, terms())
    assert lines() != before
    after_bid = lines()
    d.amount = Decimal(99999)
    db_session.flush()
    db_session.rollback()
    assert lines() == after_bid
    assert_summary_is_the_raw_count(world.city_bureau)


def test_the_rebuild_command_recounts_rows_written_around_the_application(app, ctx, world):
    d = factories.make_demand(world.enterprise.org, status="published")
    # A row written with plain SQL, as a bulk load would: the summary does not see it...
    db_session.execute(sa.update(type(d)).where(type(d).id == d.id).values(amount=Decimal(7777)))
    db_session.commit()
    scope = services.scope_for(world.city_bureau)
    assert services.totals(scope)["amount_published"] != services.totals(scope, raw=True)["amount_published"]
    # ...until the command rebuilds it.
    result = app.test_cli_runner().invoke(args=["report", "rebuild-summary", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["lines"] == len(lines()) > 0
    assert services.totals(scope)["amount_published"] == Decimal(7777)


@pytest.mark.parametrize("district", [None, "滕州市"])
def test_an_empty_platform_reads_zeros_from_an_empty_summary(ctx, world, district):
    scope = services.scope_for(world.city_bureau, district=district)
    assert lines() == {}
    data = services.console(scope)
    assert data == services.console(scope, raw=True)
    assert data["is_empty"] and data["totals"]["amount_offered"] == 0 and data["events"] == []



def test_the_demo_world_is_counted_as_it_is_seeded(ctx, city):
    from matchmaker.demo.services import seed_demo

    assert seed_demo(city, seed=3, enterprises=12) is not None
    kept = lines()
    assert any(k[0] == "offers_made" for k in kept)
    summary.rebuild()
    assert lines() == kept
    db_session.rollback()
