"""Sign-in, sign-out, roles, and the rule that every page needs a signed-in user.

Users and roles live in the database (`bridge.storage.models.User`); there is no default account and no
default password: `amazon-bridge users create` makes the first admin.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from redis import RedisError
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bridge.storage.models import Role, User, utcnow

from .extensions import db, login_manager

bp = Blueprint("auth", __name__)

ROLE_RANK = {Role.VIEWER.value: 0, Role.OPERATOR.value: 1, Role.ADMIN.value: 2}
# Endpoints reachable without signing in: the sign-in page itself and the stylesheet it uses.
# ops.*: /healthz, /readyz, /metrics for load balancers and Prometheus (admin_ui/ops.py protects /metrics)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "ops.healthz", "ops.readyz", "ops.metrics"})
MIN_PASSWORD_LENGTH = 10

# Compared against when the user name is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))

F = TypeVar("F", bound=Callable[..., Any])


def hash_password(password: str) -> str:
    return generate_password_hash(password)


@dataclass(frozen=True)
class SignedInUser:
    """What Flask-Login keeps for a request; its id carries a password fingerprint so a password change
    signs out every other session of that user."""

    id: int
    username: str
    role: str
    fingerprint: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.fingerprint}"

    def can(self, role: str | Role) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[str(role)]


def _fingerprint(user: User) -> str:
    return user.password_hash[-12:]


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    raw_id, _, fingerprint = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or not secrets.compare_digest(_fingerprint(user), fingerprint):
        return None
    return SignedInUser(user.id, user.username, user.role, _fingerprint(user))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: an open redirect would turn our sign-in page into a
    phishing relay."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.before_app_request
def require_sign_in():
    """Every page needs a signed-in user, whether or not its view remembers to say so."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        return None
    if request.method == "GET" and request.endpoint is not None:
        path = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=path))
    return redirect(url_for("auth.login"))


def require_role(role: Role) -> Callable[[F], F]:
    """Refuse the view (403) to users below `role`; the check runs on the server, whatever the page shows."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
            if not current_user.can(role):
                abort(403, f"This needs the {role.value} role; you are signed in as {current_user.role}.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


class LoginForm(FlaskForm):
    username = StringField("User Name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


@dataclass(frozen=True)
class Wait:
    """A sign-in refused until a delay has passed: whose delay it is and for how many more seconds."""

    who: str  # "user" or "address"
    seconds: int

    def message(self) -> str:
        subject = "for this user name" if self.who == "user" else "from your network address"
        unit = "second" if self.seconds == 1 else "seconds"
        return (
            f"Too many wrong passwords {subject}: wait {self.seconds} {unit}, then try again. Nothing is locked; "
            "the wait grows with each wrong password and ends with the next successful sign-in."
        )


class LoginThrottle:
    """Progressive delay after failed sign-ins, per user name and per client address, in Redis so every
    web process sees the same counts.

    A few failures are free; after that each one makes the next attempt wait twice as long (1, 2, 4 ...
    seconds, capped). There is no lock-out: an attacker who knows an admin's name can slow that name's
    guesses, but never keep the admin out for longer than the cap. When Redis does not answer, a
    per-process count keeps the delay in force.
    """

    _local: dict[str, tuple[int, float]] = {}

    def __init__(self, redis: Any, config: Any):
        self.redis = redis
        self.window = int(config["LOGIN_FAILURE_WINDOW_SECONDS"])
        self.rules = {
            "user": (int(config["LOGIN_FREE_FAILURES"]), int(config["LOGIN_MAX_DELAY_SECONDS"])),
            "address": (int(config["LOGIN_FREE_FAILURES_PER_ADDRESS"]), int(config["LOGIN_MAX_DELAY_SECONDS"])),
        }

    @staticmethod
    def _key(kind: str, value: str) -> str:
        return f"amazon-bridge:login-failures:{kind}:{value}"

    @staticmethod
    def _wait_key(kind: str, value: str) -> str:
        return f"amazon-bridge:login-wait:{kind}:{value}"

    def _subjects(self, ip: str, username: str) -> list[tuple[str, str]]:
        return [("user", username.lower()), ("address", ip)]

    def waiting(self, ip: str, username: str) -> Wait | None:
        """The longest delay still running for this name or address, if any."""
        longest: Wait | None = None
        for who, value in self._subjects(ip, username):
            remaining = self._remaining(self._wait_key(who, value))
            if remaining > 0 and (longest is None or remaining > longest.seconds):
                longest = Wait(who, remaining)
        return longest

    def failed(self, ip: str, username: str) -> None:
        for who, value in self._subjects(ip, username):
            count = self._incr(self._key(who, value))
            free, cap = self.rules[who]
            if count > free:
                self._set_wait(self._wait_key(who, value), min(cap, 2 ** (count - free - 1)))

    def succeeded(self, username: str) -> None:
        self.clear(username)

    def clear(self, username: str) -> None:
        """Forget a user name's failures and delay (successful sign-in, or an admin's *Clear sign-in delay*)."""
        for key in (self._key("user", username.lower()), self._wait_key("user", username.lower())):
            with contextlib.suppress(RedisError):
                self.redis.delete(key)
            self._local.pop(key, None)

    # -- storage: Redis, or this process when Redis is down ----------------------------------------------
    def _remaining(self, key: str) -> int:
        try:
            ms = self.redis.pttl(key)
            return max(0, -(-int(ms) // 1000)) if ms and ms > 0 else 0
        except RedisError:
            _, until = self._local.get(key, (0, 0.0))
            return max(0, int(until - time.monotonic() + 0.999))

    def _incr(self, key: str) -> int:
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, self.window)
            return int(pipe.execute()[0])
        except RedisError:
            count, expires = self._local.get(key, (0, 0.0))
            count = (count if expires > time.monotonic() else 0) + 1
            self._local[key] = (count, time.monotonic() + self.window)
            return count

    def _set_wait(self, key: str, seconds: int) -> None:
        try:
            self.redis.set(key, "1", ex=max(1, seconds))
        except RedisError:
            self._local[key] = (1, time.monotonic() + seconds)


def _throttle() -> LoginThrottle:
    from . import get_runtime

    return LoginThrottle(get_runtime().redis, current_app.config)


INVALID_MESSAGE = "The user name or password is not right."


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; on success go back to the page that asked (same site only), e.g. an order opened from Magento."""
    next_url = safe_next(request.args.get("next") or request.form.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("orders.recent"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        ip = request.remote_addr or "unknown"
        throttle = _throttle()
        wait = throttle.waiting(ip, username)
        if wait is not None:
            flash(wait.message(), "error")
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.username == username))
            ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
            if user is not None and ok and user.active:
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = utcnow()
                db.session.commit()
                throttle.succeeded(username)
                session.clear()  # a fresh session: nothing from before sign-in carries over
                login_user(SignedInUser(user.id, user.username, user.role, _fingerprint(user)))
                session.permanent = True
                return redirect(next_url or url_for("orders.recent"))
            throttle.failed(ip, username)
            if user is not None:
                user.failed_logins = (user.failed_logins or 0) + 1
                db.session.commit()
            flash(INVALID_MESSAGE, "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST, so another site can't sign a user out with an image tag)."""
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
