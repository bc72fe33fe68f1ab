"""Order lifecycle contract: ports of OrderCancelTest, OrderHoldTest, OrderUnHoldTest, OrderInvoiceCreateTest,
ShipOrderTest, RefundOrderTest, ShipmentAddTrackTest, ShipmentListTest, CreditmemoListTest, plus the state
machine rules (canCancel/canInvoice/canShip/canCreditmemo/canHold, StateResolver)."""

from __future__ import annotations

import pytest

from tests.magento_twin.payloads import create, criteria, item, order


def new_order(api, **over):
    """Like `order_new.php`: state new / status pending, two lines."""
    over.setdefault("increment_id", "100000001")
    o = order(state="new", status="pending", items=[item("simple-1", 2, 10), item("simple-2", 1, 30)], shipping=5,
              **over)
    return create(api, o)


def get(api, eid):
    return api.ok(api.get(f"/orders/{eid}"))


# --- cancel / hold / unhold -----------------------------------------------------------------------------

def test_order_cancel(api):
    o = create(api, order("100000001"))
    assert api.ok(api.post(f"/orders/{o['entity_id']}/cancel", {"id": o["entity_id"]})) is True
    got = get(api, o["entity_id"])
    assert (got["state"], got["status"]) == ("canceled", "canceled")
    assert got["items"][0]["qty_canceled"] == 2
    assert got["subtotal_canceled"] == 20
    # canceled orders can't be canceled again: false, HTTP 200
    resp = api.post(f"/orders/{o['entity_id']}/cancel")
    assert resp.status_code == 200 and resp.json() is False


def test_cancel_returns_false_after_full_invoice(api):
    o = new_order(api)
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    resp = api.post(f"/orders/{o['entity_id']}/cancel")
    assert resp.status_code == 200
    assert resp.json() is False
    assert get(api, o["entity_id"])["state"] == "processing"


def test_cancel_after_partial_invoice_keeps_processing(api):
    o = new_order(api)
    lines = o["items"]
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {"items": [{"order_item_id": lines[0]["item_id"], "qty": 2}]}))
    assert api.ok(api.post(f"/orders/{o['entity_id']}/cancel")) is True
    got = get(api, o["entity_id"])
    assert got["state"] == "processing"  # something invoiced and still to ship → processing
    assert got["items"][1]["qty_canceled"] == 1
    assert got["items"][0]["qty_canceled"] == 0


def test_order_hold_and_unhold(api):
    o = create(api, order("100000001"))
    eid = o["entity_id"]
    assert api.ok(api.post(f"/orders/{eid}/hold", {"id": eid})) is True
    held = get(api, eid)
    assert (held["state"], held["status"]) == ("holded", "holded")
    resp = api.post(f"/orders/{eid}/hold")
    assert resp.status_code == 400
    assert resp.json() == {"message": "A hold action is not available."}
    # held orders can't be invoiced, shipped or canceled
    assert api.post(f"/orders/{eid}/cancel").json() is False
    inv = api.post(f"/order/{eid}/invoice", {})
    assert inv.status_code == 400
    assert inv.json()["message"] == ("Invoice Document Validation Error(s):\n"
                                     "An invoice cannot be created when an order has a status of holded")
    ship = api.post(f"/order/{eid}/ship", {})
    assert ship.status_code == 400
    assert "A shipment cannot be created when an order has a status of holded" in ship.json()["message"]
    assert api.ok(api.post(f"/orders/{eid}/unhold", {"id": eid})) is True
    back = get(api, eid)
    assert (back["state"], back["status"]) == ("processing", "processing")
    resp = api.post(f"/orders/{eid}/unhold")
    assert resp.status_code == 400
    assert resp.json() == {"message": "You cannot remove the hold."}


@pytest.mark.parametrize("state", ["canceled", "complete", "closed", "payment_review"])
def test_hold_not_available_in_final_states(api, state):
    o = create(api, order("100000001", state=state))
    assert api.post(f"/orders/{o['entity_id']}/hold").status_code == 400


def test_lifecycle_actions_on_unknown_order_are_404(api):
    for path in ("/orders/77/cancel", "/orders/77/hold", "/orders/77/unhold", "/order/77/invoice",
                 "/order/77/ship", "/order/77/refund"):
        assert api.post(path, {}).status_code == 404, path


