"""Authentication, ACL and error contract of the Magento twin: OAuth 1.0a HMAC-SHA256 really verified,
Bearer integration tokens only with the 2.4.4+ flag, the admin-token 2FA answer, Magento's error bodies."""

from __future__ import annotations

import time

import pytest
import requests
from requests_oauthlib import OAuth1

from sandbox.magento.testing import start_magento_twin
from tests.magento_twin.payloads import Api, create, criteria, order

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."


@pytest.fixture(scope="module")
def twin():
    t = start_magento_twin(admin_users={"admin": "admin123"})
    yield t
    t.stop()


def oauth(twin, **over):
    c = twin.config
    args = {"client_key": c.consumer_key, "client_secret": c.consumer_secret,
            "resource_owner_key": c.access_token, "resource_owner_secret": c.access_token_secret,
            "signature_method": "HMAC-SHA256"}
    args.update(over)
    return OAuth1(**args)


ORDERS = "/rest/V1/orders"
Q = {"searchCriteria[pageSize]": "5"}


def test_valid_oauth_signature_with_query_string(twin):
    resp = requests.get(twin.url + ORDERS, params=Q, auth=oauth(twin), timeout=10)
    assert resp.status_code == 200, resp.text


def test_oauth_signed_post_with_json_body(twin, api):
    created = create(api, order("100000001"))
    assert created["increment_id"] == "100000001"


@pytest.mark.parametrize("over", [
    {"client_secret": "wrong"},
    {"resource_owner_secret": "wrong"},
    {"client_key": "someone-else"},
    {"resource_owner_key": "other-token"},
])
def test_bad_oauth_credentials_are_401(twin, over):
    resp = requests.get(twin.url + ORDERS, params=Q, auth=oauth(twin, **over), timeout=10)
    assert resp.status_code == 401
    assert "message" in resp.json()


def test_tampered_query_breaks_the_signature(twin):
    req = requests.Request("GET", twin.url + ORDERS, params=Q, auth=oauth(twin)).prepare()
    req.url = req.url.replace("pageSize%5D=5", "pageSize%5D=6")
    resp = requests.Session().send(req, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["message"] == "The signature is invalid. Verify and try again."


def test_replayed_nonce_is_refused(twin):
    req = requests.Request("GET", twin.url + ORDERS, params=Q, auth=oauth(twin)).prepare()
    s = requests.Session()
    assert s.send(req, timeout=10).status_code == 200
    again = s.send(req, timeout=10)
    assert again.status_code == 401
    assert "nonce" in again.json()["message"]


def test_timestamp_far_in_future_is_refused(twin):
    future = str(int(time.time()) + 3600)
    resp = requests.get(twin.url + ORDERS, params=Q, auth=oauth(twin, timestamp=future), timeout=10)
    assert resp.status_code == 401


def test_hmac_sha1_still_verified(twin):
    resp = requests.get(twin.url + ORDERS, params=Q, auth=oauth(twin, signature_method="HMAC-SHA1"), timeout=10)
    assert resp.status_code == 200
    bad = requests.get(twin.url + ORDERS, params=Q,
                       auth=oauth(twin, signature_method="HMAC-SHA1", client_secret="x"), timeout=10)
    assert bad.status_code == 401


def test_no_credentials_gets_the_acl_body(twin):
    resp = requests.get(twin.url + ORDERS, params=Q, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"message": NOT_AUTHORIZED, "parameters": {"resources": "Magento_Sales::actions_view"}}


def test_bearer_integration_token_refused_by_default(twin):
    resp = requests.get(twin.url + ORDERS, params=Q, timeout=10,
                        headers={"Authorization": f"Bearer {twin.config.access_token}"})
    assert resp.status_code == 401
    assert resp.json() == {"message": NOT_AUTHORIZED, "parameters": {"resources": "Magento_Sales::actions_view"}}


def test_bearer_integration_token_accepted_with_flag():
    t = start_magento_twin(enable_integration_as_bearer=True)
    try:
        ok = requests.get(t.url + ORDERS, params=Q, timeout=10,
                          headers={"Authorization": f"Bearer {t.config.access_token}"})
        assert ok.status_code == 200
        wrong = requests.get(t.url + ORDERS, params=Q, timeout=10, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    finally:
        t.stop()


def test_missing_acl_grant_names_the_resource():
    t = start_magento_twin(acl_resources={"Magento_Sales::actions_view", "Magento_Sales::ship"})
    try:
        api = Api(t)
        assert api.get("/orders", params=criteria([])).status_code == 200
        resp = api.put("/orders/create", {"entity": order()})
        assert resp.status_code == 401
        assert resp.json() == {"message": NOT_AUTHORIZED, "parameters": {"resources": "Magento_Sales::create"}}
        products = api.get("/products/x")
        assert products.json()["parameters"] == {"resources": "Magento_Catalog::products"}
    finally:
        t.stop()


def test_parent_acl_grant_covers_children():
    t = start_magento_twin(acl_resources={"Magento_Sales::sales"})
    try:
        api = Api(t)
        created = create(api, order())
        assert api.post(f"/orders/{created['entity_id']}/hold").status_code == 200
        assert api.get("/store/storeViews").status_code == 401
    finally:
        t.stop()


# --- admin token ----------------------------------------------------------------------------------------

def admin_token(twin, body):
    return requests.post(twin.url + "/rest/V1/integration/admin/token", json=body, timeout=10)


def test_admin_token_two_factor_400(twin):
    resp = admin_token(twin, {"username": "admin", "password": "admin123"})
    assert resp.status_code == 400
    assert resp.json() == {"message": "You are required to configure personal Two-Factor Authorization in order to "
                                      "login. Please check your email."}


def test_admin_token_wrong_credentials_401(twin):
    resp = admin_token(twin, {"username": "admin", "password": "wrong"})
    assert resp.status_code == 401
    assert resp.json()["message"].startswith("The account sign-in was incorrect")


def test_admin_token_empty_fields_400(twin):
    resp = admin_token(twin, {"username": "", "password": ""})
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "username"}},
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "password"}},
        ],
    }


