"""SKU mapping per store: Amazon seller SKU -> Commerce catalog SKU (ASC's listing match).

Without a mapping the importer uses the seller SKU itself, so a missing mapping is the usual cause of
"Cannot create sales order: Product ... does not exist". Adding the mapping from such an order offers to
retry it (and the store's other orders stuck on the same SKU) at once. Operators and admins edit.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from bridge.domain import ImportState
from bridge.storage.models import AmazonOrderRecord, Role, SkuMapping, Store

from .auth import require_role
from .banners import selected_store
from .catalog import CatalogUnavailable, product_missing, search_products
from .extensions import db
from .orders import positive_int, request_retry

bp = Blueprint("sku", __name__)

PER_PAGE = 50
SKU_RE = re.compile(r"^\S(?:.*\S)?$")


class SkuForm(FlaskForm):
    seller_sku = StringField("Amazon Seller SKU", validators=[DataRequired(), Length(max=255)])
    catalog_sku = StringField("Magento Catalog SKU", validators=[DataRequired(), Length(max=255)])
    order = HiddenField()

    def validate_seller_sku(self, field: StringField) -> None:
        if not SKU_RE.match(field.data or ""):
            raise ValidationError("No leading or trailing spaces.")

    def validate_catalog_sku(self, field: StringField) -> None:
        if not SKU_RE.match(field.data or ""):
            raise ValidationError("No leading or trailing spaces.")


def orders_stuck_on(store: Store, seller_sku: str, limit: int = 200, before: str = "") -> list[AmazonOrderRecord]:
    """The store's orders in error whose error names this seller SKU (ASC's `Product "X" does not exist`), or
    the catalog SKU it was mapped to `before` an edit."""
    names = [seller_sku] + ([before] if before and before != seller_sku else [])
    return list(
        db.session.scalars(
            select(AmazonOrderRecord)
            .where(
                AmazonOrderRecord.store_id == store.id,
                AmazonOrderRecord.import_state == ImportState.ERROR.value,
                or_(*(AmazonOrderRecord.last_error.like(f'%"{name}"%') for name in names)),
            )
            .order_by(AmazonOrderRecord.purchase_date.desc())
            .limit(limit)
        )
    )


@bp.route("/sku")
def choose():
    """The chosen store's SKU mappings (the store switcher picks another)."""
    store = selected_store()
    if store is None:
        from flask import abort

        abort(404, "No Amazon store is connected yet.")
    return redirect(url_for("sku.index", store_code=store.code))