# --- invoice --------------------------------------------------------------------------------------------

def test_order_invoice_create(api):
    o = new_order(api)
    eid = o["entity_id"]
    body = {"orderId": eid,
            "items": [{"order_item_id": i["item_id"], "qty": i["qty_ordered"]} for i in o["items"]],
            "comment": {"comment": "Test Comment", "is_visible_on_front": 1}}
    invoice_id = api.ok(api.post(f"/order/{eid}/invoice", body))
    assert isinstance(invoice_id, int) and invoice_id > 0
    invoice = api.ok(api.get(f"/invoices/{invoice_id}"))
    assert invoice["order_id"] == eid
    assert invoice["grand_total"] == 55 and invoice["shipping_amount"] == 5
    assert invoice["comments"][0]["comment"] == "Test Comment"
    got = get(api, eid)
    assert got["status"] != o["status"]
    assert (got["state"], got["status"]) == ("processing", "processing")
    assert got["total_paid"] == 55 and got["total_invoiced"] == 55
    assert [i["qty_invoiced"] for i in got["items"]] == [2, 1]
    listed = api.ok(api.get("/invoices", params=criteria([[("order_id", str(eid), "eq")]])))
    assert listed["total_count"] == 1


def test_invoice_without_products_error(api):
    o = new_order(api)
    resp = api.post(f"/order/{o['entity_id']}/invoice", {"items": [{"order_item_id": o["items"][0]["item_id"],
                                                                    "qty": 0}], "notify": True,
                                                         "appendComment": True})
    assert resp.status_code == 400
    assert resp.json()["message"] == ("Invoice Document Validation Error(s):\n"
                                      "The invoice can't be created without products. Add products and try again.")


def test_invoice_unknown_item_and_too_much_qty(api):
    o = new_order(api)
    resp = api.post(f"/order/{o['entity_id']}/invoice", {"items": [{"order_item_id": -1, "qty": 1}]})
    assert resp.status_code == 400
    assert "The invoice contains one or more items that are not part of the original order." in resp.json()["message"]
    resp = api.post(f"/order/{o['entity_id']}/invoice", {"items": [{"order_item_id": o["items"][0]["item_id"],
                                                                    "qty": 3}]})
    assert resp.status_code == 400
    assert ('The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "simple-1".'
            in resp.json()["message"])


def test_second_invoice_of_a_fully_invoiced_order(api):
    o = new_order(api)
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    resp = api.post(f"/order/{o['entity_id']}/invoice", {})
    assert resp.status_code == 400
    lines = resp.json()["message"].split("\n")
    assert lines[:2] == ["Invoice Document Validation Error(s):", "The order does not allow an invoice to be created."]


# --- ship -----------------------------------------------------------------------------------------------

def ship_body(o, **over):
    body = {"orderId": o["entity_id"],
            "items": [{"order_item_id": i["item_id"], "qty": i["qty_ordered"]} for i in o["items"]],
            "comment": {"comment": "Test Comment", "is_visible_on_front": 1},
            "tracks": [{"track_number": "TEST_TRACK_0001", "title": "Simple shipment track", "carrier_code": "UPS"}]}
    body.update(over)
    return body


def test_ship_order(api):
    o = new_order(api)
    shipment_id = api.ok(api.post(f"/order/{o['entity_id']}/ship", ship_body(o)))
    assert isinstance(shipment_id, int) and shipment_id > 0
    shipment = api.ok(api.get(f"/shipment/{shipment_id}"))
    assert shipment["order_id"] == o["entity_id"]
    assert shipment["total_qty"] == 3
    assert shipment["tracks"][0]["track_number"] == "TEST_TRACK_0001"
    assert shipment["tracks"][0]["carrier_code"] == "UPS"
    got = get(api, o["entity_id"])
    assert got["status"] != o["status"]
    assert got["state"] == "processing"
    assert [i["qty_shipped"] for i in got["items"]] == [2, 1]