def test_admin_lockout_after_six_failures():
    t = start_magento_twin(admin_users={"ops": "right"})
    try:
        for _ in range(6):
            assert admin_token(t, {"username": "ops", "password": "bad"}).status_code == 401
        assert admin_token(t, {"username": "ops", "password": "right"}).status_code == 401
    finally:
        t.stop()


# --- routing and malformed input ------------------------------------------------------------------------

def test_unknown_route_is_404(api):
    resp = api.get("/no/such/thing")
    assert resp.status_code == 404
    assert resp.json() == {"message": "Request does not match any route."}


def test_known_path_wrong_verb_is_no_route(api):
    resp = api.delete("/orders")
    assert resp.status_code == 404
    assert resp.json()["message"] == "Request does not match any route."


def test_invalid_http_method_is_405(twin):
    resp = requests.patch(twin.url + ORDERS, auth=oauth(twin), timeout=10)
    assert resp.status_code == 405
    assert resp.json() == {"message": "Request method is invalid."}


def test_store_code_prefixes(twin, api):
    create(api, order("100000001"))
    for prefix in ("/rest/all/V1", "/rest/default/V1", "/rest/V1"):
        result = Api(twin, prefix).ok(Api(twin, prefix).get("/orders", params=criteria([])))
        assert result["total_count"] == 1, prefix
    unknown = Api(twin, "/rest/nosuchstore/V1").get("/orders", params=criteria([]))
    assert unknown.status_code == 404


