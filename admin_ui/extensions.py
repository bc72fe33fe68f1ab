"""Flask extensions, created once and bound to each app in `create_app` (microblog's pattern)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from bridge.storage.models import Base

# Flask-SQLAlchemy on the bridge's own declarative Base, so the admin uses the workers' very tables.
db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
