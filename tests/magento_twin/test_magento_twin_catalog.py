"""Catalog, stock (legacy and MSI), stores, directory and customers on the Magento twin."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sandbox.magento.config import EXAMPLE_EXTRA_VIEWS, default_store_views
from sandbox.magento.testing import start_magento_twin
from tests.magento_twin.payloads import create, criteria, order


@pytest.fixture(scope="module")
def twin():
    t = start_magento_twin(store_views=default_store_views() + EXAMPLE_EXTRA_VIEWS)
    yield t
    t.stop()


def product(sku, **over):
    p = {"sku": sku, "name": f"Name {sku}", "price": 12.5, "status": 1, "type_id": "simple",
         "attribute_set_id": 4, "visibility": 4, "weight": 1}
    p.update(over)
    return {"product": p}


def test_product_create_get_update(api):
    created = api.ok(api.post("/products", product("SKU-1")))
    assert created["id"] > 0 and created["sku"] == "SKU-1" and created["price"] == 12.5
    got = api.ok(api.get("/products/SKU-1"))
    assert got["name"] == "Name SKU-1"
    assert got["extension_attributes"]["stock_item"]["qty"] == 0
    updated = api.ok(api.put("/products/SKU-1", {"product": {"price": 20}}))
    assert updated["price"] == 20 and updated["id"] == created["id"]


def test_sku_with_slash_and_space_is_url_encoded(api):
    sku = "AB/12 x"
    api.ok(api.post("/products", product(sku)))
    got = api.ok(api.get("/products/" + quote(sku, safe="")))
    assert got["sku"] == sku


def test_unknown_product_is_404(api):
    resp = api.get("/products/nope")
    assert resp.status_code == 404
    assert resp.json() == {"message": "The product that was requested doesn't exist. Verify the product and try again."}


def test_product_validation(api):
    assert api.post("/products", {"product": {"name": "x"}}).status_code == 400
    assert api.post("/products", {"product": {"sku": "x"}}).status_code == 400
    assert api.post("/products", product("P", price="cheap")).status_code == 400
    assert api.post("/products", {"product": "P"}).status_code == 400


def test_product_search_in_condition(api):
    for sku in ("A", "B", "C"):
        api.ok(api.post("/products", product(sku)))
    result = api.ok(api.get("/products", params=criteria([[("sku", "A,C", "in")]])))
    assert sorted(p["sku"] for p in result["items"]) == ["A", "C"]
    assert result["total_count"] == 2


def test_legacy_stock_items(api):
    api.ok(api.post("/products", product("S1")))
    item = api.ok(api.get("/stockItems/S1"))
    assert item["qty"] == 0 and item["is_in_stock"] is False
    item_id = api.ok(api.put(f"/products/S1/stockItems/{item['item_id']}",
                             {"stockItem": {"qty": 7, "is_in_stock": True}}))
    assert item_id == item["item_id"]
    assert api.ok(api.get("/stockItems/S1"))["qty"] == 7
    assert api.ok(api.get("/stockStatuses/S1"))["stock_status"] == 1
    assert api.ok(api.get("/inventory/get-product-salable-quantity/S1/1")) == 7


def test_msi_source_items_and_salable_quantity(api):
    api.ok(api.post("/products", product("M1")))
    api.ok(api.post("/products", product("M2")))
    assert api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": "M1", "source_code": "default", "quantity": 500, "status": 1},
        {"sku": "M2", "source_code": "default", "quantity": 0, "status": 0},
    ]})) == []
    listed = api.ok(api.get("/inventory/source-items", params=criteria([[("sku", "M1", "eq")]])))
    assert listed["items"] == [{"sku": "M1", "source_code": "default", "quantity": 500, "status": 1}]
    assert api.ok(api.get("/inventory/get-product-salable-quantity/M1/1")) == 500
    assert api.ok(api.get("/inventory/is-product-salable/M1/1")) is True
    assert api.ok(api.get("/inventory/is-product-salable/M2/1")) is False
    assert api.ok(api.get("/inventory/is-product-salable-for-requested-qty/M1/1/3"))["salable"] is True
    assert api.ok(api.get("/inventory/is-product-salable-for-requested-qty/M1/1/501"))["salable"] is False
    assert api.ok(api.get("/stockItems/M1"))["qty"] == 500
    assert api.ok(api.get("/inventory/stock-resolver/website/base"))["stock_id"] == 1


def test_direct_order_save_makes_no_reservation(api):
    """magento/magento2#26038: salable quantity does not move on PUT /V1/orders/create."""
    api.ok(api.post("/products", product("R1")))
    api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": "R1", "source_code": "default", "quantity": 10, "status": 1}]}))
    create(api, order())
    assert api.ok(api.get("/inventory/get-product-salable-quantity/R1/1")) == 10


def test_source_items_validation(api):
    assert api.post("/inventory/source-items", {"sourceItems": []}).status_code == 400
    assert api.post("/inventory/source-items", {"sourceItems": "x"}).status_code == 400
    assert api.post("/inventory/source-items", {"sourceItems": [{"sku": "ghost", "quantity": 1}]}).status_code == 400