def test_ship_order_without_tracking_number_returns_error(api):
    o = new_order(api)
    body = ship_body(o, tracks=[{"title": "Simple shipment track", "carrier_code": "UPS"}])
    resp = api.post(f"/order/{o['entity_id']}/ship", body)
    assert resp.status_code == 400
    assert resp.json()["message"] == "Shipment Document Validation Error(s):\nPlease enter a tracking number."
    assert api.ok(api.get("/shipments", params=criteria([])))["total_count"] == 0


def test_partial_shipment(api):
    o = new_order(api)
    first = o["items"][0]
    sid = api.ok(api.post(f"/order/{o['entity_id']}/ship",
                          ship_body(o, items=[{"order_item_id": first["item_id"], "qty": 1}])))
    shipment = api.ok(api.get(f"/shipment/{sid}"))
    assert shipment["total_qty"] == 1
    got = get(api, o["entity_id"])
    assert [i["qty_shipped"] for i in got["items"]] == [1, 0]
    over = api.post(f"/order/{o['entity_id']}/ship", ship_body(o, items=[{"order_item_id": first["item_id"],
                                                                           "qty": 5}], tracks=[]))
    assert over.status_code == 400
    assert 'We found an invalid quantity to ship for item "Product simple-1".' in over.json()["message"]


def test_ship_then_invoice_completes_and_fully_shipped_cannot_ship(api):
    o = new_order(api)
    eid = o["entity_id"]
    api.ok(api.post(f"/order/{eid}/ship", {}))
    assert get(api, eid)["state"] == "processing"
    again = api.post(f"/order/{eid}/ship", {})
    assert again.status_code == 400
    assert "The order does not allow a shipment to be created." in again.json()["message"]
    api.ok(api.post(f"/order/{eid}/invoice", {}))
    got = get(api, eid)
    assert (got["state"], got["status"]) == ("complete", "complete")
    assert api.post(f"/orders/{eid}/cancel").json() is False
    assert api.post(f"/orders/{eid}/hold").status_code == 400


def test_invoice_then_ship_completes(api):
    o = new_order(api)
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    api.ok(api.post(f"/order/{o['entity_id']}/ship", {}))
    assert get(api, o["entity_id"])["state"] == "complete"


def test_virtual_order_cannot_ship(api):
    o = create(api, order("100000001", is_virtual=1, items=[item(is_virtual=1)]))
    resp = api.post(f"/order/{o['entity_id']}/ship", {})
    assert resp.status_code == 400
    assert "The order does not allow a shipment to be created." in resp.json()["message"]
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    assert get(api, o["entity_id"])["state"] == "complete"


# --- refund ---------------------------------------------------------------------------------------------

def invoiced_and_shipped(api):
    """Like `order_with_shipping_and_invoice.php`: invoiced and shipped, shipping 20."""
    o = create(api, order("100000001", state="new", status="pending",
                          items=[item("simple-1", 2, 10), item("simple-2", 1, 30)], shipping=20))
    api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    api.ok(api.post(f"/order/{o['entity_id']}/ship", {}))
    return get(api, o["entity_id"])


def test_refund_short_request(api):
    o = invoiced_and_shipped(api)
    assert o["state"] == "complete"
    memo_id = api.ok(api.post(f"/order/{o['entity_id']}/refund", {"orderId": o["entity_id"]}))
    memo = api.ok(api.get(f"/creditmemo/{memo_id}"))
    assert sorted(i["order_item_id"] for i in memo["items"]) == sorted(i["item_id"] for i in o["items"])
    assert memo["shipping_amount"] == o["shipping_amount"] == 20
    assert memo["grand_total"] == 70
    got = get(api, o["entity_id"])
    assert got["shipping_refunded"] == 20
    assert got["total_refunded"] == 70
    # everything refunded: StateResolver closes it (Magento's test fixture keeps money unrefunded → complete)
    assert (got["state"], got["status"]) == ("closed", "closed")
    again = api.post(f"/order/{o['entity_id']}/refund", {})
    assert again.status_code == 400
    assert again.json()["message"].startswith("Creditmemo Document Validation Error(s):\n"
                                              "A creditmemo can not be created when an order has a status of closed")


