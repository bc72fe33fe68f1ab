"""Users and roles (admins only): create, change role, deactivate, reset a password, unlock.

`create_user` is also what `amazon-bridge users create` and the demo call, so every account, whichever
way it is made, gets the same checks and a hashed password.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from bridge.storage.models import Role, User

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


class UserError(ValueError):
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


class NewUserForm(FlaskForm):
    username = StringField(
        "User Name", validators=[DataRequired(), Regexp(USERNAME_RE, message="2 to 64 letters, digits, or . _ @ -.")]
    )
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField("Confirm Password", validators=[EqualTo("password", message="The passwords differ.")])


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    active = BooleanField("Active")
    password = PasswordField("New Password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField("Confirm New Password", validators=[EqualTo("password", message="The passwords differ.")])
    unlock = BooleanField("Unlock sign-in")


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
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            create_user(db.session, form.username.data.strip(), form.role.data, form.password.data)
        except UserError as exc:
            form.username.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"User {form.username.data} is created.", "success")
            return redirect(url_for("users.index"))
    users = list(db.session.scalars(select(User).order_by(User.username)))
    status = 400 if request.method == "POST" else 200
    return render_template("users/list.html", users=users, form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "No such user.")
    form = EditUserForm(obj=user)
    if request.method == "GET":
        form.unlock.data = False
    if form.validate_on_submit():
        demoting = user.role == Role.ADMIN.value and (form.role.data != Role.ADMIN.value or not form.active.data)
        if demoting and user.active and _active_admins() <= 1:
            form.role.errors = ["This is the last active admin; make another admin first."]
        else:
            user.role = form.role.data
            user.active = bool(form.active.data)
            if form.password.data:
                user.password_hash = hash_password(form.password.data)  # also signs out the user's sessions
            if form.unlock.data:
                user.failed_logins = 0
                user.locked_until = None
                from . import get_runtime

                LoginThrottle(get_runtime().redis, 0, 0)._clear(LoginThrottle._key("name", user.username.lower()))
            db.session.commit()
            flash(f"User {user.username} is saved.", "success")
            if user.id == current_user.id and user.role != Role.ADMIN.value:
                return redirect(url_for("orders.recent"))
            return redirect(url_for("users.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("users/edit.html", user=user, form=form), status
