"""Offer pages: applying to a product, bidding from the pool, answering, comparing and accepting, deals."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from matchmaker.catalog.records import response_record
from matchmaker.demands import services as demands
from matchmaker.demands.reveal import enterprise_card
from matchmaker.offers import services
from matchmaker.offers.forms import ApplyForm, DisburseForm, OfferForm, ReasonForm, SignForm
from matchmaker.offers.services import OfferError
from matchmaker.permissions import can_view, get_visible_or_404, role_required
from models import Demand, Offer, OfferStatus, OrgKind, Product, ProductStatus, db_session

bp = Blueprint("offers", __name__, url_prefix="/offers")
E, B, F, G, U = OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR, OrgKind.BUREAU
INSTITUTIONS = (B, F, G)


def _attach(form, e: OfferError) -> None:
    """Each message next to its field; the rest at the top of the page. Nothing typed is lost."""
    db_session.rollback()
    for name, message in e.problems.items():
        f = getattr(form, name, None) if name else None
        if f is not None and hasattr(f, "errors"):
            f.errors = [*(f.errors or []), message]
        else:
            flash(message, "danger")


def _own_products(kinds=None) -> list[Product]:
    q = sa.select(Product).where(Product.org_id == current_user.org_id, Product.status == ProductStatus.ACTIVE)
    if kinds:
        q = q.where(Product.kind.in_(kinds))
    return list(db_session.scalars(q.order_by(Product.name)))


def _product_by_ref(ref) -> Product | None:
    if not ref:
        return None
    product = db_session.scalar(sa.select(Product).where(Product.ref == ref))
    if product is None:
        abort(404)
    return product


# --- lists ----------------------------------------------------------------------------------------


@bp.route("/")
@role_required(E, B, F, G)
def mine():
    services.expire_due()
    org = current_user.org
    rows = services.offers_for_enterprise(org) if org.kind == E else services.offers_of_org(org)
    return render_template("offers/mine.html", rows=rows, enterprise=org.kind == E, services=services)


@bp.route("/overdue")
@role_required(U)
def overdue():
    rows = services.overdue_applications(current_user)
    return render_template("offers/overdue.html", rows=rows, services=services)


# --- the enterprise applies to a product ---------------------------------------------------------


@bp.route("/apply", methods=["GET", "POST"])
@role_required(E)
def apply():
    product = _product_by_ref(request.values.get("product"))
    if product is None or not product.is_active:
        abort(404)
    published = [d for d in demands.demands_of(current_user.org) if d.status in services.OPEN_FOR_OFFERS]
    form = ApplyForm(demands=published)
    if request.method == "GET":
        form.demand.data = request.args.get("demand", "")
        form.product.data = product.ref
    if form.validate_on_submit():
        demand = get_visible_or_404(Demand, form.demand.data)
        try:
            offer = services.apply(current_user, demand, product, form.note.data)
        except OfferError as e:
            _attach(form, e)
        else:
            flash(f"已向{product.org.name}提交申请，机构须在 {offer.deadline_at:%Y-%m-%d} 前答复。", "success")
            return redirect(url_for("offers.detail", ref=offer.ref))
    return render_template("offers/apply.html", form=form, product=product, demands=published)


# --- an institution bids from the pool -----------------------------------------------------------


@bp.route("/new/<demand_ref>", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def new(demand_ref):
    services.expire_due()
    demand = get_visible_or_404(Demand, demand_ref)
    kinds = services.KINDS_BY_ORG[current_user.org.kind]
    form = OfferForm(products=_own_products(kinds), kinds=kinds)
    if request.method == "GET":
        form.term_months.data = demand.term_months
        form.amount.data = demand.amount
    if form.validate_on_submit():
        try:
            offer = services.bid(current_user, demand, form.values(), product=_product_by_ref(form.product.data),
                                 kind=form.kind.data or None)
        except OfferError as e:
            _attach(form, e)
        else:
            flash("方案已提交，等待企业确认。", "success")
            return redirect(url_for("offers.detail", ref=offer.ref))
    return render_template("offers/form.html", form=form, demand=demand, card=enterprise_card(current_user, demand),
                           places=services.places_left(demand), offer=None)


# --- one offer ------------------------------------------------------------------------------------


def _detail(offer: Offer, *, answer_form=None, reason_form=None, sign_form=None, disburse_form=None):
    demand = offer.demand
    institution = services.is_institution(current_user, offer)
    if answer_form is None and institution and offer.status == OfferStatus.REQUESTED:
        answer_form = OfferForm(products=[offer.product] if offer.product else [], kinds=[offer.kind])
        answer_form.term_months.data = answer_form.term_months.data or demand.term_months
    deal = offer.deal
    return render_template(
        "offers/detail.html", offer=offer, demand=demand, card=enterprise_card(current_user, demand),
        owner=services.is_demand_owner(current_user, offer), institution=institution,
        days_left=services.days_left(offer), overdue=services.is_overdue(offer),
        answer_form=answer_form, reason_form=reason_form or ReasonForm(),
        sign_form=sign_form or _sign_form(offer), disburse_form=disburse_form or DisburseForm(),
        deal=deal, deal_subsidy=services.subsidy_at(deal, demand) if deal else None,
        offer_subsidy=services.subsidy_at(offer, demand), status_label=services.STATUS_LABELS,
    )


def _sign_form(offer: Offer) -> SignForm:
    form = SignForm()
    if not form.is_submitted():
        form.signed_amount.data, form.rate.data, form.term_months.data = offer.amount, offer.rate, offer.term_months
        form.signed_on.data = demands.local_today()
    return form


@bp.route("/<ref>")
@login_required
def detail(ref):
    services.expire_due()
    return _detail(get_visible_or_404(Offer, ref))


@bp.route("/<ref>/answer", methods=["POST"])
@role_required(*INSTITUTIONS)
def answer(ref):
    offer = get_visible_or_404(Offer, ref)
    if not services.is_institution(current_user, offer):
        abort(403)
    form = OfferForm(products=[offer.product] if offer.product else [], kinds=[offer.kind])
    if form.validate_on_submit():
        try:
            services.answer(current_user, offer, form.values())
        except OfferError as e:
            _attach(form, e)
        else:
            flash("方案已提交，等待企业确认。", "success")
            return redirect(url_for("offers.detail", ref=ref))
    return _detail(offer, answer_form=form)


@bp.route("/<ref>/revise", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def revise(ref):
    """The institution changes the terms of its offer while the enterprise has not decided."""
    services.expire_due()
    offer = get_visible_or_404(Offer, ref)
    if not services.is_institution(current_user, offer):
        abort(403)
    form = OfferForm(products=[], kinds=[offer.kind])
    if request.method == "GET":
        for key in services.REVISABLE_FIELDS:
            getattr(form, key).data = getattr(offer, key)
    if offer.status != OfferStatus.SUBMITTED:
        flash(f"该方案当前为“{services.STATUS_LABELS[offer.status]}”，不能修改。", "warning")
        return redirect(url_for("offers.detail", ref=ref))
    if form.validate_on_submit():
        try:
            services.revise(current_user, offer, form.values())
        except OfferError as e:
            _attach(form, e)
        else:
            flash("方案条款已修改，企业已收到通知。", "success")
            return redirect(url_for("offers.detail", ref=ref))
    demand = offer.demand
    return render_template("offers/form.html", form=form, demand=demand, card=enterprise_card(current_user, demand),
                           places=None, offer=offer)


ACTIONS = {"decline": services.decline, "withdraw": services.withdraw, "cancel": services.cancel,
           "accept": services.accept, "reject": services.reject}
DONE = {"decline": "已拒绝该申请。", "withdraw": "方案已撤回。", "cancel": "申请已撤销。",
        "accept": "已接受该方案，机构将与您联系办理签约。", "reject": "已婉拒该方案。"}


@bp.route("/<ref>/<action>", methods=["POST"])
@login_required
def act(ref, action):
    if action not in ACTIONS:
        abort(404)
    offer = get_visible_or_404(Offer, ref)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action in ("cancel", "accept"):
            ACTIONS[action](current_user, offer)
        else:
            ACTIONS[action](current_user, offer, form.reason.data)
    except OfferError as e:
        _attach(form, e)
        if form.reason.errors:
            return _detail(offer, reason_form=form)
    else:
        flash(DONE[action], "success")
    back = request.form.get("back")
    if back == "compare" and services.is_demand_owner(current_user, offer):
        return redirect(url_for("offers.compare", demand_ref=offer.demand.ref))
    return redirect(url_for("offers.detail", ref=ref))


@bp.route("/<ref>/sign", methods=["POST"])
@role_required(*INSTITUTIONS)
def sign(ref):
    offer = get_visible_or_404(Offer, ref)
    form = SignForm()
    if form.validate_on_submit():
        try:
            services.sign(current_user, offer, signed_amount=form.signed_amount.data, signed_on=form.signed_on.data,
                          rate=form.rate.data, term_months=form.term_months.data)
        except OfferError as e:
            _attach(form, e)
        else:
            flash("签约已登记。", "success")
            return redirect(url_for("offers.detail", ref=ref))
    return _detail(offer, sign_form=form)


@bp.route("/<ref>/disburse", methods=["POST"])
@role_required(*INSTITUTIONS)
def disburse(ref):
    offer = get_visible_or_404(Offer, ref)
    if offer.deal is None:
        abort(404)
    form = DisburseForm()
    if form.validate_on_submit():
        try:
            services.disburse(current_user, offer.deal, amount=form.amount.data, disbursed_on=form.disbursed_on.data)
        except OfferError as e:
            _attach(form, e)
        else:
            flash("放款已登记。", "success")
            return redirect(url_for("offers.detail", ref=ref))
    return _detail(offer, disburse_form=form)


# --- the enterprise compares its offers ----------------------------------------------------------


@bp.route("/compare/<demand_ref>")
@role_required(E, U)
def compare(demand_ref):
    services.expire_due()
    demand = get_visible_or_404(Demand, demand_ref)
    if not (demands.is_owner(current_user, demand) or demands.in_bureau_scope(current_user, demand)):
        abort(404)
    offers = [o for o in services.offers_of_demand(demand) if can_view(current_user, o)]
    records = {o.org_id: response_record(o.org) for o in offers}
    funding, guarantee = services.accepted_totals(demand)
    return render_template(
        "offers/compare.html", demand=demand, offers=offers, records=records,
        subsidies={o.id: services.subsidy_at(o, demand) for o in offers},
        funding=funding, guarantee=guarantee, owner=demands.is_owner(current_user, demand),
        places=services.places_left(demand), limit=services.offer_limit(), days_left=services.days_left,
        status_label=services.STATUS_LABELS, reason_form=ReasonForm(),
        policy=current_app.extensions["city"].policy,
    )
