"""Order repository contract: ports of OrderCreateTest, OrderCreationValidationTest, OrderGetTest,
OrderListTest, OrderUpdateTest and OrderStatusHistoryAddTest, run over HTTP against the twin."""

from __future__ import annotations

import pytest

from sandbox.magento.testing import start_magento_twin
from tests.magento_twin.payloads import Api, address, create, criteria, item, order, validation_valid_payload

# --- OrderCreateTest ------------------------------------------------------------------------------------

def order_create_test_payload() -> dict:
    """OrderCreateTest::prepareOrder (REST flavour)."""
    line = {
        "sku": "simple", "price": 10, "base_price": 10, "qty_ordered": 1, "name": "Simple", "product_type": "simple",
        "parent_item": {"weight": 1},
        "product_option": {"extension_attributes": {"custom_options": [{"option_id": "1", "option_value": "1"}]}},
        "extension_attributes": {"itemized_taxes": [{
            "tax_percent": 5, "tax_code": "US-NY-*-Rate 1", "amount": 0.5, "base_amount": 0.5,
            "real_amount": 0.5, "real_base_amount": 0.5, "taxable_item_type": "product",
        }]},
    }
    return {
        "customer_email": "order-create@example.com", "base_grand_total": 100, "grand_total": 100,
        "shipping_description": "Flat Rate - Fixed", "is_virtual": 0, "store_id": 1, "base_shipping_amount": 5,
        "subtotal": 100, "base_subtotal": 100, "customer_is_guest": 1, "customer_group_id": 0,
        "base_currency_code": "USD", "total_qty_ordered": 1, "weight": 1, "shipping_incl_tax": 5,
        "increment_id": None, "entity_id": None, "state": None, "status": None,
        "items": [line],
        "payment": {"method": "checkmo", "cc_last4": "4444", "account_status": "ok", "additional_information": []},
        "billing_address": {k: v for k, v in address("billing").items() if k != "email"},
        "extension_attributes": {
            "shipping_assignments": [{
                "shipping": {"address": address("shipping"), "method": "flatrate_flatrate"},
                "items": [line], "stock_id": None,
            }],
            "taxes": [{"code": "US-NY-*-Rate 1", "title": "US-NY-*-Rate 1", "percent": 5, "amount": 0.75,
                       "base_amount": 0.75, "base_real_amount": 0.75, "position": 0, "priority": 0, "process": 0}],
            "additional_itemized_taxes": [{
                "tax_percent": 5, "tax_code": "US-NY-*-Rate 1", "amount": 0.25, "base_amount": 0.25,
                "real_amount": 0.25, "real_base_amount": 0.25, "taxable_item_type": "shipping",
            }],
        },
    }


def test_order_create(api):
    created = api.ok(api.post("/orders", {"entity": order_create_test_payload()}))
    assert created["entity_id"] > 0
    model = api.ok(api.get(f"/orders/{created['entity_id']}"))
    assert model["base_grand_total"] == 100
    assert model["grand_total"] == 100
    assigned = model["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert assigned["address"]["entity_id"] > 0
    assert assigned["address"]["street"] == ["Street"]
    assert assigned["method"] == "flatrate_flatrate"
    assert model["shipping_method"] == "flatrate_flatrate"
    taxes = model["extension_attributes"]["taxes"]
    assert len(taxes) == 1
    assert (taxes[0]["code"], taxes[0]["title"], taxes[0]["percent"]) == ("US-NY-*-Rate 1", "US-NY-*-Rate 1", 5)
    assert (taxes[0]["amount"], taxes[0]["base_amount"]) == (0.75, 0.75)
    extra = model["extension_attributes"]["additional_itemized_taxes"]
    assert len(extra) == 1
    assert extra[0]["taxable_item_type"] == "shipping"
    assert (extra[0]["tax_percent"], extra[0]["amount"], extra[0]["base_amount"], extra[0]["real_amount"]) == (
        5, 0.25, 0.25, 0.25)
    itemized = model["items"][0]["extension_attributes"]["itemized_taxes"]
    assert len(itemized) == 1
    assert itemized[0]["taxable_item_type"] == "product"
    assert (itemized[0]["tax_percent"], itemized[0]["amount"], itemized[0]["real_base_amount"]) == (5, 0.5, 0.5)
    assert itemized[0]["item_id"] == model["items"][0]["item_id"]


def test_order_fields_look_like_magentos(api):
    created = create(api, order())
    assert created["increment_id"] == "000000001"
    assert len(created["created_at"]) == 19 and created["created_at"][10] == " "
    line = created["items"][0]
    assert line["item_id"] > 0 and line["order_id"] == created["entity_id"]
    assert (line["qty_invoiced"], line["qty_shipped"], line["qty_refunded"], line["qty_canceled"]) == (0, 0, 0, 0)
    assert created["payment"]["method"] == "checkmo"
    assert created["billing_address"]["parent_id"] == created["entity_id"]
    assert created["status_histories"] == []
    second = create(api, order())
    assert second["increment_id"] == "000000002"
    assert second["entity_id"] == created["entity_id"] + 1


def test_increment_ids_are_per_store_with_store_prefix():
    from sandbox.magento.config import EXAMPLE_EXTRA_VIEWS, default_store_views

    t = start_magento_twin(store_views=default_store_views() + EXAMPLE_EXTRA_VIEWS)
    try:
        api = Api(t, "/rest/uk/V1")
        uk = create(api, order(store_id=None, order_currency_code="GBP"))
        assert uk["store_id"] == 2
        assert uk["increment_id"] == "2000000001"
        us = create(Api(t), order())
        assert us["increment_id"] == "000000001"
    finally:
        t.stop()


# --- OrderCreationValidationTest ------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"entity": {"payment": {"method": "cashondelivery"}}},
    {"entity": []},
    {"entity": {**validation_valid_payload()["entity"], "billing_address": None}},
    {"entity": {**validation_valid_payload()["entity"], "billing_address": {"city": "Test City"}}},
])
def test_order_creation_requires_billing_address(api, body):
    resp = api.put("/orders/create", body)
    assert resp.status_code == 400
    assert "Please provide billing address for the order." in resp.json()["message"]
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 0


def test_order_creation_requires_items(api):
    body = validation_valid_payload()
    body["entity"]["items"] = []
    resp = api.put("/orders/create", body)
    assert resp.status_code == 400
    assert resp.json()["message"] == "Please specify order items."


def test_order_creation_valid_payload(api):
    created = api.ok(api.put("/orders/create", validation_valid_payload()))
    assert created["entity_id"]
    assert created["increment_id"]


def test_order_creation_without_entity_is_required_error(api):
    resp = api.put("/orders/create", {})
    assert resp.status_code == 400
    assert resp.json() == {"message": '"%fieldName" is required. Enter and try again.',
                           "parameters": {"fieldName": "entity"}}


# --- OrderGetTest ---------------------------------------------------------------------------------------

def test_order_get(api):
    created = create(api, order("100000001"))
    got = api.ok(api.get(f"/orders/{created['entity_id']}"))
    assert got["base_subtotal"] == 20 and got["subtotal"] == 20
    assert got["customer_is_guest"] == 1
    assert got["increment_id"] == "100000001"
    assert got["payment"]["method"] == "checkmo"
    for key in ("city", "postcode", "lastname", "firstname", "street", "country_id", "region_id"):
        assert key in got["billing_address"]

    def no_nulls(value, path="$"):
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in ("state", "status"):
                    assert v is not None, f"{path}.{k} is null"
                    no_nulls(v, f"{path}.{k}")
        elif isinstance(value, list):
            for n, v in enumerate(value):
                no_nulls(v, f"{path}[{n}]")

    no_nulls(got)


def test_order_get_unknown_id_is_404(api):
    resp = api.get("/orders/9999")
    assert resp.status_code == 404
    assert resp.json() == {"message": "The entity that was requested doesn't exist. Verify the entity and try again."}


def test_order_get_non_numeric_id_is_400(api):
    resp = api.get("/orders/abc")
    assert resp.status_code == 400
    assert "type is invalid" in resp.json()["parameters"]["details"]


# --- OrderListTest --------------------------------------------------------------------------------------

def test_order_list(api):
    """OrderListTest::testOrderList: [status eq processing] AND [state eq new OR increment_id eq 100000001]."""
    create(api, order("100000001", items=[item(price=10, qty=10)]))  # processing, grand total 100
    create(api, order("100000002", items=[item(price=120, qty=1)], state="new", status="processing"))
    create(api, order("100000003", items=[item(price=130, qty=1)], state="new", status="pending"))
    create(api, order("100000004", items=[item(price=140, qty=1)]))  # processing, excluded by group 2
    params = criteria(
        [[("status", "processing", "eq")], [("state", "new", "eq"), ("increment_id", "100000001", "eq")]],
        sort=[("grand_total", "DESC")], page_size=20,
    )
    result = api.ok(api.get("/orders", params=params))
    assert len(result["items"]) == 2
    assert result["total_count"] == 2
    assert result["search_criteria"] == {
        "filter_groups": [
            {"filters": [{"field": "status", "value": "processing", "condition_type": "eq"}]},
            {"filters": [{"field": "state", "value": "new", "condition_type": "eq"},
                         {"field": "increment_id", "value": "100000001", "condition_type": "eq"}]},
        ],
        "sort_orders": [{"field": "grand_total", "direction": "DESC"}],
        "page_size": 20,
    }
    assert result["items"][0]["increment_id"] == "100000002"
    assert result["items"][1]["increment_id"] == "100000001"


def test_order_list_extension_attributes(api):
    create(api, order("100000001"))
    result = api.ok(api.get("/orders", params=criteria([[("increment_id", "100000001", "eq")]])))
    ext = result["items"][0]["extension_attributes"]
    for key in ("applied_taxes", "item_applied_taxes", "payment_additional_info", "taxes",
                "additional_itemized_taxes", "shipping_assignments"):
        assert key in ext
    assert ext["converting_from_quote"] is False
    assert ext["payment_additional_info"]


@pytest.mark.parametrize(("cond", "value", "expected"), [
    ("eq", "100000002", ["100000002"]),
    ("neq", "100000002", ["100000001", "100000003"]),
    ("like", "1000000%", ["100000001", "100000002", "100000003"]),
    ("like", "%3", ["100000003"]),
    ("nlike", "%3", ["100000001", "100000002"]),
    ("in", "100000001,100000003", ["100000001", "100000003"]),
    ("nin", "100000001,100000003", ["100000002"]),
    ("gt", "100000002", ["100000003"]),
    ("gteq", "100000002", ["100000002", "100000003"]),
    ("moreq", "100000002", ["100000002", "100000003"]),
    ("from", "100000002", ["100000002", "100000003"]),
    ("lt", "100000002", ["100000001"]),
    ("lteq", "100000002", ["100000001", "100000002"]),
    ("to", "100000002", ["100000001", "100000002"]),
])
def test_every_condition_type_on_increment_id(api, cond, value, expected):
    for n in (1, 2, 3):
        create(api, order(f"10000000{n}"))
    result = api.ok(api.get("/orders", params=criteria([[("increment_id", value, cond)]],
                                                          sort=[("increment_id", "ASC")])))
    assert [o["increment_id"] for o in result["items"]] == expected


def test_null_notnull_finset_conditions(api):
    create(api, order("100000001", ext_order_id="111-1", coupon_code="A,B"))
    create(api, order("100000002"))
    def ids(field, cond, value="1"):
        r = api.ok(api.get("/orders", params=criteria([[(field, value, cond)]], sort=[("entity_id", "ASC")])))
        return [o["increment_id"] for o in r["items"]]
    assert ids("ext_order_id", "null") == ["100000002"]
    assert ids("ext_order_id", "notnull") == ["100000001"]
    assert ids("coupon_code", "finset", "B") == ["100000001"]
    assert ids("coupon_code", "nfinset", "C") == ["100000001"]
    assert ids("ext_order_id", "eq", "111-1") == ["100000001"]


def test_from_to_in_separate_groups_is_a_range_and_same_group_is_or(api):
    for n in range(1, 6):
        create(api, order(f"10000000{n}"))
    ranged = api.ok(api.get("/orders", params=criteria(
        [[("increment_id", "100000002", "from")], [("increment_id", "100000004", "to")]])))
    assert [o["increment_id"] for o in ranged["items"]] == ["100000002", "100000003", "100000004"]
    ored = api.ok(api.get("/orders", params=criteria(
        [[("increment_id", "100000002", "from"), ("increment_id", "100000004", "to")]])))
    assert ored["total_count"] == 5


def test_paging_and_past_last_page(api):
    for n in range(1, 6):
        create(api, order(f"10000000{n}"))
    page2 = api.ok(api.get("/orders", params=criteria([], sort=[("entity_id", "ASC")], page_size=2, current_page=2)))
    assert [o["increment_id"] for o in page2["items"]] == ["100000003", "100000004"]
    assert page2["total_count"] == 5
    assert page2["search_criteria"]["current_page"] == 2
    past = api.ok(api.get("/orders", params=criteria([], sort=[("entity_id", "ASC")], page_size=2, current_page=9)))
    assert [o["increment_id"] for o in past["items"]] == ["100000005"]  # Magento returns the last page