def test_refund_full_request(api):
    o = invoiced_and_shipped(api)
    first = o["items"][0]
    body = {"orderId": o["entity_id"],
            "items": [{"order_item_id": first["item_id"], "qty": first["qty_ordered"] - 1}],
            "comment": {"comment": "Test Comment", "is_visible_on_front": 1},
            "arguments": {"shipping_amount": 15, "adjustment_positive": 5.53, "adjustment_negative": 5.53}}
    memo_id = api.ok(api.post(f"/order/{o['entity_id']}/refund", body))
    memo = api.ok(api.get(f"/creditmemo/{memo_id}"))
    assert [(i["order_item_id"], i["qty"]) for i in memo["items"]] == [(first["item_id"], 1)]
    assert memo["comments"][0]["comment"] == "Test Comment"
    assert memo["shipping_amount"] == 15
    assert memo["adjustment_positive"] == 5.53 and memo["adjustment_negative"] == 5.53
    assert memo["grand_total"] == 25
    got = get(api, o["entity_id"])
    assert got["status"] == o["status"] == "complete"


def test_refund_needs_an_invoice(api):
    o = new_order(api)
    resp = api.post(f"/order/{o['entity_id']}/refund", {})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("Creditmemo Document Validation Error(s):\n"
                                             "The order does not allow a creditmemo to be created.")


def test_refund_more_than_invoiced_and_too_much_shipping(api):
    o = invoiced_and_shipped(api)
    first = o["items"][0]
    resp = api.post(f"/order/{o['entity_id']}/refund", {"items": [{"order_item_id": first["item_id"], "qty": 3}]})
    assert resp.status_code == 400
    assert ('The quantity to creditmemo must not be greater than the unrefunded quantity for product SKU "simple-1".'
            in resp.json()["message"])
    resp = api.post(f"/order/{o['entity_id']}/refund", {"arguments": {"shipping_amount": 50}})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Maximum shipping amount allowed to refund is: %1", "parameters": ["20.00"]}


def test_partial_refund_of_invoiced_unshipped_then_rest_closes(api):
    o = new_order(api)
    eid = o["entity_id"]
    api.ok(api.post(f"/order/{eid}/invoice", {}))
    api.ok(api.post(f"/order/{eid}/refund", {"items": [{"order_item_id": o["items"][1]["item_id"], "qty": 1}],
                                             "arguments": {"shipping_amount": 0}}))
    assert get(api, eid)["state"] == "processing"
    api.ok(api.post(f"/order/{eid}/refund", {}))
    got = get(api, eid)
    assert got["state"] == "closed"
    assert got["total_refunded"] == got["total_paid"] == 55


def test_invoice_refund(api):
    o = new_order(api)
    invoice_id = api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    memo_id = api.ok(api.post(f"/invoice/{invoice_id}/refund", {"isOnline": False}))
    memo = api.ok(api.get(f"/creditmemo/{memo_id}"))
    assert memo["invoice_id"] == invoice_id
    assert memo["grand_total"] == 55
    again = api.post(f"/invoice/{invoice_id}/refund", {})
    assert again.status_code == 400
    assert api.post("/invoice/999/refund", {}).status_code == 404


# --- tracks and lists -----------------------------------------------------------------------------------

def test_shipment_add_track(api):
    o = new_order(api)
    sid = api.ok(api.post(f"/order/{o['entity_id']}/ship", {}))
    body = {"entity": {"order_id": o["entity_id"], "parent_id": sid, "weight": 20, "qty": 5, "track_number": 2,
                       "description": "Shipment description", "title": "Shipment title", "carrier_code": "custom",
                       "created_at": None, "updated_at": None, "entity_id": None}}
    track = api.ok(api.post("/shipment/track", body))
    assert track
    assert track["track_number"] == "2" and track["carrier_code"] == "custom" and track["entity_id"] > 0
    shipment = api.ok(api.get(f"/shipment/{sid}"))
    assert [t["title"] for t in shipment["tracks"]] == ["Shipment title"]
    assert api.ok(api.delete(f"/shipment/track/{track['entity_id']}")) is True
    assert api.ok(api.get(f"/shipment/{sid}"))["tracks"] == []


