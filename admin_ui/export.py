"""Export CSV of All Orders: the filtered list, every page, with the columns the grid shows.

Streamed from a cursor in batches of plain rows, so 100,000 orders never sit in memory and the download
starts at once (bench/admin_orders_list.py: first bytes in ~55 ms, 100,000 rows in ~8 s, ~2 MB of Python
memory, on a busy 2-core machine).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, abort, stream_with_context
from sqlalchemy import select

from bridge.storage.models import AmazonOrderRecord

from .banners import selected_store
from .extensions import db
from .formatting import IMPORT_STATE_LABELS, channel_label, status_label, utc
from .orders import SORTS, OrderFilters

bp = Blueprint("export", __name__)

COLUMNS = (
    "Purchase Date",
    "Order Number",
    "Status",
    "Buyer's Name",
    "Total",
    "Currency",
    "Order Notes",
    "Commerce Order",
    "Fulfillment Channel",
    "Prime",
    "Premium",
    "Ship By",
    "Deliver By",
    "Import",
)
BATCH = 1000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Text for a spreadsheet: values from Amazon that start like a formula get a leading apostrophe, so a
    buyer named `=HYPERLINK(...)` stays text when the merchant opens the file."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


_o = AmazonOrderRecord
# Only the columns the file needs (rows, not ORM objects: no snapshot JSON, no identity map).
FIELDS = (
    _o.purchase_date, _o.amazon_order_id, _o.status, _o.buyer_name, _o.order_total, _o.currency,
    _o.import_state, _o.last_error, _o.notes, _o.magento_increment_id, _o.fulfillment_channel, _o.is_prime,
    _o.is_premium, _o.latest_ship_date, _o.latest_delivery_date,
)


def row(o) -> list[str]:
    notes = o.last_error if o.import_state == "error" and o.last_error else (o.notes or "")
    return [
        cell(v)
        for v in (
            utc(o.purchase_date),
            o.amazon_order_id,
            status_label(o.status),
            o.buyer_name or "",
            f"{o.order_total:.2f}" if o.order_total is not None else "",
            o.currency,
            notes,
            o.magento_increment_id or "",
            channel_label(o.fulfillment_channel),
            "Yes" if o.is_prime else "No",
            "Yes" if o.is_premium else "No",
            utc(o.latest_ship_date),
            utc(o.latest_delivery_date),
            IMPORT_STATE_LABELS.get(o.import_state, o.import_state),
        )
    ]


def lines(query) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    rows = db.session.execute(query.execution_options(yield_per=BATCH))
    for n, record in enumerate(rows, 1):
        writer.writerow(row(record))
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.route("/orders/export.csv")
def export_csv():
    """The orders All Orders shows for the same query string (filters and sort), as CSV, all pages."""
    from flask import request

    store = selected_store()
    if store is None:
        abort(404, "No Amazon store is connected yet.")
    filters = OrderFilters.from_args(request.args)
    if filters.errors:
        abort(400, " ".join(filters.errors))
    sort = request.args.get("sort", "purchase_date")
    column = SORTS.get(sort, AmazonOrderRecord.purchase_date)
    desc = request.args.get("dir") != "asc"
    order_by = (column.desc(), AmazonOrderRecord.id.desc()) if desc else (column, AmazonOrderRecord.id)
    query = select(*FIELDS).where(*filters.conditions(store.id)).order_by(*order_by)
    name = "amazon-orders-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in store.code) + ".csv"
    return Response(
        stream_with_context(lines(query)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )
