"""WSGI entry point for production servers: `gunicorn -w 4 'admin_ui.wsgi:app'`.

Settings come from the file in AMAZON_BRIDGE_CONFIG (or ./config.toml), the secret key from
AMAZON_BRIDGE_SECRET_KEY; run `amazon-bridge db upgrade` before starting.
"""

from __future__ import annotations

import os

from admin_ui import create_app
from bridge.runtime import Runtime

app = create_app(runtime=Runtime.from_config(os.environ.get("AMAZON_BRIDGE_CONFIG")))