def test_malformed_json_is_400(twin):
    resp = requests.put(twin.url + "/rest/V1/orders/create", data="{not json", auth=oauth(twin), timeout=10,
                        headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Decoding error."}


def test_json_scalar_body_is_400(twin):
    resp = requests.put(twin.url + "/rest/V1/orders/create", data="42", auth=oauth(twin), timeout=10,
                        headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


def test_unsupported_content_type_is_400(twin):
    resp = requests.put(twin.url + "/rest/V1/orders/create", data="<entity/>", auth=oauth(twin), timeout=10,
                        headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400
    assert resp.json()["parameters"] == ["text/plain"]


@pytest.mark.parametrize(("path", "value", "expected_type"), [
    ("grand_total", "lots", "float"),
    ("store_id", "main", "int"),
    ("customer_email", {"a": 1}, "string"),
])
def test_wrong_types_are_400_not_500(api, path, value, expected_type):
    resp = api.put("/orders/create", {"entity": order(**{path: value})})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["message"] == 'Error occurred during "%field_name" processing. %details'
    assert body["parameters"]["field_name"] == path
    assert f'The "{expected_type}" type was expected' in body["parameters"]["details"]


@pytest.mark.parametrize("entity", [
    {**order(), "items": "not a list"},
    {**order(), "items": [1, 2]},
    {**order(), "payment": "checkmo"},
    {**order(), "billing_address": {**order()["billing_address"], "street": 5}},
    {**order(), "extension_attributes": {"shipping_assignments": "x"}},
])
def test_malformed_order_parts_are_400(api, entity):
    resp = api.put("/orders/create", {"entity": entity})
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize(("path", "body"), [
    ("/order/{id}/invoice", {"items": "all"}),
    ("/order/{id}/invoice", {"items": [{"order_item_id": "x", "qty": 1}]}),
    ("/order/{id}/ship", {"tracks": {"track_number": "1"}}),
    ("/order/{id}/refund", {"arguments": "none"}),
    ("/orders/{id}/comments", {"statusHistory": "hello"}),
    ("/orders/{id}/comments", {"statusHistory": {"comment": ["x"]}}),
])
def test_malformed_action_bodies_are_400(api, path, body):
    eid = create(api, order())["entity_id"]
    resp = api.post(path.format(id=eid), body)
    assert resp.status_code == 400, resp.text


def test_anonymous_directory_needs_no_auth(twin):
    resp = requests.get(twin.url + "/rest/V1/directory/countries/US", timeout=10)
    assert resp.status_code == 200


JUNK_BODIES = [
    {}, [], "str", 5, {"entity": 5}, {"entity": {"entity_id": "x"}},
    {"entity": {**order(), "items": [{"qty_ordered": "x", "price": {}}]}},
    {"items": [{"order_item_id": 1, "qty": "NaN"}]}, {"items": [{"order_item_id": None}]}, {"items": [{}]},
    {"arguments": {"shipping_amount": "x"}}, {"tracks": [5]}, {"comment": {"comment": 5}},
    {"statusHistory": {"is_customer_notified": "x"}},
    {"product": {"sku": "a", "name": "x", "extension_attributes": 5}},
    {"stockItem": {"qty": "x"}},
    {"sourceItems": [{"sku": "1", "status": "x"}]},
    {"customer": {"email": "a@b.c", "firstname": "a", "lastname": "b", "website_id": "x"}},
    {"entity": {"parent_id": "x"}}, {"username": 5, "password": []},
]
JUNK_QUERIES = [
    {},
    {"searchCriteria[filter_groups][0][filters][0][field]": "x",
     "searchCriteria[filter_groups][0][filters][0][condition_type]": "weird"},
    {"searchCriteria[pageSize]": "-1", "searchCriteria[currentPage]": "-5",
     "searchCriteria[sortOrders][0][field]": "x"},
    {"searchCriteria[filter_groups][0][filters][0][field]": "grand_total",
     "searchCriteria[filter_groups][0][filters][0][value]": "abc",
     "searchCriteria[filter_groups][0][filters][0][condition_type]": "gt"},
    {"searchCriteria": "x", "fields": "items[[[,]"},
]


def test_no_route_answers_junk_with_a_500(twin, api):
    """MalformedRequestErrorHandlingTest's rule: bad bodies and parameters get 4xx, never a 500."""
    import json as jsonlib

    create(api, order(state="new", status="pending"))
    api.post("/products", {"product": {"sku": "1", "name": "x"}})
    failures = []
    for route in twin.twin.router.routes:
        for value in ("1", "abc", "-1", "99999999999999999999"):
            path = "/".join(value if s.startswith(":") else s for s in route.segments)[2:]
            variants = [(None, q) for q in JUNK_QUERIES] if route.method == "GET" else [(b, {}) for b in JUNK_BODIES]
            for body, query in variants:
                kwargs = {"params": query, "timeout": 10}
                if body is not None:
                    kwargs.update(data=jsonlib.dumps(body), headers={"Content-Type": "application/json"})
                resp = api.session.request(route.method, api.base + path, **kwargs)
                if resp.status_code >= 500:
                    failures.append((route.method, path, body, query, resp.text[:120]))
    assert not failures


def test_oauth_parameters_in_the_query_string(twin):
    auth = oauth(twin, signature_type="query")
    assert requests.get(twin.url + ORDERS, params=Q, auth=auth, timeout=10).status_code == 200
    bad = requests.get(twin.url + ORDERS, params=Q, auth=oauth(twin, signature_type="query", client_secret="x"),
                       timeout=10)
    assert bad.status_code == 401


def test_admin_token_with_configured_2fa_names_the_provider():
    t = start_magento_twin(admin_users={"admin": "pw"}, admin_2fa_configured=True)
    try:
        resp = admin_token(t, {"username": "admin", "password": "pw"})
        assert resp.status_code == 400
        assert resp.json() == {"message": "Please use the 2fa provider-specific endpoints to obtain a token.",
                               "parameters": {"active_providers": ["google"]}}
    finally:
        t.stop()


@pytest.mark.parametrize("raw", [b"[" * 100000, b"\xff\xfe{", b'{"entity": {"grand_total": NaN}}'])
def test_pathological_bodies_are_decoding_errors(twin, raw):
    resp = requests.put(twin.url + "/rest/V1/orders/create", data=raw, auth=oauth(twin), timeout=10,
                        headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Decoding error."}
