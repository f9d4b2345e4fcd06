"""Demand pages: the enterprise's demands, the bureau's review and push lists, the institutions' pool and inbox."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from matchmaker import search_pages
from matchmaker.demands import services
from matchmaker.demands.forms import ActionForm, BanksForm, BatchForm, BatchItemForm, DemandForm
from matchmaker.demands.reveal import enterprise_card, enterprise_cards
from matchmaker.demands.subsidy import equipment_subsidy, interest_subsidy
from matchmaker.extensions import search_limit
from matchmaker.permissions import can_edit, get_visible_or_404, role_required
from matchmaker.projects.services import projects_of
from matchmaker.ranking.data import products_for_demand_page
from matchmaker.search_cli import sync_now
from models import (
    Collateral,
    Demand,
    FinancingType,
    Organization,
    OrgKind,
    Purpose,
    PushBatch,
    TechProject,
    db_session,
)
from search.documents import AMOUNT_BANDS

bp = Blueprint("demands", __name__, url_prefix="/demands")
E, B, F, G, U = OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR, OrgKind.BUREAU


def _banks_by_ref(refs) -> list[Organization]:
    if not refs:
        return []
    return list(db_session.scalars(sa.select(Organization).where(Organization.ref.in_(refs))))


def _project_by_ref(ref) -> TechProject | None:
    if not ref:
        return None
    project = get_visible_or_404(TechProject, ref)
    if project.org_id != current_user.org_id:
        abort(404)
    return project


# --- the enterprise ------------------------------------------------------------------------------


@bp.route("/mine")
@role_required(E)
def mine():
    return render_template("demands/mine.html", demands=services.demands_of(current_user.org))


@bp.route("/new", methods=["GET", "POST"])
@role_required(E)
def new():
    org = current_user.org
    form = DemandForm(projects=projects_of(org), banks=services.bank_options())
    if request.method == "GET":
        form.valid_until.data = services.default_valid_until()
        form.contact_name.data, form.contact_phone.data = org.contact_name, org.contact_phone
        form.project.data = request.args.get("project", "")
    if form.validate_on_submit():
        try:
            demand = services.create_demand(current_user, form.values(), project=_project_by_ref(form.project.data))
            if form.banks.data:
                services.set_intended_banks(current_user, demand, _banks_by_ref(form.banks.data))
        except services.DemandError as e:
            flash(str(e), "danger")
        else:
            flash("需求已保存为草稿，确认无误后请提交审核。", "success")
            return redirect(url_for("demands.detail", ref=demand.ref))
    return render_template("demands/form.html", form=form, demand=None)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@role_required(E)
def edit(ref):
    demand = get_visible_or_404(Demand, ref)
    if not can_edit(current_user, demand):
        flash("需求当前状态不能修改。", "warning")
        return redirect(url_for("demands.detail", ref=ref))
    form = DemandForm(obj=demand, projects=projects_of(current_user.org), banks=services.bank_options())
    if request.method == "GET":
        form.project.data = demand.project.ref if demand.project else ""
        form.banks.data = [r.org.ref for r in demand.intended_banks]
    if form.validate_on_submit():
        try:
            services.update_demand(current_user, demand, form.values(), project=_project_by_ref(form.project.data))
            services.set_intended_banks(current_user, demand, _banks_by_ref(form.banks.data))
        except services.DemandError as e:
            flash(str(e), "danger")
        else:
            flash("需求已保存。", "success")
            return redirect(url_for("demands.detail", ref=demand.ref))
    return render_template("demands/form.html", form=form, demand=demand)


# --- every role that may see a demand ------------------------------------------------------------


def _rate_for_estimate(demand: Demand) -> Decimal | None:
    raw = request.args.get("rate")
    if raw:
        try:
            rate = Decimal(raw)
            if 0 < rate <= 36:
                return rate
        except InvalidOperation:
            pass
    return demand.max_rate


@bp.route("/<ref>")
@login_required
def detail(ref):
    services.expire_demands()
    demand = get_visible_or_404(Demand, ref)
    policy = current_app.extensions["city"].policy
    owner = services.is_owner(current_user, demand)
    bureau = services.in_bureau_scope(current_user, demand)
    rate = _rate_for_estimate(demand)
    estimates = []
    if demand.project is not None:
        estimates.append(equipment_subsidy(demand.project.equipment_investment, demand.purpose, policy))
    if rate is not None:
        estimates.append(interest_subsidy(demand.amount, rate, demand.term_months, demand.purpose, policy))
    return render_template(
        "demands/detail.html", demand=demand, card=enterprise_card(current_user, demand),
        offers=_offers_context(demand, owner, bureau),
        owner=owner, bureau=bureau, actions=services.allowed_actions(current_user, demand),
        action_form=ActionForm(), banks_form=BanksForm(banks=services.bank_options()),
        can_edit=can_edit(current_user, demand), estimates=estimates, rate=rate,
        # The project's details are the enterprise's and its bureau's; others get the demand only.
        show_project=owner or bureau, banks_limit=services.banks_limit(),
        show_recommendations=owner and demand.status == "published",
        recs=products_for_demand_page(demand) if owner and demand.status == "published" else None,
    )


def _offers_context(demand: Demand, owner: bool, bureau: bool) -> dict:
    """What the demand page shows of the offers domain: places left, the user's own offer, event outcomes."""
    from matchmaker.offers import services as offers
    from models import Product, ProductStatus

    offers.expire_offers()
    org = current_user.org
    ctx = {"places": offers.places_left(demand), "limit": offers.offer_limit(), "mine": None, "list": [],
           "products": [], "meetings": []}
    if org.is_institution:
        ctx["mine"] = offers.active_offer_of(demand, org)
    if owner or bureau:
        ctx["list"] = offers.offers_of_demand(demand)
        ctx["meetings"] = offers.event_meetings_for(demand)
    if owner and demand.status in offers.OPEN_FOR_OFFERS:
        ctx["products"] = list(db_session.scalars(
            sa.select(Product).join(Product.org)
            .where(Product.status == ProductStatus.ACTIVE, Organization.status == "approved",
                   Product.kind.in_(demand.financing_types or ["loan"]))
            .order_by(Organization.name, Product.name).limit(100)))
    return ctx