def test_shipment_list(api):
    """ShipmentListTest: [shipment_status eq 1 OR store_id eq 1] AND [shipping_address_id eq X], increment ASC."""
    orders = [new_order(api, increment_id=None) for _ in range(3)]
    for o in orders:
        api.ok(api.post(f"/order/{o['entity_id']}/ship", {}))
    target = orders[1]["shipping_address_id"]
    params = criteria([[("shipment_status", "1", "eq"), ("store_id", "1", "eq")],
                       [("shipping_address_id", str(target), "eq")]], sort=[("increment_id", "ASC")])
    result = api.ok(api.get("/shipments", params=params))
    assert [s["increment_id"] for s in result["items"]] == ["000000002"]
    assert result["search_criteria"]["filter_groups"][1]["filters"][0]["value"] == str(target)
    everything = api.ok(api.get("/shipments", params=criteria([], sort=[("increment_id", "DESC")])))
    assert [s["increment_id"] for s in everything["items"]] == ["000000003", "000000002", "000000001"]


def test_creditmemo_list(api):
    o = invoiced_and_shipped(api)
    api.ok(api.post(f"/order/{o['entity_id']}/refund", {"items": [{"order_item_id": o["items"][0]["item_id"],
                                                                   "qty": 1}]}))
    result = api.ok(api.get("/creditmemos", params=criteria([[("state", "2", "eq")]])))
    assert result["total_count"] == 1
    assert api.ok(api.get("/creditmemos", params=criteria([[("state", "1", "eq")]])))["total_count"] == 0


def test_refund_return_to_stock_items(api):
    api.ok(api.post("/products", {"product": {"sku": "simple-1", "name": "S1", "price": 10}}))
    api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": "simple-1", "source_code": "default", "quantity": 5, "status": 1}]}))
    o = invoiced_and_shipped(api)
    first = o["items"][0]
    api.ok(api.post(f"/order/{o['entity_id']}/refund", {
        "items": [{"order_item_id": first["item_id"], "qty": 2}],
        "arguments": {"shipping_amount": 0, "extension_attributes": {"return_to_stock_items": [first["item_id"]]}}}))
    # The shipment took 2 from the source (5 -> 3) and placed MSI's compensating +2 reservation; the refund
    # put 2 back (3 -> 5). A REST-saved order placed no reservation to compensate, so salable is 5 + 2.
    assert api.ok(api.get("/inventory/get-product-salable-quantity/simple-1/1")) == 7
    assert api.ok(api.get("/stockItems/simple-1"))["qty"] == 5


def test_invoice_and_refund_totals_with_tax_discount_and_shipping(api):
    lines = [item("a", 2, 10, tax_amount=2, base_tax_amount=2, discount_amount=4, base_discount_amount=4),
             item("b", 1, 30, tax_amount=3, base_tax_amount=3)]
    o = create(api, order("100000001", state="new", status="pending", items=lines, shipping=5,
                          discount_amount=-4, base_discount_amount=-4, tax_amount=5, base_tax_amount=5,
                          grand_total=56, base_grand_total=56))
    eid = o["entity_id"]
    first = api.ok(api.post(f"/order/{eid}/invoice", {"items": [{"order_item_id": o["items"][0]["item_id"],
                                                                  "qty": 1}]}))
    inv = api.ok(api.get(f"/invoices/{first}"))
    # one of two "a": 10 + tax 1 - discount 2, plus the whole shipping on the first invoice
    assert (inv["subtotal"], inv["tax_amount"], inv["discount_amount"], inv["grand_total"]) == (10, 1, -2, 14)
    second = api.ok(api.post(f"/order/{eid}/invoice", {}))
    assert api.ok(api.get(f"/invoices/{second}"))["grand_total"] == 42  # the last invoice takes the remainder
    got = get(api, eid)
    assert got["total_invoiced"] == got["total_paid"] == 56
    assert got["discount_invoiced"] == -4
    memo = api.ok(api.get(f"/creditmemo/{api.ok(api.post(f'/order/{eid}/refund', {}))}"))
    assert memo["grand_total"] == 56
    assert memo["discount_amount"] == -4
    assert get(api, eid)["state"] == "closed"


