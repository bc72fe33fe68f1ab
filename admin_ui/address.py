"""Save Order on Amazon Order Details: an operator corrects the shipping address, or resets it to Amazon's.

Only fields that differ from Amazon's snapshot are kept (`address_override`); the importer applies them when
it creates the Commerce order, and syncs never overwrite them. The order's history names who changed which
fields, never the values: they are the buyer's personal data and the history is shown to every viewer.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from bridge.domain import ImportState
from bridge.storage.models import AmazonOrderRecord, Role
from bridge.storage.orders import add_event

from .address_form import (
    AddressForm,
    address_locked_reason,
    amazon_address,
    changed_fields,
    current_address,
    describe,
    load_directory,
    override_for,
)
from .auth import require_role
from .extensions import db
from .orders import commerce_order_note, find_order, render_detail, request_retry

log = logging.getLogger(__name__)

bp = Blueprint("address", __name__)


def _detail_url(record: AmazonOrderRecord) -> str:
    return url_for("orders.detail", amazon_order_id=record.amazon_order_id, store=record.store.code)


def _note_commerce_order(record: AmazonOrderRecord) -> None:
    note = commerce_order_note(record)
    if note:
        flash(note, "warning")


def _retry(record: AmazonOrderRecord) -> None:
    """Queue the import again, as *Retry import* does, once the corrected address is saved."""
    if record.import_state != ImportState.ERROR.value:
        flash(f"Order {record.amazon_order_id} is not in error; nothing to retry.", "warning")
    elif request_retry(record, current_user.username):
        flash(f"Import of order {record.amazon_order_id} is queued.", "success")
    else:
        flash(
            f"Order {record.amazon_order_id} is marked for import, but the job queue did not answer; "
            "the next sync will import it.",
            "warning",
        )


@bp.route("/orders/<amazon_order_id>/address", methods=["POST"])
@require_role(Role.OPERATOR)
def save(amazon_order_id: str):
    """Save Order: keep the fields that differ from Amazon's; optionally retry an import in error."""
    record = find_order(amazon_order_id)
    locked = address_locked_reason(record)
    if locked:
        flash(f"The address is not saved. {locked}", "error")
        return redirect(_detail_url(record))
    amazon = amazon_address(record.snapshot)
    before = current_address(amazon, record.address_override)
    # A field left out of the request keeps its value: only what was sent is a change.
    formdata = MultiDict(before)
    for key in request.form:
        formdata.setlist(key, request.form.getlist(key))
    form = AddressForm(formdata=formdata)
    form.set_directory(*load_directory(fresh=True))
    if not form.validate_on_submit():
        flash("The address is not saved; correct the fields marked below.", "error")
        return render_detail(record, address_form=form), 400

    submitted = form.values()
    changed = changed_fields(before, current_address(amazon, submitted))
    if changed:
        override = override_for(amazon, submitted)
        record.address_override = override or None  # a new object, so the JSON column is written
        add_event(record, "address_corrected", f"Shipping address corrected; fields changed: {describe(changed)}.",
                  current_user.username)
        db.session.commit()
        log.info(
            "shipping address of %s corrected by %s (fields: %s)",
            record.amazon_order_id,
            current_user.username,
            ", ".join(changed),
        )
        flash(f"The shipping address of order {record.amazon_order_id} is saved ({describe(changed)}).", "success")
        _note_commerce_order(record)
    else:
        flash("Nothing to save: the shipping address is unchanged.", "notice")
    if request.form.get("then") == "retry":
        _retry(record)
    return redirect(_detail_url(record))


@bp.route("/directory/countries/<country_code>/regions")
@require_role(Role.OPERATOR)
def regions(country_code: str):
    """The regions Magento's directory has for a country (JSON), so the address form offers the right ones
    when the operator changes the country."""
    directory, error = load_directory()
    if directory is None:
        return jsonify(regions=[], message=error), 503
    code = country_code.strip().upper()
    country = next((c for c in directory if c.id.upper() == code), None)
    if country is None:
        return jsonify(regions=[], message=f"Magento's directory has no country {country_code[:8]!r}."), 404
    return jsonify(regions=[{"code": r.code, "name": r.name} for r in country.regions], message="")


@bp.route("/orders/<amazon_order_id>/address/reset", methods=["POST"])
@require_role(Role.OPERATOR)
def reset(amazon_order_id: str):
    """Reset to Amazon's address: drop every correction."""
    record = find_order(amazon_order_id)
    locked = address_locked_reason(record)
    if locked:
        flash(f"The address is not reset. {locked}", "error")
        return redirect(_detail_url(record))
    amazon = amazon_address(record.snapshot)
    changed = changed_fields(current_address(amazon, record.address_override), amazon)
    if not record.address_override:
        flash("The shipping address is Amazon's already.", "notice")
        return redirect(_detail_url(record))
    record.address_override = None
    back = f"; fields changed back: {describe(changed)}." if changed else "."
    add_event(record, "address_reset", "Shipping address reset to Amazon's" + back, current_user.username)
    db.session.commit()
    log.info("shipping address of %s reset to Amazon's by %s", record.amazon_order_id, current_user.username)
    flash(f"The shipping address of order {record.amazon_order_id} is Amazon's again.", "success")
    _note_commerce_order(record)
    return redirect(_detail_url(record))