@bp.route("/<ref>/action", methods=["POST"])
@login_required
def action(ref):
    demand = get_visible_or_404(Demand, ref)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        t = services.TRANSITION_BY_ACTION.get(form.action.data)
        services.act(current_user, demand, form.action.data, form.note.data)
        flash(f"已{t.verb}。", "success")
    except services.DemandError as e:
        flash(str(e), "danger")
    if current_user.org.kind == U and form.action.data in ("publish", "return"):
        return redirect(url_for("demands.review"))
    return redirect(url_for("demands.detail", ref=ref))


@bp.route("/<ref>/banks", methods=["POST"])
@role_required(E, U)
def banks(ref):
    demand = get_visible_or_404(Demand, ref)
    if not (services.is_owner(current_user, demand) or services.in_bureau_scope(current_user, demand)):
        abort(403)
    form = BanksForm(banks=services.bank_options())
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_intended_banks(current_user, demand, _banks_by_ref(form.banks.data))
        flash("意向银行已保存。", "success")
    except services.DemandError as e:
        flash(str(e), "danger")
    # Back to the push list it was set from; only our own pages, never an outside address.
    nxt = request.form.get("next") or ""
    return redirect(nxt if nxt.startswith("/demands/batches/") else url_for("demands.detail", ref=ref))


# --- institutions --------------------------------------------------------------------------------