def test_full_refund_carries_the_shipping_tax_and_the_shipping_discount(api):
    """A free-shipping promotion (shipping discount) with shipping tax: refunding everything gives back exactly
    what was paid, as Magento's creditmemo Tax and Discount collectors do, and closes the order."""
    o = create(api, order("100000002", state="new", status="pending", items=[item("a", 2, 10)], shipping=5,
                          shipping_tax_amount=0.4, base_shipping_tax_amount=0.4, shipping_discount_amount=5,
                          base_shipping_discount_amount=5, discount_amount=-5, base_discount_amount=-5,
                          tax_amount=0.4, base_tax_amount=0.4, grand_total=20.4, base_grand_total=20.4))
    eid = o["entity_id"]
    api.ok(api.post(f"/order/{eid}/invoice", {}))
    assert get(api, eid)["total_paid"] == 20.4
    memo = api.ok(api.get(f"/creditmemo/{api.ok(api.post(f'/order/{eid}/refund', {}))}"))
    assert (memo["grand_total"], memo["tax_amount"], memo["discount_amount"]) == (20.4, 0.4, -5)
    assert get(api, eid)["state"] == "closed"


def test_creditmemo_refund_endpoint(api):
    """CreditMemoCreateRefundTest: POST /V1/creditmemo/refund with the invoiced items → order closed."""
    o = new_order(api)
    invoice_id = api.ok(api.post(f"/order/{o['entity_id']}/invoice", {}))
    body = {"creditmemo": {"order_id": o["entity_id"], "invoice_id": invoice_id, "adjustment_positive": 0,
                           "adjustment_negative": 0, "shipping_amount": 5,
                           "items": [{"order_item_id": i["item_id"], "qty": i["qty_ordered"], "price": i["price"],
                                      "row_total": i["row_total"], "entity_id": None} for i in o["items"]]},
            "offline_requested": True}
    memo = api.ok(api.post("/creditmemo/refund", body))
    assert memo["entity_id"] > 0 and memo["invoice_id"] == invoice_id and memo["grand_total"] == 55
    assert get(api, o["entity_id"])["state"] == "closed"
    assert api.post("/creditmemo/refund", {"creditmemo": {}}).status_code == 400


# --- MSI source deduction on shipment (InventoryShipping's SourceDeductionProcessor) ----------------------

def _stocked(api, sku: str, qty: float, **stock):
    api.ok(api.post("/products", {"product": {"sku": sku, "name": sku, "price": 10}}))
    api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": sku, "source_code": "default", "quantity": qty, "status": 1}]}))


def _source_qty(api, sku: str) -> float:
    items = api.ok(api.get("/inventory/source-items", params=criteria([[("sku", sku, "eq")]])))["items"]
    return next(i["quantity"] for i in items if i["source_code"] == "default")


def test_shipment_deducts_the_source_and_places_a_compensating_reservation(api):
    _stocked(api, "simple-1", 10)
    _stocked(api, "simple-2", 4)
    o = new_order(api)
    api.ok(api.post(f"/order/{o['entity_id']}/ship", ship_body(o)))
    assert _source_qty(api, "simple-1") == 8 and _source_qty(api, "simple-2") == 3
    assert api.ok(api.get("/stockItems/simple-1"))["qty"] == 8
    # No placement reservation for a REST-saved order, so the +qty compensation keeps salable where it was.
    assert api.ok(api.get("/inventory/get-product-salable-quantity/simple-1/1")) == 10


def test_shipment_refused_when_the_source_lacks_the_quantity_and_nothing_is_saved(api):
    _stocked(api, "simple-1", 10)
    _stocked(api, "simple-2", 0)
    o = new_order(api)
    resp = api.post(f"/order/{o['entity_id']}/ship", ship_body(o))
    assert resp.status_code == 400
    assert resp.json()["message"] == "Not all of your products are available in the requested quantity."
    assert api.ok(api.get("/shipments", params=criteria([])))["total_count"] == 0
    assert _source_qty(api, "simple-1") == 10
    assert [i.get("qty_shipped", 0) for i in get(api, o["entity_id"])["items"]] == [0, 0]


def test_shipment_from_a_source_without_the_product_is_404(api):
    _stocked(api, "simple-1", 10)
    _stocked(api, "simple-2", 10)
    o = new_order(api)
    resp = api.post(f"/order/{o['entity_id']}/ship",
                    ship_body(o, arguments={"extension_attributes": {"source_code": "amazon_fba"}}))
    assert resp.status_code == 404
    assert resp.json()["parameters"] == ["amazon_fba", "simple-1"]
    assert _source_qty(api, "simple-1") == 10
