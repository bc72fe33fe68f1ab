"""Amazon's own sandbox request/response pairs (`x-amzn-api-sandbox.static` in the models), sent to the
twin over HTTP: each must come back with the example's status and body, verbatim.

The pairs are read here from the reference copies of the models, independently of the twin's loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.amazon.testing import SpClient, start_amazon_twin

REFERENCE = Path(__file__).resolve().parents[1] / "sandbox" / "amazon" / "models"
SERVED = {
    "orders_2026-01-01.json": {"searchOrders", "getOrder"},
    "ordersV0.json": {"getOrders", "getOrder", "getOrderItems", "getOrderAddress", "getOrderBuyerInfo",
                      "confirmShipment"},
    "tokens_2021-03-01.json": {"createRestrictedDataToken"},
    "feeds_2021-06-30.json": {"getFeeds", "createFeed", "cancelFeed", "getFeed", "createFeedDocument",
                              "getFeedDocument"},
}


def _cases():
    for name, operations in SERVED.items():
        model = json.loads((REFERENCE / name).read_text(encoding="utf-8"))
        for path, item in model["paths"].items():
            for method, op in item.items():
                if method == "parameters" or op["operationId"] not in operations:
                    continue
                locations = {p["name"]: p["in"] for p in op.get("parameters", [])}
                for code, response in op["responses"].items():
                    for index, example in enumerate(response.get("x-amzn-api-sandbox", {}).get("static", [])):
                        params = example["request"]["parameters"]
                        if not params:
                            continue
                        yield pytest.param(method, path, locations, params, int(code), example.get("response"),
                                           id=f"{name[:-5]}-{op['operationId']}-{code}-{index}")


def _scalar(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@pytest.fixture(scope="module")
def client():
    twin = start_amazon_twin(rate_scale=1000)
    yield SpClient(twin)
    twin.stop()


@pytest.mark.parametrize(("method", "path", "locations", "params", "status", "expected"), list(_cases()))
def test_static_example_is_served_verbatim(client, method, path, locations, params, status, expected):
    url = path
    query: dict[str, str] = {}
    body = None
    for name, spec in params.items():
        value = spec["value"]
        where = "body" if name == "body" else locations.get(name, "query")
        if where == "path":
            url = url.replace("{" + name + "}", _scalar(value))
        elif where == "body":
            body = value
        else:
            query[name] = ",".join(_scalar(v) for v in value) if isinstance(value, list) else _scalar(value)
    response = client.request(method.upper(), url, params=query, json=body)
    assert response.status_code == status, response.text
    if status == 204 or expected is None:
        assert response.content == b""
    else:
        assert response.json() == expected
        # verbatim: same key order as Amazon's example
        assert list(response.json()) == list(expected)


def test_static_examples_need_a_token(client):
    response = client.http.get(client.twin.url + "/orders/v0/orders",
                               params={"CreatedAfter": "TEST_CASE_200", "MarketplaceIds": "ATVPDKIKX0DER"})
    assert response.status_code == 403


def test_non_matching_request_is_served_from_twin_data(client):
    response = client.get("/orders/v0/orders/TEST_CASE_200_NOT_AN_EXAMPLE")
    assert response.status_code == 400  # not a 3-7-7 id and not one of Amazon's examples
    response = client.get("/orders/2026-01-01/orders/114-9876543-1234567")  # example id, other includedData
    assert response.status_code == 404
