"""Product supermarket pages: public browsing and product pages, institutions' own products."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload

from matchmaker import search_pages
from matchmaker.catalog import services
from matchmaker.catalog.forms import ProductForm
from matchmaker.catalog.records import response_record
from matchmaker.catalog.services import ProductError, ProductFilters
from matchmaker.extensions import search_limit
from matchmaker.pagination import page_arg
from matchmaker.permissions import can_edit, get_visible_or_404, role_required
from models import OrgKind, Product, db_session
from search.documents import ANY

bp = Blueprint("catalog", __name__)
INSTITUTIONS = (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)
PER_PAGE = 20


def _city():
    return current_app.extensions["city"]


# The supermarket's facet filters; a product that names no district (cluster, size, purpose) serves them all.
PRODUCT_KEYS = ("kind", "district", "cluster", "size", "purpose", "collateral", "tag")
SERVES_ALL = ("district", "cluster", "size", "purpose")


def _clean_filters(filters: ProductFilters):
    """The chosen filters as the index holds them: unknown values dropped (as before), 不限 added where it serves."""

    def widen(_chosen: dict) -> dict:
        out = {}
        for key in PRODUCT_KEYS:
            value = getattr(filters, key)
            if value is not None:
                out[key] = [value, ANY] if key in SERVES_ALL else [value]
        return out

    return widen


@bp.route("/products/")
@search_limit
def index():
    filters = ProductFilters.from_args(request.args, _city())
    if filters.org_kind:
        # The index does not know the institution's kind: that one filter is answered by the database.
        page = page_arg()
        rows, total = services.browse(filters, page=page, per_page=PER_PAGE)
        listing = search_pages.Listing(rows, total, page, PER_PAGE, text=filters.q or "",
                                       sort=request.args.get("sort") or "relevance")
    else:
        listing = search_pages.run(
            request.args, doc_type="product", model=Product, keys=PRODUCT_KEYS, facets=PRODUCT_KEYS,
            extra=("amount", "org_kind"), fixed={"status": "active"}, widen=_clean_filters(filters),
            ranges={"amount": (filters.amount, filters.amount)} if filters.amount is not None else {},
            fallback=lambda page, per_page: services.browse(filters, page=page, per_page=per_page),
            options=[joinedload(Product.org)], per_page=PER_PAGE,
        )
        listing.widened = SERVES_ALL
    return render_template("catalog/index.html", listing=listing, rows=listing.rows, filters=filters,
                           tags=services.SUGGESTED_TAGS)


@bp.route("/products/<ref>")
def product(ref):
    item = db_session.scalar(sa.select(Product).where(Product.ref == ref))
    if item is None or not services.visible_to(current_user, item):
        abort(404)
    editable = current_user.is_authenticated and can_edit(current_user, item)
    return render_template("catalog/product.html", product=item, record=response_record(item.org),
                           editable=editable, action_form=FlaskForm())


@bp.route("/my-products")
@role_required(*INSTITUTIONS)
def mine():
    return render_template("catalog/mine.html", rows=services.products_of(current_user.org), action_form=FlaskForm())


@bp.route("/my-products/new", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def new():
    form = ProductForm(current_user.org.kind)
    if form.validate_on_submit():
        try:
            item = services.create_product(current_user, form.values(), city=_city())
        except ProductError as e:
            form.attach(e.problems)
        else:
            flash(f"已发布产品「{item.name}」。", "success")
            return redirect(url_for("catalog.product", ref=item.ref))
    return render_template("catalog/form.html", form=form, product=None)


def _own_product_or_404(ref) -> Product:
    item = get_visible_or_404(Product, ref)
    # Another institution's product is outside this user's scope: 404, as for any object.
    if not can_edit(current_user, item):
        abort(404)
    return item


@bp.route("/my-products/<ref>/edit", methods=["GET", "POST"])
@role_required(*INSTITUTIONS)
def edit(ref):
    item = _own_product_or_404(ref)
    form = ProductForm(current_user.org.kind, obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.stage.data = item.stage.value if item.stage else ""
    if form.validate_on_submit():
        try:
            services.update_product(current_user, item, form.values(), city=_city())
        except ProductError as e:
            form.attach(e.problems)
        else:
            flash("产品已保存。", "success")
            return redirect(url_for("catalog.product", ref=item.ref))
    return render_template("catalog/form.html", form=form, product=item)


@bp.route("/my-products/<ref>/status", methods=["POST"])
@role_required(*INSTITUTIONS)
def status(ref):
    item = _own_product_or_404(ref)
    form = FlaskForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in services.TRANSITIONS:
        abort(400)
    try:
        services.change_status(current_user, item, action)
    except ProductError as e:
        flash(str(e), "danger")
    else:
        flash({"pause": "产品已暂停，超市中暂不展示。", "resume": "产品已恢复在售。",
               "retire": "产品已下架。"}[action], "success")
    # Back to the page the button was on (never to an address taken from the form).
    if request.form.get("back") == "product":
        return redirect(url_for("catalog.product", ref=item.ref))
    return redirect(url_for("catalog.mine"))
