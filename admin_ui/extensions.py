"""Flask extensions, created once and bound to each app in `create_app` (microblog's pattern)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import DeclarativeBase

from bridge.storage.models import Base


def _make_db() -> SQLAlchemy:
    """Flask-SQLAlchemy on the bridge's own declarative Base, so the admin uses the workers' very tables.

    Flask-SQLAlchemy 3.1 rebuilds the base class it is given and refuses a base that declares a
    `type_annotation_map` next to its registry. Until the Base keeps that map on its registry, bind a
    bare base that shares Base's metadata: the admin only uses `db.session` and `db.engine`, never `db.Model`.
    """
    try:
        return SQLAlchemy(model_class=Base)
    except InvalidRequestError:

        class SharedMetadataBase(DeclarativeBase):
            metadata = Base.metadata

        return SQLAlchemy(model_class=SharedMetadataBase)


db = _make_db()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
