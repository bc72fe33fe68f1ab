"""Random query strings at every GET route and random form bodies at every POST route, as each role: no
answer is ever a 500 (Hypothesis; a failure prints the smallest request that broke it)."""

from __future__ import annotations

import string
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.storage.models import SkuMapping, User

ORDER = "111-0000000-0000001"
ROLES = ("viewer", "operator", "admin", "scoped-operator")

# Query and form keys the admin reads, so random values reach the parsing code, plus random ones.
KEYS = [
    "from", "to", "ship_by_from", "ship_by_to", "deliver_by_from", "deliver_by_to", "order_number", "buyer",
    "total_min", "total_max", "status", "import_state", "prime", "premium", "sort", "dir", "page", "per_page",
    "store", "q", "next", "seller_sku", "catalog_sku", "order", "origin", "before", "then", "reason",
    "name", "line1", "line2", "line3", "city", "region", "postal_code", "country_code", "phone", "username",
    "password", "confirm", "role", "active", "unlock", "stores", "import_enabled", "payment_method",
    "import_from", "store_view_code", "customer_creation", "order_number_source", "stock_handling",
]
ODD = [
    "", "0", "-1", "99999999999999999999999", "9999-12-31", "0001-01-01", "10000-01-01", "1e999999", "NaN",
    "-Infinity", "Error", "PartiallyShipped", "asc", "desc", "ship_by", "us", "uk", "nope", "ZZ",
    "javascript:alert(1)", "<script>alert(1)</script>", "%", "_", "\\", "\u0000", "\ud7ff", "‮", "a" * 300,
    "//evil.example", "/orders", "'; DROP TABLE amazon_order; --", ORDER,
]
values = st.one_of(st.sampled_from(ODD), st.text(max_size=40))
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12))
pairs = st.lists(st.tuples(keys, values), max_size=8)
raw_query = st.text(alphabet=string.printable, max_size=60)  # unparsed: %zz, &&==, ...


@pytest.fixture
def site(h):
    """Two stores, orders in every state, a mapping, and a signed-in client per role (the scoped operator
    sees the US store only)."""
    from bridge.storage.models import UserStore

    us = h.add_store("us", "US store")
    uk = h.add_store("uk", "UK store")
    h.add_order(us.id, ORDER, import_state="error", last_error='Product "SKU-1" does not exist')
    h.add_order(us.id, "111-0000000-0000002", status="Shipped", import_state="imported", magento_entity_id=4)
    h.add_order(us.id, "111-0000000-0000003", fulfillment_channel="AFN", status="PartiallyShipped")
    h.add_order(uk.id, "202-0000000-0000001", import_state="error", last_error="x")
    with h.runtime.db.session() as session:
        mapping = SkuMapping(store_id=us.id, seller_sku="SKU-1", catalog_sku="CAT-1")
        session.add(mapping)
        session.flush()
        mapping_id = mapping.id
    clients = {role: h.client(role.removeprefix("scoped-"), username=role) for role in ROLES}
    h.add_user("target", "viewer")  # the user the users pages edit (never one of the signed-in clients)
    with h.runtime.db.session() as session:
        scoped = session.query(User).filter_by(username="scoped-operator").one()
        session.add(UserStore(user_id=scoped.id, store_id=us.id))
        target = session.query(User).filter_by(username="target").one().id
    params = {
        "amazon_order_id": ORDER,
        "store_code": "us",
        "mapping_id": mapping_id,
        "user_id": target,
        "queue_name": "orders",
        "job_id": "import-1-x",
        "filename": "admin.css",
        "country_code": "US",
        "run_id": 1,
    }
    rules = [r for r in h.app.url_map.iter_rules() if r.endpoint not in ("auth.logout",)]

    def path(rule) -> str:
        return rule.build({name: params[name] for name in rule.arguments})[1]

    gets = [path(r) for r in rules if "GET" in r.methods and r.endpoint != "static"]
    posts = [path(r) for r in rules if "POST" in r.methods]
    return h, clients, gets, posts


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def test_the_routes_are_all_covered(site):
    _, _, gets, posts = site
    assert "/orders" in gets and "/orders/export.csv" in gets and "/stores/us/sku/products" in gets
    assert f"/orders/{ORDER}/address" in posts and "/stores/us/retry-errors" in posts and "/login" in posts
    assert len(gets) >= 15 and len(posts) >= 15


@FUZZ
@given(data=st.data())
def test_random_query_strings_never_answer_500(site, data):
    h, clients, gets, _ = site
    role = data.draw(st.sampled_from(ROLES))
    url = data.draw(st.sampled_from(gets))
    query = data.draw(st.one_of(pairs.map(lambda p: urlencode(p)), raw_query))
    response = clients[role].get(url, query_string=query)
    assert response.status_code < 500, (role, url, query, response.get_data(as_text=True)[:500])


@FUZZ
@given(data=st.data())
def test_random_form_bodies_never_answer_500(site, data):
    h, clients, _, posts = site
    role = data.draw(st.sampled_from(ROLES))
    url = data.draw(st.sampled_from(posts))
    body = data.draw(pairs)
    client = clients[role]
    form: dict[str, list[str]] = {}
    for key, value in body:
        form.setdefault(key, []).append(value)
    if data.draw(st.booleans()) or not form:  # mostly with the page's token, so the views themselves run
        form["csrf_token"] = [client.token()]
    response = client.client.post(url, data=form)
    assert response.status_code < 500, (role, url, form, response.get_data(as_text=True)[:500])


def test_the_far_future_filter_of_the_issue(site):
    _, clients, _, _ = site
    for role in ROLES:
        assert clients[role].get("/orders?to=9999-12-31").status_code == 200


FILTER_KEYS = [
    "from", "to", "ship_by_from", "ship_by_to", "deliver_by_from", "deliver_by_to", "order_number", "buyer",
    "total_min", "total_max", "status", "import_state", "sort", "page", "per_page", "q",
]


def test_odd_filter_values_on_sqlite_and_postgresql(database_url, redis_url, admin_magento):
    """Every odd value in every filter of All Orders, the CSV export and SKU search, on both databases
    (PostgreSQL refuses NUL in text and checks numeric and date ranges itself)."""
    from tests.admin.conftest import twin_settings
    from tests.admin_support import AdminHarness

    harness = AdminHarness(database_url, redis_url, settings=twin_settings(database_url, redis_url, admin_magento))
    try:
        store = harness.add_store("us", "US store")
        harness.add_order(store.id, ORDER, import_state="error", last_error="x")
        client = harness.client("operator")
        for key in FILTER_KEYS:
            for value in ODD:
                for url in ("/orders", "/orders/export.csv", "/stores/us/sku"):
                    response = client.get(url, query_string={key: value})
                    assert response.status_code < 500, (url, key, value)
    finally:
        harness.close()
