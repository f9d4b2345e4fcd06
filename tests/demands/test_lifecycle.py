"""The demand life cycle: every transition of the table, every illegal one refused, expiry, history and audit."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from matchmaker.demands import services
from matchmaker.demands.services import TRANSITIONS, DemandError
from models import AuditEntry, DemandHistory, DemandStatus, db_session
from tests import factories

ALL = list(DemandStatus)
ILLEGAL = [(t.action, s) for t in TRANSITIONS for s in ALL if s not in t.sources]
LEGAL = [(t.action, s) for t in TRANSITIONS for s in sorted(t.sources)]


def run(world, demand, action, note="理由"):
    """Do `action` as whoever the table allows, so only the state decides."""
    t = services.TRANSITION_BY_ACTION[action]
    if action == "reopen" and demand.published_at is None:
        # Only a demand that was reviewed and published once goes back to the pool.
        demand.published_at = datetime(2026, 1, 5, 9)
        db_session.commit()
    if services.SYSTEM in t.who:
        return services._system(action, demand, None, note)
    actor = world.enterprise if services.OWNER in t.who else world.district_bureau
    return services.act(actor, demand, action, note)


@pytest.mark.parametrize(("action", "status"), LEGAL)
def test_every_transition_of_the_table_works_and_is_recorded(world, action, status):
    demand = factories.make_demand(world.enterprise.org, status=status)
    run(world, demand, action)
    t = services.TRANSITION_BY_ACTION[action]
    assert demand.status == t.target
    h = db_session.scalars(sa.select(DemandHistory).where(DemandHistory.demand_id == demand.id)).one()
    assert (h.from_status, h.to_status, h.action) == (status, t.target, action)
    audit = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.object_ref == demand.ref)).one()
    assert audit.action == f"demand.{action}" and audit.details["to"] == t.target


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_every_illegal_transition_is_refused_with_a_message(world, action, status):
    demand = factories.make_demand(world.enterprise.org, status=status)
    with pytest.raises(DemandError) as e:
        run(world, demand, action)
    assert "不能" in str(e.value)
    db_session.rollback()
    db_session.refresh(demand)
    assert demand.status == status
    assert db_session.scalar(sa.select(sa.func.count(DemandHistory.id))) == 0


@pytest.mark.parametrize(("role", "action", "status"), [
    ("enterprise_b", "submit", "draft"),            # another enterprise
    ("bank", "withdraw", "published"),
    ("enterprise", "publish", "submitted"),         # an enterprise cannot publish its own demand
    ("other_district_bureau", "publish", "submitted"),  # another district's bureau
    ("district_bureau", "submit", "draft"),
    ("enterprise", "match", "published"),           # matched/signed/funded come from the offers, not users
    ("city_bureau", "fund", "signed"),
])
def test_only_the_right_party_may_act(world, role, action, status):
    demand = factories.make_demand(world.enterprise.org, status=status)
    with pytest.raises(DemandError):
        services.act(getattr(world, role), demand, action, "x")


def test_city_bureau_may_publish_any_district(world):
    demand = factories.make_demand(world.enterprise.org, status="submitted")
    services.act(world.city_bureau, demand, "publish")
    assert demand.status == "published" and demand.published_at is not None


def test_return_needs_a_reason_and_resubmission_clears_it(world):
    demand = factories.make_demand(world.enterprise.org, status="submitted")
    with pytest.raises(DemandError, match="退回理由"):
        services.act(world.district_bureau, demand, "return", "  ")
    services.act(world.district_bureau, demand, "return", "金额与项目投资不符")
    assert demand.status == "returned" and demand.return_reason == "金额与项目投资不符"
    services.act(world.enterprise, demand, "submit")
    assert demand.status == "submitted" and demand.return_reason is None


def test_offers_drive_matched_signed_funded(world):
    demand = factories.make_demand(world.enterprise.org, status="published")
    services.mark_matched(demand, world.bank, "接受了银行方案")
    services.mark_signed(demand)
    services.mark_funded(demand)
    assert demand.status == "funded"
    assert [h.to_status for h in demand.history] == ["matched", "signed", "funded"]


def test_expiry_by_service_by_command_and_when_the_pool_is_read(app, world, login_as):
    today = date.today()
    old = factories.make_demand(world.enterprise.org, status="published", valid_until=today - timedelta(days=2))
    fresh = factories.make_demand(world.enterprise.org, status="published", valid_until=today + timedelta(days=30))
    draft = factories.make_demand(world.enterprise.org, status="draft", valid_until=today - timedelta(days=2))
    # Nothing is due yet a week earlier.
    assert services.expire_demands(datetime.now() - timedelta(days=7)) == 0
    # Read lazily: the bank's pool no longer lists it, and it is expired in the database.
    pool = login_as(world.bank).get("/demands/pool").text
    assert old.title not in pool and fresh.title in pool
    db_session.refresh(old)
    assert old.status == "expired" and draft.status == "draft"
    assert old.history[-1].action == "expire" and old.history[-1].user_id is None

    other = factories.make_demand(world.enterprise.org, status="submitted", valid_until=today - timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["demands", "expire", "--json"], catch_exceptions=False)
    assert result.exit_code == 0 and '"expired": 1' in result.stdout
    db_session.refresh(other)
    assert other.status == "expired"


def test_an_expired_draft_cannot_be_submitted_until_its_date_is_moved(world):
    demand = factories.make_demand(world.enterprise.org, status="draft", valid_until=date.today() - timedelta(days=1))
    with pytest.raises(DemandError, match="有效期已过"):
        services.act(world.enterprise, demand, "submit")


def test_published_demand_cannot_be_edited(world, login_as):
    demand = factories.make_demand(world.enterprise.org, status="published")
    resp = login_as(world.enterprise).get(f"/demands/{demand.ref}/edit", follow_redirects=True)
    assert "需求当前状态不能修改" in resp.text


def test_valid_until_defaults_from_the_city_configuration(world, city):
    demand = services.create_demand(world.enterprise, {
        "title": "流动资金", "description": "采购原材料", "amount": 100, "term_months": 12,
        "purpose": "working_capital", "financing_types": ["loan"], "collateral": ["none"]})
    assert demand.valid_until == services.local_today() + timedelta(days=city.policy["demand_valid_days"])
    assert [h.to_status for h in demand.history] == ["draft"]


def test_publishing_tells_institutions_whose_saved_searches_match(world):
    from models import Notification, SavedSearch

    db_session.add_all([SavedSearch(org_id=world.bank.org_id, user_id=world.bank.id, name="滕州技改",
                                    filters={"district": "滕州市", "purpose": "smart_upgrade"}),
                        SavedSearch(org_id=world.other_bank.org_id, user_id=world.other_bank.id, name="薛城",
                                    filters={"district": "薛城区"})])
    db_session.commit()
    demand = factories.make_demand(world.enterprise.org, status="submitted")
    services.act(world.district_bureau, demand, "publish")
    rows = db_session.scalars(sa.select(Notification)).all()
    assert [(n.user_id, n.kind, n.link) for n in rows] == [(world.bank.id, "saved_search.match",
                                                            f"/demands/{demand.ref}")]
    assert "“滕州技改”" in rows[0].body