@bp.route("/stores/<store_code>/sku")
def index(store_code: str):
    store = selected_store(store_code)
    assert store is not None
    q = request.args.get("q", "").strip()
    query = select(SkuMapping).where(SkuMapping.store_id == store.id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            func.lower(SkuMapping.seller_sku).like(pattern) | func.lower(SkuMapping.catalog_sku).like(pattern)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(positive_int(request.args.get("page"), 1), pages)
    rows = list(db.session.scalars(query.order_by(SkuMapping.seller_sku).limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return render_template(
        "sku/list.html",
        store=store,
        rows=rows,
        q=q,
        page=page,
        pages=pages,
        total=total,
        can_edit=current_user.can(Role.OPERATOR),
    )


@bp.route("/stores/<store_code>/sku/new", methods=["GET", "POST"])
@require_role(Role.OPERATOR)
def new(store_code: str):
    store = selected_store(store_code)
    assert store is not None
    form = SkuForm()
    if request.method == "GET":
        form.seller_sku.data = request.args.get("seller_sku", "")
        form.order.data = request.args.get("order", "")
        exists = _mapping_of(store, form.seller_sku.data or "")
        if exists is not None:  # from an order in error: open the mapping that points at a missing product
            return redirect(
                url_for("sku.edit", store_code=store.code, mapping_id=exists.id, order=form.order.data or None)
            )
    if form.validate_on_submit():
        seller_sku = form.seller_sku.data
        exists = _mapping_of(store, seller_sku)
        if exists is not None:
            form.seller_sku.errors = [f"{seller_sku} is mapped already (to {exists.catalog_sku}); edit that mapping."]
        elif _catalog_has(form):
            db.session.add(SkuMapping(store_id=store.id, seller_sku=seller_sku, catalog_sku=form.catalog_sku.data))
            db.session.commit()
            flash(f"Seller SKU {seller_sku} now maps to catalog SKU {form.catalog_sku.data}.", "success")
            return _after_save(store, seller_sku, form.order.data)
    return render_template("sku/edit.html", store=store, form=form, mapping=None), 400 if form.errors else 200


def _mapping_of(store: Store, seller_sku: str) -> SkuMapping | None:
    return db.session.scalar(
        select(SkuMapping).where(SkuMapping.store_id == store.id, SkuMapping.seller_sku == seller_sku)
    )


def _catalog_has(form: SkuForm) -> bool:
    """The target SKU must be a product in Magento's catalog, or the order would fail again on it: a missing
    one is refused with Magento's own words."""
    try:
        missing = product_missing(form.catalog_sku.data)
    except CatalogUnavailable as exc:
        form.catalog_sku.errors = [str(exc)]
        return False
    if missing:
        form.catalog_sku.errors = [f"Magento's catalog has no product {form.catalog_sku.data!r}: {missing}"]
        return False
    return True


def _after_save(store: Store, seller_sku: str, order_id: str | None, before: str = ""):
    stuck = orders_stuck_on(store, seller_sku, before=before)
    if not stuck:
        return redirect(url_for("sku.index", store_code=store.code))
    return render_template(
        "sku/retry.html", store=store, seller_sku=seller_sku, stuck=stuck, origin=order_id or "", before=before
    )


@bp.route("/stores/<store_code>/sku/<int:mapping_id>/edit", methods=["GET", "POST"])
@require_role(Role.OPERATOR)
def edit(store_code: str, mapping_id: int):
    store = selected_store(store_code)
    assert store is not None
    mapping = db.session.get(SkuMapping, mapping_id)
    if mapping is None or mapping.store_id != store.id:
        from flask import abort

        abort(404, "No such SKU mapping.")
    form = SkuForm(obj=mapping)
    if request.method == "GET":
        form.order.data = request.args.get("order", "")
    if form.validate_on_submit() and _catalog_has(form):
        clash = db.session.scalar(
            select(SkuMapping).where(
                SkuMapping.store_id == store.id,
                SkuMapping.seller_sku == form.seller_sku.data,
                SkuMapping.id != mapping.id,
            )
        )
        if clash is not None:
            form.seller_sku.errors = [f"{form.seller_sku.data} is mapped already (to {clash.catalog_sku})."]
        else:
            before = mapping.catalog_sku
            mapping.seller_sku = form.seller_sku.data
            mapping.catalog_sku = form.catalog_sku.data
            db.session.commit()
            flash(f"Seller SKU {mapping.seller_sku} now maps to catalog SKU {mapping.catalog_sku}.", "success")
            return _after_save(store, mapping.seller_sku, form.order.data, before)
    return render_template("sku/edit.html", store=store, form=form, mapping=mapping), 400 if form.errors else 200


@bp.route("/stores/<store_code>/sku/products")
@require_role(Role.OPERATOR)
def products(store_code: str):
    """The product picker's source: Magento products whose SKU or name contains `q` (JSON, as you type)."""
    selected_store(store_code)
    text = request.args.get("q", "").strip()[:64]
    if len(text) < 2:
        return jsonify(products=[], message="Type at least two characters.")
    try:
        found = search_products(text)
    except CatalogUnavailable as exc:
        return jsonify(products=[], message=str(exc)), 503
    return jsonify(
        products=[{"sku": p.sku, "name": p.name} for p in found],
        message="" if found else f"No product in Magento's catalog matches {text!r}.",
    )


@bp.route("/stores/<store_code>/sku/<int:mapping_id>/delete", methods=["POST"])
@require_role(Role.OPERATOR)
def delete(store_code: str, mapping_id: int):
    store = selected_store(store_code)
    assert store is not None
    mapping = db.session.get(SkuMapping, mapping_id)
    if mapping is not None and mapping.store_id == store.id:
        db.session.delete(mapping)
        db.session.commit()
        flash(f"The mapping of seller SKU {mapping.seller_sku} is deleted; that SKU is now used as it is.", "success")
    return redirect(url_for("sku.index", store_code=store.code))


@bp.route("/stores/<store_code>/sku/retry", methods=["POST"])
@require_role(Role.OPERATOR)
def retry(store_code: str):
    """Retry every order of the store that waits in error on this seller SKU."""
    store = selected_store(store_code)
    assert store is not None
    seller_sku = request.form.get("seller_sku", "")
    before = request.form.get("before", "")
    stuck = orders_stuck_on(store, seller_sku, before=before) if seller_sku else []
    queued = sum(1 for record in stuck if request_retry(record, current_user.username) or True)
    flash(f"Import retry requested for {queued} order(s).", "success" if queued else "warning")
    origin = request.form.get("origin", "")
    if origin:
        return redirect(url_for("orders.detail", amazon_order_id=origin, store=store.code))
    return redirect(url_for("sku.index", store_code=store.code))