# The pool's facet filters; amount and term ranges are read by PoolFilters (a bad number is ignored).
POOL_KEYS = ("district", "cluster", "purpose", "financing_type", "collateral", "amount_band")
POOL_RANGES = ("amount_min", "amount_max", "term_min", "term_max")


@bp.route("/pool")
@search_limit
@role_required(B, F, G, U)
def pool():
    from matchmaker.offers.services import places_left_many

    if services.expire_demands():
        sync_now()  # expired demands leave the index before this page searches it
    filters = services.PoolFilters.from_args(request.args)
    listing = search_pages.run(
        request.args, doc_type="demand", model=Demand, keys=POOL_KEYS, facets=POOL_KEYS, extra=POOL_RANGES,
        # The pool is published demands only, whoever looks: drafts and returned ones are the enterprise's.
        fixed={"status": "published"},
        ranges={"amount": (filters.amount_min, filters.amount_max), "term": (filters.term_min, filters.term_max)},
        fallback=lambda page, per_page: services.pool_page(filters, page, per_page),
        options=[joinedload(Demand.org)],
    )
    cards = enterprise_cards(current_user, listing.rows)
    return render_template("demands/pool.html", listing=listing, rows=listing.rows, cards=cards,
                           places=places_left_many([d.id for d in listing.rows]),
                           filters=filters, purposes=list(Purpose), financing_types=list(FinancingType),
                           collaterals=list(Collateral), amount_bands=[name for _, name in AMOUNT_BANDS])


@bp.route("/inbox")
@role_required(B)
def inbox():
    return render_template("demands/inbox.html", batches=services.inbox(current_user.org))


@bp.route("/inbox/<ref>")
@role_required(B)
def inbox_batch(ref):
    batch = db_session.scalar(sa.select(PushBatch).where(PushBatch.ref == ref))
    if batch is None or batch not in services.inbox(current_user.org):
        abort(404)
    demands = services.items_for_bank(batch, current_user.org)
    return render_template("demands/inbox_batch.html", batch=batch, demands=demands,
                           cards={d.id: enterprise_card(current_user, d) for d in demands})


# --- the bureau ----------------------------------------------------------------------------------


@bp.route("/review")
@role_required(U)
def review():
    return render_template("demands/review.html", demands=services.review_queue(current_user),
                           action_form=ActionForm())


@bp.route("/batches", methods=["GET", "POST"])
@role_required(U)
def batches():
    form = BatchForm()
    if form.validate_on_submit():
        try:
            batch = services.create_batch(current_user, form.title.data)
        except services.DemandError as e:
            form.title.errors = [str(e)]
        else:
            return redirect(url_for("demands.batch", ref=batch.ref))
    return render_template("demands/batches.html", batches=services.batches_of(current_user), form=form)


def _own_batch(ref) -> PushBatch:
    batch = db_session.scalar(sa.select(PushBatch).where(PushBatch.ref == ref))
    if batch is None or batch.bureau_id != current_user.org_id:
        abort(404)
    return batch


@bp.route("/batches/<ref>", methods=["GET", "POST"])
@role_required(U)
def batch(ref):
    batch = _own_batch(ref)
    form = BatchItemForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            if form.op.data == "push":
                banks = services.push_batch(current_user, batch)
                flash(f"清单已推送给 {len(banks)} 家银行。", "success")
            else:
                demand = get_visible_or_404(Demand, form.demand.data or "")
                if form.op.data == "add":
                    services.add_to_batch(current_user, batch, demand)
                elif form.op.data == "remove":
                    services.remove_from_batch(current_user, batch, demand)
                else:
                    abort(400)
        except services.DemandError as e:
            flash(str(e), "danger")
        return redirect(url_for("demands.batch", ref=ref))
    return render_template(
        "demands/batch.html", batch=batch, form=form, candidates=services.batch_candidates(current_user, batch),
        banks_form=BanksForm(banks=services.bank_options()), banks_limit=services.banks_limit(),
        recipients=services.batch_banks(batch),
    )