def test_camel_case_query_keys_are_accepted(api):
    create(api, order("100000001"))
    create(api, order("100000002"))
    params = {
        "searchCriteria[filterGroups][0][filters][0][field]": "increment_id",
        "searchCriteria[filterGroups][0][filters][0][value]": "100000002",
        "searchCriteria[filterGroups][0][filters][0][conditionType]": "eq",
        "searchCriteria[pageSize]": "10",
    }
    result = api.ok(api.get("/orders", params=params))
    assert [o["increment_id"] for o in result["items"]] == ["100000002"]
    assert result["search_criteria"]["page_size"] == 10


def test_order_list_requires_search_criteria(api):
    resp = api.get("/orders")
    assert resp.status_code == 400
    assert resp.json()["parameters"] == {"fieldName": "searchCriteria"}


def test_page_size_of_wrong_type_is_400(api):
    resp = api.get("/orders", params={"searchCriteria[pageSize]": "ten"})
    assert resp.status_code == 400
    assert "type is invalid" in resp.json()["parameters"]["details"]


def test_order_items_list_and_get(api):
    """OrderItemGetListTest-style: [product_type neq simple] AND [... OR base_price gteq 110], sort row_total."""
    create(api, order("100000001", items=[
        item("a", 1, 92, product_type="configurable"), item("b", 1, 112, product_type="virtual"),
        item("c", 1, 102, product_type="configurable"), item("d", 1, 200, product_type="simple"),
    ]))
    params = criteria([[("product_type", "simple", "neq")],
                       [("product_type", "configurable", "eq"), ("base_price", "110", "gteq")]],
                      sort=[("row_total", "DESC")])
    result = api.ok(api.get("/orders/items", params=params))
    assert [i["row_total"] for i in result["items"]] == [112, 102, 92]
    one = api.ok(api.get(f"/orders/items/{result['items'][0]['item_id']}"))
    assert one["sku"] == "b"


# --- OrderUpdateTest ------------------------------------------------------------------------------------

def test_order_update_partial(api):
    created = create(api, order("100000001", state="new", status="pending"))
    eid = created["entity_id"]
    updated = api.ok(api.post("/orders", {"entity": {"entity_id": eid, "state": "processing",
                                                     "status": "processing"}}))
    assert len(updated) > 1
    assert updated["increment_id"] == "100000001"
    assert (updated["state"], updated["status"]) == ("processing", "processing")
    only_id = api.ok(api.post("/orders", {"entity": {"entity_id": eid}}))
    assert only_id["increment_id"] == "100000001"
    complete = api.ok(api.post("/orders", {"entity": {"entity_id": eid, "state": "complete", "status": "complete"}}))
    assert complete["status"] == "complete"
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 1


def test_order_update_keeps_increment_id_through_ship_and_taxes_round_trip(api):
    o = order("100000001", state="new", status="pending")
    o["extension_attributes"]["taxes"] = [{"code": "T", "title": "T", "percent": 5, "amount": 1, "base_amount": 1}]
    created = create(api, o)
    api.ok(api.post(f"/order/{created['entity_id']}/ship", {}))
    got = api.ok(api.get(f"/orders/{created['entity_id']}"))
    again = api.ok(api.post("/orders", {"entity": {"entity_id": got["entity_id"],
                                                   "extension_attributes": got["extension_attributes"]}}))
    assert again["increment_id"] == "100000001"
    assert again["extension_attributes"]["taxes"] == got["extension_attributes"]["taxes"]


def test_order_update_unknown_entity_is_404(api):
    resp = api.post("/orders", {"entity": {"entity_id": 4242, "state": "processing"}})
    assert resp.status_code == 404


# --- OrderStatusHistoryAddTest --------------------------------------------------------------------------

def test_order_comment_add(api):
    created = create(api, order("100000001"))
    eid = created["entity_id"]
    body = {"id": eid, "statusHistory": {"comment": "Hello", "entity_id": None, "is_customer_notified": 1,
                                         "created_at": None, "parent_id": eid, "entity_name": None,
                                         "status": None, "is_visible_on_front": 1}}
    assert api.ok(api.post(f"/orders/{eid}/comments", body)) is True
    got = api.ok(api.get(f"/orders/{eid}"))
    assert got["status_histories"][0]["comment"] == "Hello"
    assert got["status_histories"][0]["is_customer_notified"] == 1
    assert got["status"] == "processing"  # a comment without status keeps it (2.4.7+, AC-1342)
    comments = api.ok(api.get(f"/orders/{eid}/comments"))
    assert comments["total_count"] == 1 and comments["items"][0]["comment"] == "Hello"


