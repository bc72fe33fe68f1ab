"""Users and roles (admins only): create, change role, deactivate, reset a password, unlock.

`create_user` is also what `amazon-bridge users create` and the demo call, so every account, whichever
way it is made, gets the same checks and a hashed password.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from bridge.errors import BridgeError
from bridge.storage.models import Role, Store, User, UserStore

from .auth import MIN_PASSWORD_LENGTH, LoginThrottle, hash_password, require_role
from .extensions import db
from .forms import choices

bp = Blueprint("users", __name__)

ROLE_CHOICES = [
    (Role.VIEWER.value, "Viewer (reads)"),
    (Role.OPERATOR.value, "Operator (also cancels and retries)"),
    (Role.ADMIN.value, "Admin (also settings and users)"),
]
USERNAME_RE = r"^[A-Za-z0-9_.@-]{2,64}$"


class UserError(BridgeError):
    """A user can't be created or changed; the message says why."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(session: Session, username: str, role: str | Role, password: str) -> User:
    """A new active user with a hashed password; refuses a taken name, an unknown role or a short password."""
    import re

    role = Role(role) if not isinstance(role, Role) else role
    if not re.match(USERNAME_RE, username):
        raise UserError("User names have 2 to 64 letters, digits, or . _ @ -.")
    check_password(password)
    if session.scalar(select(User).where(func.lower(User.username) == username.lower())) is not None:
        raise UserError(f"A user named {username} exists already.")
    user = User(username=username, role=role.value, password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    return user


class StoresField(SelectMultipleField):
    """Checkboxes, one per store; none ticked means every store."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


STORES_HELP = (
    "Viewers and operators see only the ticked stores, and nothing of the others; none ticked means every "
    "store. Admins always see every store."
)


def _store_field() -> StoresField:
    return StoresField("Stores", coerce=int, validate_choice=True)


def _with_stores(form: FlaskForm) -> FlaskForm:
    stores = db.session.scalars(select(Store).order_by(Store.name))
    form.stores.choices = [(s.id, f"{s.name} ({s.code})") for s in stores]
    return form


def set_stores(user: User, store_ids: list[int]) -> None:
    """Scope `user` to these stores (admins are never scoped: they manage every store)."""
    db.session.execute(delete(UserStore).where(UserStore.user_id == user.id)
                       .execution_options(synchronize_session=False))
    if user.role != Role.ADMIN.value:
        db.session.add_all(UserStore(user_id=user.id, store_id=i) for i in sorted(set(store_ids)))


def user_store_ids(user_id: int) -> list[int]:
    return list(db.session.scalars(select(UserStore.store_id).where(UserStore.user_id == user_id)))


class NewUserForm(FlaskForm):
    username = StringField(
        "User Name", validators=[DataRequired(), Regexp(USERNAME_RE, message="2 to 64 letters, digits, or . _ @ -.")]
    )
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField("Confirm Password", validators=[EqualTo("password", message="The passwords differ.")])
    stores = _store_field()


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    active = BooleanField("Active")
    password = PasswordField("New Password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField("Confirm New Password", validators=[EqualTo("password", message="The passwords differ.")])
    unlock = BooleanField("Clear sign-in delay")
    stores = _store_field()


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.active.is_(True))
        )
        or 0
    )


@bp.route("/users", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def index():
    form = _with_stores(NewUserForm())
    if form.validate_on_submit():
        try:
            user = create_user(db.session(), form.username.data.strip(), form.role.data, form.password.data)
        except UserError as exc:
            form.username.errors = [str(exc)]
        else:
            set_stores(user, form.stores.data or [])
            db.session.commit()
            flash(f"User {form.username.data} is created.", "success")
            return redirect(url_for("users.index"))
    users = list(db.session.scalars(select(User).order_by(User.username)))
    scopes: dict[int, list[str]] = {}
    for user_id, name in db.session.execute(
        select(UserStore.user_id, Store.name).join(Store, Store.id == UserStore.store_id).order_by(Store.name)
    ):
        scopes.setdefault(user_id, []).append(name)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "users/list.html", users=users, form=form, scopes=scopes, stores_help=STORES_HELP
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "No such user.")
    form = _with_stores(EditUserForm(obj=user))
    if request.method == "GET":
        form.unlock.data = False
        form.stores.data = user_store_ids(user.id)
    if form.validate_on_submit():
        demoting = user.role == Role.ADMIN.value and (form.role.data != Role.ADMIN.value or not form.active.data)
        if demoting and user.active and _active_admins() <= 1:
            form.role.errors = ["This is the last active admin; make another admin first."]
        else:
            user.role = form.role.data
            user.active = bool(form.active.data)
            set_stores(user, form.stores.data or [])
            if form.password.data:
                user.password_hash = hash_password(form.password.data)  # also signs out the user's sessions
            if form.unlock.data:
                user.failed_logins = 0
                user.locked_until = None
                from flask import current_app

                from . import get_runtime

                LoginThrottle(get_runtime().redis, current_app.config).clear(user.username)
            db.session.commit()
            flash(f"User {user.username} is saved.", "success")
            if user.id == current_user.id and user.role != Role.ADMIN.value:
                return redirect(url_for("orders.recent"))
            return redirect(url_for("users.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("users/edit.html", user=user, form=form, stores_help=STORES_HELP), status
