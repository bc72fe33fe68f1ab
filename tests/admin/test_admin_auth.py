"""Sign-in, roles, CSRF, throttling and the rule that every route needs a signed-in user."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from admin_ui import SecretKeyMissing, create_app
from admin_ui.auth import safe_next
from bridge.storage.models import OutboundAction, User
from tests.admin_support import PASSWORD, AdminHarness, make_settings

ORDER = "111-1111111-1111111"


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    store = harness.add_store()
    harness.add_order(store.id, ORDER)
    yield harness
    harness.close()


def _url_for_rule(rule) -> str:
    values = {
        "amazon_order_id": ORDER,
        "store_code": "us",
        "mapping_id": 1,
        "user_id": 1,
        "queue_name": "orders",
        "job_id": "import-1-x",
        "filename": "admin.css",
        "run_id": 1,
        "country_code": "US",
    }
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(r"<(?:[a-z]+:)?" + name + ">", quote(str(values[name]), safe=""), path)
    return path


def test_every_route_needs_sign_in(h):
    """Walk the whole url_map: anonymous requests, with a valid CSRF token even, land on the sign-in page."""
    client = h.client()
    token = client.token()
    checked = 0
    for rule in h.app.url_map.iter_rules():
        if rule.endpoint in ("auth.login", "static", "ops.healthz", "ops.readyz", "ops.metrics"):
            continue  # public on purpose: load balancers and Prometheus (tests/test_ops_web.py)
        url = _url_for_rule(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.client.get(url)
            else:
                response = client.client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, url, response.status_code)
            assert urlsplit(response.location).path == "/login", (method, url, response.location)
            checked += 1
    assert checked >= 20
    with h.runtime.db.session() as session:
        assert session.scalars(select(OutboundAction)).all() == []


def test_only_the_sign_in_page_and_stylesheet_are_public(h):
    public = {r.endpoint for r in h.app.url_map.iter_rules()} - {"auth.login", "static"}
    blueprints = {endpoint.split(".")[0] for endpoint in public}
    assert blueprints == {
        "auth", "orders", "cancel", "buyer_cancel", "address", "settings", "sku", "status", "users", "ops",
        "store_actions", "export",
    }
    assert {e for e in public if e.startswith("ops.")} == {"ops.healthz", "ops.readyz", "ops.metrics"}
    assert h.client().get("/static/admin.css").status_code == 200


def test_no_user_no_default_password(h):
    with h.runtime.db.session() as session:
        assert session.scalars(select(User)).all() == []
    for name, password in [("admin", "admin"), ("admin", "password"), ("demo", "demo")]:
        assert h.client().login(name, password).status_code == 401


def test_sign_in_returns_to_the_page_that_asked(h):
    """A click on *View or Cancel Amazon Order* in Magento lands on the order after signing in."""
    h.add_user("olga", "operator")
    client = h.client()
    target = f"/orders/{ORDER}?store=us"
    first = client.get(target)
    assert first.status_code == 302
    login_url = first.location
    assert urlsplit(login_url).path == "/login"
    page = client.get(login_url).get_data(as_text=True)
    assert 'name="next" value="/orders/111-1111111-1111111?store=us"' in page
    response = client.login("olga", next_url=quote(target, safe=""))
    assert response.status_code == 302
    assert response.location == target
    assert ORDER in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "orders",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_next_never_leaves_the_site(h, target):
    h.add_user("olga", "operator")
    response = h.client().login("olga", next_url=quote(target, safe=""))
    assert response.status_code == 302
    location = response.location
    assert urlsplit(location).netloc in ("", "localhost")
    assert location in ("/", "/%0d%0aSet-Cookie:x=1") or location.startswith("/")
    assert "evil" not in location


def test_safe_next_keeps_paths_with_queries():
    assert safe_next("/orders?store=us&page=2") == "/orders?store=us&page=2"
    assert safe_next("/orders/1-2-3") == "/orders/1-2-3"
    assert safe_next("https://x/y") is None
    assert safe_next("//x/y") is None
    assert safe_next("/a\r\nb") is None


def test_wrong_password_is_refused_and_counted(h):
    h.add_user("olga", "operator")
    response = h.client().login("olga", "not the password")
    assert response.status_code == 401
    assert "The user name or password is not right." in response.get_data(as_text=True)
    with h.runtime.db.session() as session:
        assert session.scalar(select(User.failed_logins).where(User.username == "olga")) == 1


def _waits(h) -> dict[str, int]:
    """The running sign-in delays in Redis (name -> seconds left)."""
    redis = h.runtime.redis
    return {key.decode(): redis.ttl(key) for key in redis.keys("amazon-bridge:login-wait:*")}


def _stop_waiting(h) -> None:
    """What waiting out the delay does: the delay keys expire (no test waits on the clock)."""
    for key in h.runtime.redis.keys("amazon-bridge:login-wait:*"):
        h.runtime.redis.delete(key)


def test_wrong_passwords_slow_down_the_user_name_without_locking_it(h):
    h.add_user("olga", "operator")
    for _ in range(3):  # free failures
        assert h.client().login("olga", "wrong password").status_code == 401
    assert _waits(h) == {}
    assert h.client().login("olga", "wrong password").status_code == 401  # the fourth starts a delay
    assert 0 < _waits(h)["amazon-bridge:login-wait:user:olga"] <= 1
    response = h.client().login("olga")  # the right password, during the delay
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Too many wrong passwords for this user name: wait 1 second, then try again. Nothing is locked" in text
    _stop_waiting(h)
    assert h.client().login("olga", "wrong password").status_code == 401  # the fifth doubles it
    assert 1 < _waits(h)["amazon-bridge:login-wait:user:olga"] <= 2
    _stop_waiting(h)
    assert h.client().login("olga").status_code == 302  # no lock-out: the right password works after the wait
    with h.runtime.db.session() as session:
        assert session.scalar(select(User.locked_until).where(User.username == "olga")) is None
    assert _waits(h) == {} and not h.runtime.redis.keys("amazon-bridge:login-failures:user:*")


def test_the_delay_is_capped(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url, test_config={"LOGIN_MAX_DELAY_SECONDS": 4})
    try:
        for _ in range(12):
            _stop_waiting(harness)
            harness.client().login("nobody", "wrong password")
        assert 2 < _waits(harness)["amazon-bridge:login-wait:user:nobody"] <= 4
    finally:
        harness.close()


def test_unknown_names_are_throttled_like_known_ones(h):
    for _ in range(4):
        assert h.client().login("nobody", "wrong password").status_code == 401
    assert h.client().login("nobody", "wrong password").status_code == 429


def test_one_address_trying_many_names_is_throttled(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url, test_config={"LOGIN_FREE_FAILURES_PER_ADDRESS": 3})
    try:
        harness.add_user("olga", "operator")
        for name in ("a1", "a2", "a3", "a4"):
            assert harness.client().login(name, "guess").status_code == 401
        response = harness.client().login("olga")  # even the right password, from this address, must wait
        assert response.status_code == 429
        assert "Too many wrong passwords from your network address" in response.get_data(as_text=True)
        assert harness.runtime.redis.keys("amazon-bridge:login-failures:address:*")
    finally:
        harness.close()


def test_successful_sign_in_clears_the_count(h):
    h.add_user("olga", "operator")
    for _ in range(3):
        h.client().login("olga", "wrong password")
    assert h.client().login("olga").status_code == 302
    with h.runtime.db.session() as session:
        user = session.scalar(select(User).where(User.username == "olga"))
        assert user.failed_logins == 0 and user.last_login_at is not None


def test_inactive_user_cannot_sign_in(h):
    h.add_user("gone", "admin", active=False)
    assert h.client().login("gone").status_code == 401


def test_password_is_stored_hashed(h):
    h.add_user("olga", "operator")
    with h.runtime.db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "olga"))
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_sign_out_needs_post_and_ends_the_session(h):
    client = h.client("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert urlsplit(client.get("/").location).path == "/login"


def test_sign_out_without_csrf_token_is_refused(h):
    client = h.client("viewer")
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_password_change_signs_out_other_sessions(h):
    client = h.client("viewer", username="vera")
    assert client.get("/").status_code == 200
    from admin_ui.auth import hash_password

    with h.runtime.db.session() as session:
        session.scalar(select(User).where(User.username == "vera")).password_hash = hash_password("another password!")
    assert client.get("/").status_code == 302


def test_session_cookie_flags(sqlite_url, redis_url):
    for secure in (False, True):
        settings = make_settings(sqlite_url, redis_url, secure_cookies=secure)
        harness = AdminHarness(sqlite_url, redis_url, settings=settings)
        try:
            harness.add_user(f"u{int(secure)}", "viewer")
            client = harness.client()
            response = client.login(f"u{int(secure)}")
            cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "session" in v)
            assert "HttpOnly" in cookie
            assert "SameSite=Lax" in cookie
            assert ("Secure" in cookie) is secure
        finally:
            harness.close()


def test_refuses_to_start_without_a_secret_key(sqlite_url, redis_url):
    settings = make_settings(sqlite_url, redis_url, secret_key="")
    with pytest.raises(SecretKeyMissing, match="AMAZON_BRIDGE_SECRET_KEY"):
        create_app(settings)
    assert create_app(settings, test_config={"TESTING": True}).config["SECRET_KEY"]


def test_post_without_csrf_token_is_refused(h):
    assert h.client().post("/login", {"username": "x", "password": "y"}, csrf=False).status_code == 400
    client = h.client("operator")
    response = client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"}, csrf=False)
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    response = client.post("/stores/us/settings", {"import_enabled": "0"}, csrf=False)
    assert response.status_code == 400
    with h.runtime.db.session() as session:
        assert session.scalars(select(OutboundAction)).all() == []


def test_post_with_a_forged_token_is_refused(h):
    client = h.client("admin")
    response = client.client.post("/stores/us/settings", data={"import_enabled": "0", "csrf_token": "forged"})
    assert response.status_code == 400


# -- roles --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("viewer", 403), ("operator", 403), ("admin", 200)],
)
def test_only_admins_manage_users(h, role, expected):
    assert h.client(role).get("/users").status_code == expected


def test_viewer_cannot_cancel_retry_or_change_settings(h):
    client = h.client("viewer")
    assert client.get(f"/orders/{ORDER}/cancel").status_code == 403
    assert client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"}).status_code == 403
    assert client.post(f"/orders/{ORDER}/retry").status_code == 403
    assert client.post("/stores/us/settings", {"import_enabled": "0"}).status_code == 403
    assert client.post("/stores/us/sku/new", {"seller_sku": "A", "catalog_sku": "B"}).status_code == 403
    assert client.post("/status/failed/orders/x/requeue").status_code == 403
    page = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert "Cancel Order" not in page
    with h.runtime.db.session() as session:
        assert session.scalars(select(OutboundAction)).all() == []
        assert session.get_one(type(h.record(ORDER)), h.record(ORDER).id).import_state == "waiting"


def test_operator_cannot_change_settings_but_reads_them(h):
    client = h.client("operator")
    assert client.get("/stores/us/settings").status_code == 200
    assert client.post("/stores/us/settings", {"import_enabled": "0"}).status_code == 403


def test_admin_creates_and_edits_users(h):
    client = h.client("admin", username="root")
    response = client.post(
        "/users", {"username": "new-op", "role": "operator", "password": "long enough pw", "confirm": "long enough pw"}
    )
    assert response.status_code == 302
    with h.runtime.db.session() as session:
        user = session.scalar(select(User).where(User.username == "new-op"))
        assert user.role == "operator" and user.password_hash != "long enough pw"
        user_id = user.id
    response = client.post("/users", {"username": "short", "role": "viewer", "password": "x", "confirm": "x"})
    assert response.status_code == 400
    response = client.post(f"/users/{user_id}", {"role": "viewer", "active": "y"})
    assert response.status_code == 302
    assert h.client().login("new-op", "long enough pw").status_code == 302


def test_the_last_admin_cannot_demote_itself(h):
    client = h.client("admin", username="root")
    with h.runtime.db.session() as session:
        root_id = session.scalar(select(User.id).where(User.username == "root"))
    response = client.post(f"/users/{root_id}", {"role": "viewer", "active": "y"})
    assert response.status_code == 400
    assert "last active admin" in response.get_data(as_text=True)


def test_admin_clears_a_users_sign_in_delay(h):
    h.add_user("olga", "operator")
    for _ in range(5):
        h.client().login("olga", "wrong password")
    assert h.client().login("olga").status_code == 429
    admin = h.client("admin", username="root")
    with h.runtime.db.session() as session:
        olga_id = session.scalar(select(User.id).where(User.username == "olga"))
    assert admin.post(f"/users/{olga_id}", {"role": "operator", "active": "y", "unlock": "y"}).status_code == 302
    assert h.client().login("olga").status_code == 302


# -- CLI ------------------------------------------------------------------------------------------------------


def _config(tmp_path, sqlite_url, redis_url) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{sqlite_url}"\n\n[redis]\nurl = "{redis_url}"\n')
    return str(path)


def test_cli_users_create_from_environment(tmp_path, sqlite_url, redis_url, monkeypatch):
    from bridge.cli import main

    config = _config(tmp_path, sqlite_url, redis_url)
    monkeypatch.setenv("FIRST_ADMIN_PW", "a long admin password")
    result = CliRunner().invoke(
        main, ["--config", config, "users", "create", "alice", "--role", "admin", "--password-env", "FIRST_ADMIN_PW"]
    )
    assert result.exit_code == 0, result.output
    assert "created admin alice" in result.output
    result = CliRunner().invoke(main, ["--config", config, "users", "list"])
    assert "alice\tadmin\tactive" in result.output
    harness = AdminHarness(sqlite_url, redis_url)
    try:
        assert harness.client().login("alice", "a long admin password").status_code == 302
    finally:
        harness.close()


def test_cli_users_create_prompts_twice(tmp_path, sqlite_url, redis_url):
    from bridge.cli import main

    config = _config(tmp_path, sqlite_url, redis_url)
    result = CliRunner().invoke(
        main,
        ["--config", config, "users", "create", "bob", "--role", "operator"],
        input="first password 1\nsecond password\nbob's password!\nbob's password!\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--password-env", "MISSING_VAR"], {}, "MISSING_VAR"),
        (["--password-env", "SHORT_PW"], {"SHORT_PW": "short"}, "at least 10 characters"),
        (["--role", "root", "--password-env", "SHORT_PW"], {"SHORT_PW": "long enough pw"}, "Invalid value"),
    ],
)
def test_cli_users_create_refuses_bad_input(tmp_path, sqlite_url, redis_url, monkeypatch, args, env, message):
    from bridge.cli import main

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = _config(tmp_path, sqlite_url, redis_url)
    result = CliRunner().invoke(main, ["--config", config, "users", "create", "carol", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_cli_web_refuses_without_secret_key(tmp_path, sqlite_url, redis_url, monkeypatch):
    from bridge.cli import main

    monkeypatch.delenv("AMAZON_BRIDGE_SECRET_KEY", raising=False)
    config = _config(tmp_path, sqlite_url, redis_url)
    result = CliRunner().invoke(main, ["--config", config, "web", "--port", "0"])
    assert result.exit_code != 0
    assert "AMAZON_BRIDGE_SECRET_KEY is not set" in result.output


def test_cli_web_serves_the_admin(tmp_path, sqlite_url, redis_url):
    """`amazon-bridge web --host H --port P` migrates the database and serves the sign-in page."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _config(tmp_path, sqlite_url, redis_url)
    env = dict(os.environ, AMAZON_BRIDGE_SECRET_KEY="a test secret key for the web command")
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", config, "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/orders", allow_redirects=False, timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "the admin did not start"
                time.sleep(0.2)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
        assert "Welcome, please sign in" in requests.get(f"http://127.0.0.1:{port}/login", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=10)
