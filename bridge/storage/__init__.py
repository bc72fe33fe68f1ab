"""Persistence: models, engines/sessions outside Flask, migrations."""