def test_comment_with_status_sets_order_status(api):
    eid = create(api, order("100000001"))["entity_id"]
    api.ok(api.post(f"/orders/{eid}/comments", {"statusHistory": {"comment": "x", "status": "fraud"}}))
    api.ok(api.post(f"/orders/{eid}/comments", {"statusHistory": {"comment": "y", "status": "processing"}}))
    assert api.ok(api.get(f"/orders/{eid}/statuses")) == "processing"
    got = api.ok(api.get(f"/orders/{eid}"))
    assert [h["comment"] for h in got["status_histories"]] == ["y", "x"]  # newest first


def test_comment_on_unknown_order_is_404(api):
    assert api.post("/orders/999/comments", {"statusHistory": {"comment": "x"}}).status_code == 404


def test_partial_response_fields(api):
    create(api, order("100000001", ext_order_id="111-1"))
    params = criteria([]) | {"fields": "items[entity_id,increment_id,ext_order_id,state,status],total_count"}
    result = api.ok(api.get("/orders", params=params))
    assert result == {"items": [{"entity_id": 1, "increment_id": "100000001", "ext_order_id": "111-1",
                                 "state": "processing", "status": "processing"}], "total_count": 1}
    one = api.ok(api.get("/orders/1", params={"fields": "increment_id,billing_address[city],items[sku]"}))
    assert one == {"increment_id": "100000001", "billing_address": {"city": "City"}, "items": [{"sku": "simple"}]}


def test_duplicate_increment_id_in_a_store_is_refused(api):
    create(api, order("100000001"))
    resp = api.put("/orders/create", {"entity": order("100000001")})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Unique constraint violation found"}
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 1


def test_missing_condition_type_is_eq_and_echoed_as_eq(api):
    create(api, order("100000001"))
    create(api, order("100000002"))
    params = {"searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
              "searchCriteria[filter_groups][0][filters][0][value]": "100000002"}
    result = api.ok(api.get("/orders", params=params))
    assert [o["increment_id"] for o in result["items"]] == ["100000002"]
    assert result["search_criteria"]["filter_groups"][0]["filters"][0]["condition_type"] == "eq"
    params["searchCriteria[filter_groups][0][filters][0][condition_type]"] = "bogus"
    assert api.ok(api.get("/orders", params=params))["total_count"] == 1  # unknown keys fall back to `=`


def test_text_columns_compare_as_text_numeric_columns_as_numbers(api):
    """MySQL semantics: increment_id is varchar ('1' ≠ '000000001'), grand_total is decimal (100 = '100.00')."""
    create(api, order())
    def count(field, value, cond="eq"):
        return api.ok(api.get("/orders", params=criteria([[(field, value, cond)]])))["total_count"]
    assert count("increment_id", "1") == 0
    assert count("increment_id", "000000001") == 1
    assert count("increment_id", "1,2", "in") == 0
    assert count("entity_id", "1") == 1
    assert count("grand_total", "20.00") == 1
    assert count("grand_total", "20.00,99", "in") == 1
    assert count("customer_email", "CUSTOMER@NULL.COM") == 1


def test_explicit_nulls_get_defaults_and_client_item_ids_are_ignored(api):
    first = create(api, order())
    o = order(created_at=None, updated_at=None, store_name=None)
    o["items"][0].update({"item_id": first["items"][0]["item_id"], "created_at": None, "store_id": None})
    created = create(api, o)
    assert created["created_at"] and created["updated_at"] and created["store_name"]
    assert created["items"][0]["item_id"] != first["items"][0]["item_id"]
    assert created["items"][0]["store_id"] == 1 and created["items"][0]["created_at"]


@pytest.mark.parametrize(("where", "field"), [
    ("order", "shipping_method_code"), ("item", "qty"), ("billing_address", "state"), ("payment", "po"),
])
def test_unknown_fields_are_refused_like_service_input_processor(api, where, field):
    o = order()
    target = {"order": o, "item": o["items"][0], "billing_address": o["billing_address"], "payment": o["payment"]}
    target[where][field] = "x"
    resp = api.put("/orders/create", {"entity": o})
    assert resp.status_code == 400
    assert resp.json() == {"message": '"%fieldName" is not supported. Correct the field name and try again.',
                           "parameters": {"fieldName": field}}