def test_store_endpoints(api):
    views = api.ok(api.get("/store/storeViews"))
    assert {v["code"]: v["id"] for v in views} == {"admin": 0, "default": 1, "uk": 2, "de": 3, "jp": 4}
    assert {w["code"] for w in api.ok(api.get("/store/websites"))} == {"admin", "base", "uk", "de", "jp"}
    assert len(api.ok(api.get("/store/storeGroups"))) == 5
    configs = api.ok(api.get("/store/storeConfigs"))
    assert {c["code"]: c["base_currency_code"] for c in configs} == {
        "default": "USD", "uk": "GBP", "de": "EUR", "jp": "JPY"}
    only = api.ok(api.get("/store/storeConfigs", params={"storeCodes[0]": "uk"}))
    assert [c["code"] for c in only] == ["uk"]


@pytest.mark.parametrize(("code", "region", "region_id"), [
    ("US", "California", "12"), ("US", "Texas", "57"), ("US", "New York", "43"),
    ("CA", "Ontario", "74"), ("DE", "Bayern", "81"),
])
def test_directory_regions_have_magentos_ids(api, code, region, region_id):
    c = api.ok(api.get(f"/directory/countries/{code}"))
    assert c["id"] == code
    assert {r["name"]: r["id"] for r in c["available_regions"]}[region] == region_id


def test_directory_countries_without_regions_and_unknown(api):
    gb = api.ok(api.get("/directory/countries/GB"))
    assert gb["full_name_english"] == "United Kingdom" and "available_regions" not in gb
    assert api.ok(api.get("/directory/countries/JP"))["three_letter_abbreviation"] == "JPN"
    assert api.get("/directory/countries/XX").status_code == 404


def test_customers_create_and_search_by_email(api):
    body = {"customer": {"email": "jane@example.com", "firstname": "Jane", "lastname": "Doe"}}
    created = api.ok(api.post("/customers", body))
    assert created["id"] > 0 and created["group_id"] == 1
    dup = api.post("/customers", body)
    assert dup.status_code == 400
    assert dup.json()["message"] == "A customer with the same email address already exists in an associated website."
    found = api.ok(api.get("/customers/search", params=criteria([[("email", "JANE@example.com", "eq")]])))
    assert [c["id"] for c in found["items"]] == [created["id"]]
    assert api.ok(api.get(f"/customers/{created['id']}"))["email"] == "jane@example.com"
    missing = api.get("/customers/999")
    assert missing.status_code == 404
    assert missing.json() == {"message": "No such entity with %fieldName = %fieldValue",
                              "parameters": {"fieldName": "customerId", "fieldValue": 999}}


def test_customer_validation(api):
    resp = api.post("/customers", {"customer": {"email": "x@example.com"}})
    assert resp.status_code == 400
    assert resp.json()["message"] == "One or more input exceptions have occurred."
    assert api.post("/customers", {"customer": {"email": "bad", "firstname": "a", "lastname": "b"}}).status_code == 400


def test_salable_for_requested_qty_error_codes(api):
    api.ok(api.post("/products", product("Q1")))
    api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": "Q1", "source_code": "default", "quantity": 20000, "status": 1}]}))
    short = api.ok(api.get("/inventory/is-product-salable-for-requested-qty/Q1/1/20001"))
    assert short["errors"][0]["code"] == "is_correct_qty-max_sale_qty"
    api.ok(api.post("/inventory/source-items", {"sourceItems": [
        {"sku": "Q1", "source_code": "default", "quantity": 2, "status": 1}]}))
    none_left = api.ok(api.get("/inventory/is-product-salable-for-requested-qty/Q1/1/3"))
    assert none_left == {"salable": False, "errors": [{"code": "is_salable_with_reservations-not_enough_qty",
                                                       "message": "The requested qty is not available"}]}


def test_salability_of_many_skus_in_one_call(api):
    """MSI's batch route: one result per requested SKU, in order, each decided as the single route does."""
    for sku, qty in (("B1", 5), ("B2", 0)):
        api.ok(api.post("/products", product(sku)))
        api.ok(api.post("/inventory/source-items", {"sourceItems": [
            {"sku": sku, "source_code": "default", "quantity": qty, "status": 1}]}))
    params = [("skuRequests[0][sku]", "B1"), ("skuRequests[0][qty]", "5"),
              ("skuRequests[1][sku]", "B2"), ("skuRequests[1][qty]", "1"), ("stockId", "1")]
    answer = api.ok(api.get("/inventory/are-product-salable-for-requested-qty", params=params))
    assert [(r["sku"], r["stock_id"], r["salable"]) for r in answer] == [("B1", 1, True), ("B2", 1, False)]
    assert answer[1]["errors"][0]["code"] == "is_salable_with_reservations-not_enough_qty"

    too_many = [("skuRequests[0][sku]", "B1"), ("skuRequests[0][qty]", "6"), ("stockId", "1")]
    assert api.ok(api.get("/inventory/are-product-salable-for-requested-qty", params=too_many))[0]["salable"] is False
    # an unknown SKU fails the whole call, as Magento's per-SKU check throws for it
    unknown = [("skuRequests[0][sku]", "B1"), ("skuRequests[0][qty]", "1"),
               ("skuRequests[1][sku]", "NOPE"), ("skuRequests[1][qty]", "1"), ("stockId", "1")]
    assert api.get("/inventory/are-product-salable-for-requested-qty", params=unknown).status_code == 400
    assert api.get("/inventory/are-product-salable-for-requested-qty",
                   params=[("stockId", "1")]).status_code == 400
