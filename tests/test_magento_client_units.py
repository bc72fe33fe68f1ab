"""The Magento client's pure parts (searchCriteria grammar, error parsing, retry policy, JSON numbers), plus
what the twin cannot produce: a proxy's HTML 502 page, a 429 with Retry-After, a 200 that is not JSON.

Those come from a tiny local WSGI app on a real socket (the twin answers like Magento, not like a proxy).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bridge.config import MagentoSettings
from bridge.magento import (
    Filter,
    MagentoClient,
    MagentoConnectionError,
    MagentoHTTPError,
    MagentoInvalidRequest,
    MagentoNotFound,
    MagentoProtocolError,
    MagentoRateLimited,
    MagentoServerError,
    MagentoTimeout,
    RetryPolicy,
    SearchCriteria,
)
from bridge.magento.client import dumps, should_retry
from bridge.magento.errors import error_from_response, fill_placeholders
from bridge.magento.models import json_number
from sandbox.server import ServerThread

# ---------------------------------------------------------------------------------------------------------
# searchCriteria


def test_search_criteria_renders_magentos_bracket_grammar():
    criteria = (
        SearchCriteria()
        .where("ext_order_id", ["A-1", "B-2"], "in")
        .where_any(Filter("state", "new"), Filter("increment_id", "10%", "like"))
        .where("customer_email", None, "notnull")
        .sort("created_at", "desc")
        .page(50, 2)
    )
    assert criteria.to_params() == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "ext_order_id"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "A-1,B-2"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "in"),
        ("searchCriteria[filter_groups][1][filters][0][field]", "state"),
        ("searchCriteria[filter_groups][1][filters][0][value]", "new"),
        ("searchCriteria[filter_groups][1][filters][0][condition_type]", "eq"),
        ("searchCriteria[filter_groups][1][filters][1][field]", "increment_id"),
        ("searchCriteria[filter_groups][1][filters][1][value]", "10%"),
        ("searchCriteria[filter_groups][1][filters][1][condition_type]", "like"),
        ("searchCriteria[filter_groups][2][filters][0][field]", "customer_email"),
        ("searchCriteria[filter_groups][2][filters][0][value]", "1"),
        ("searchCriteria[filter_groups][2][filters][0][condition_type]", "notnull"),
        ("searchCriteria[sortOrders][0][field]", "created_at"),
        ("searchCriteria[sortOrders][0][direction]", "DESC"),
        ("searchCriteria[pageSize]", "50"),
        ("searchCriteria[currentPage]", "2"),
    ]
    assert SearchCriteria.from_dict(criteria.to_dict()).to_dict() == criteria.to_dict()


def test_search_criteria_is_immutable_and_validates():
    base = SearchCriteria().where("state", "new")
    refined = base.where("status", "pending")
    assert len(base.filter_groups) == 1 and len(refined.filter_groups) == 2
    assert SearchCriteria().to_params() == [("searchCriteria", "")]
    with pytest.raises(ValueError, match="condition_type"):
        Filter("state", "new", "equals")
    with pytest.raises(ValueError, match="comma"):
        SearchCriteria().where("sku", ["A,B", "C"], "in")
    with pytest.raises(ValueError, match="needs a value"):
        Filter("state", None, "eq")
    with pytest.raises(ValueError):
        SearchCriteria().sort("x", "UP")
    with pytest.raises(ValueError):
        SearchCriteria().page(0)
    with pytest.raises(ValueError):
        SearchCriteria().where_any()


# ---------------------------------------------------------------------------------------------------------
# error bodies


def test_placeholders_positional_named_and_missing():
    assert fill_placeholders('Resource with ID "%1" not found.', ["42"]) == 'Resource with ID "42" not found.'
    assert fill_placeholders("%1 and %2", ["a", "b"]) == "a and b"
    assert fill_placeholders('"%fieldName" is required.', {"fieldName": "sku"}) == '"sku" is required.'
    assert fill_placeholders("%1 of %2", {"0": "x", "1": "y"}) == "x of y"
    assert fill_placeholders("%1 of %2", {"1": "y"}) == "%1 of y"  # PHP [1 => "y"] fills %2
    assert fill_placeholders("%1 stays, %name stays", []) == "%1 stays, %name stays"
    assert fill_placeholders("%3 is out of range", ["a"]) == "%3 is out of range"


def test_error_classes_by_status_and_aggregate_errors():
    body = {
        "message": "One or more input exceptions have occurred.",
        "errors": [{"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "email"}}],
    }
    err = error_from_response(400, json.dumps(body), method="POST", path="V1/customers")
    assert isinstance(err, MagentoInvalidRequest)
    assert err.error_messages == ['"email" is required. Enter and try again.']
    assert isinstance(error_from_response(404, '{"message":"x"}'), MagentoNotFound)
    assert isinstance(error_from_response(429, ""), MagentoRateLimited)
    assert type(error_from_response(405, '{"message":"Request method is invalid."}')) is MagentoHTTPError
    report = error_from_response(500, '{"message":"Internal Error. Report ID: webapi-6a1b2c"}')
    assert isinstance(report, MagentoServerError) and report.request_id == "webapi-6a1b2c"
    assert error_from_response(500, "{}", {"X-Request-Id": "abc"}).request_id == "abc"


def test_non_json_bodies_do_not_crash():
    html = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    err = error_from_response(502, html)
    assert isinstance(err, MagentoServerError)
    assert err.message == "502 Bad Gateway"
    assert err.body == html
    assert error_from_response(503, "").message == "HTTP 503 with an empty body"
    assert error_from_response(500, "Fatal error: Allowed memory size exhausted").message.startswith("Fatal error")
    assert error_from_response(500, '["not", "an", "object"]').message.startswith('["not"')


# ---------------------------------------------------------------------------------------------------------
# retry policy and JSON numbers


def test_retry_policy_matrix():
    p = RetryPolicy(max_attempts=3)
    sent = MagentoConnectionError("x", request_sent=True)
    not_sent = MagentoConnectionError("x", request_sent=False)
    read_timeout = MagentoTimeout("x", request_sent=True)
    assert should_retry(p, "GET", 1, sent) and should_retry(p, "GET", 1, read_timeout)
    assert not should_retry(p, "PUT", 1, sent) and not should_retry(p, "POST", 1, read_timeout)
    assert should_retry(p, "POST", 1, not_sent)
    assert should_retry(p, "GET", 1, error_from_response(503, ""))
    assert not should_retry(p, "POST", 1, error_from_response(503, ""))
    assert should_retry(p, "POST", 1, error_from_response(429, ""))
    assert not should_retry(p, "GET", 1, error_from_response(400, "{}"))
    assert not should_retry(p, "GET", 1, error_from_response(404, "{}"))
    assert not should_retry(p, "GET", 3, sent)  # attempts exhausted
    assert not should_retry(p, "PUT", 1, MagentoProtocolError("x", request_sent=True))
    assert p.backoff(1) == 0.5 and p.backoff(2) == 1.0 and p.backoff(10) == 8.0
    assert p.backoff(1, retry_after="7") == 7.0 and p.backoff(1, retry_after="9999") == 60.0
    assert p.backoff(1, retry_after="soon") == 0.5


def test_json_numbers_are_exact():
    assert json_number(Decimal("19940")) == 19940 and isinstance(json_number(Decimal("19940")), int)
    assert repr(json_number(Decimal("19.99"))) == "19.99"
    assert json_number(Decimal("-6.00")) == -6.0
    assert json_number(Decimal("25.0063")) == 25.0063
    with pytest.raises(ValueError):
        json_number(Decimal("0.12345678901234567890"))
    wire = dumps({"a": Decimal("0.10"), "b": [Decimal("3")], "n": "Zoë"})
    assert json.loads(wire) == {"a": 0.1, "b": [3], "n": "Zoë"}


# ---------------------------------------------------------------------------------------------------------
# proxy-shaped answers over real HTTP


class ProxyStub:
    """A WSGI app answering each request with the next scripted (status, headers, body); records requests."""

    def __init__(self, *answers: tuple[int, dict[str, str], str]):
        self.answers = list(answers)
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        start_response(f"{status} X", list(headers.items()))
        return [body.encode()]


BAD_GATEWAY = (502, {"Content-Type": "text/html"}, "<html><title>502 Bad Gateway</title></html>")


def stub_client(app, sleeps: list[float]) -> tuple[MagentoClient, ServerThread]:
    server = ServerThread(app).start()
    settings = MagentoSettings(base_url=server.url, auth_mode="bearer", access_token="t", timeout_seconds=5)
    return MagentoClient(settings, retry=RetryPolicy(max_attempts=3), sleep=sleeps.append), server


def test_html_502_reads_are_retried_then_raised_writes_are_not():
    app = ProxyStub(BAD_GATEWAY)
    sleeps: list[float] = []
    client, server = stub_client(app, sleeps)
    try:
        with pytest.raises(MagentoServerError, match="502 Bad Gateway"):
            client.get_order(1)
        assert len(app.seen) == 3 and sleeps == [0.5, 1.0]
        app.seen.clear()
        with pytest.raises(MagentoServerError) as exc:
            client.invoice(1)
        assert exc.value.status == 502 and len(app.seen) == 1
    finally:
        server.stop()


def test_429_is_retried_for_writes_honouring_retry_after():
    app = ProxyStub((429, {"Retry-After": "2"}, ""), (200, {"Content-Type": "application/json"}, "7"))
    sleeps: list[float] = []
    client, server = stub_client(app, sleeps)
    try:
        assert client.invoice(5) == 7
        assert app.seen == [("POST", "/rest/V1/order/5/invoice")] * 2
        assert sleeps == [2.0]
    finally:
        server.stop()


def test_a_200_that_is_not_json_is_a_protocol_error_with_request_sent():
    app = ProxyStub((200, {"Content-Type": "text/html"}, "<html>maintenance</html>"))
    client, server = stub_client(app, [])
    try:
        with pytest.raises(MagentoProtocolError) as exc:
            client.create_order({"entity": {}})
        assert exc.value.request_sent is True and len(app.seen) == 1
    finally:
        server.stop()


def test_bearer_header_and_json_body_on_the_wire():
    captured: dict = {}

    def app(environ, start_response):
        captured["auth"] = environ.get("HTTP_AUTHORIZATION")
        captured["type"] = environ.get("CONTENT_TYPE")
        captured["body"] = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"entity_id": 9, "increment_id": "000000009", "ext_order_id": "A", "state": "new"}']

    client, server = stub_client(app, [])
    try:
        ref = client.create_order({"entity": {"grand_total": Decimal("10.10"), "name": "Zoë"}})
        assert (ref.entity_id, ref.increment_id, ref.ext_order_id, ref.state, ref.status) == (
            9,
            "000000009",
            "A",
            "new",
            None,
        )
        assert captured["auth"] == "Bearer t"
        assert captured["type"] == "application/json"
        assert json.loads(captured["body"]) == {"entity": {"grand_total": 10.1, "name": "Zoë"}}
        assert b"10.1" in captured["body"]
    finally:
        server.stop()


def test_comment_and_invoice_bodies_on_the_wire():
    bodies: list[tuple[str, dict]] = []

    def app(environ, start_response):
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        bodies.append((environ["PATH_INFO"], json.loads(raw)))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"true" if environ["PATH_INFO"].endswith("/comments") else b"31"]

    client, server = stub_client(app, [])
    try:
        assert client.add_comment(12, "Imported", status="processing") is True
        assert client.invoice(12) == 31
    finally:
        server.stop()
    assert bodies[0] == (
        "/rest/V1/orders/12/comments",
        {
            "statusHistory": {
                "comment": "Imported",
                "is_customer_notified": 0,
                "is_visible_on_front": 0,
                "status": "processing",  # always sent: a missing status nulls it (magento/magento2#34180)
                "parent_id": 12,
            }
        },
    )
    assert bodies[1] == ("/rest/V1/order/12/invoice", {"capture": False, "notify": False, "appendComment": False})
