"""Settings: the example file documents the defaults, and a wrong value names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_file_states_exactly_the_defaults():
    assert load_settings(ROOT / "config.example.toml", env={}) == load_settings(None, env={})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[sync]\nschedule = "every five minutes"\n', "sync.schedule"),
        ("[sync]\npage_size = 500\n", "sync.page_size"),
        ('[sync]\noverlap_minutes = "ten"\n', "sync.overlap_minutes"),
        ('[magento]\nauth_mode = "basic"\n', "magento.auth_mode"),
        ('[magento]\nbase_url = "shop.example.com"\n', "magento.base_url"),
        ('[amazon]\nregion = "US"\n', "amazon.region"),
        ('[amazon]\nregoin = "NA"\n', "amazon.regoin"),
        ('[admin]\nsecure_cookies = "maybe"\n', "admin.secure_cookies"),
        ('[databse]\nurl = "sqlite://"\n', "databse"),
    ],
)
def test_wrong_value_stops_with_the_key_named(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(write(tmp_path, text), env={})


def test_secrets_are_refused_in_the_file_and_read_from_the_environment(tmp_path):
    with pytest.raises(ConfigError, match="MAGENTO_CONSUMER_SECRET"):
        load_settings(write(tmp_path, '[magento]\nconsumer_secret = "s3cret"\n'), env={})
    settings = load_settings(None, env={"MAGENTO_CONSUMER_SECRET": "from-env", "AMAZON_LWA_CLIENT_ID": "app"})
    assert settings.magento.consumer_secret == "from-env"
    assert settings.amazon.client_id == "app"
    assert "from-env" not in repr(settings)


def test_environment_overrides_non_secret_values():
    env = {"AMAZON_BRIDGE_SYNC_PAGE_SIZE": "50", "AMAZON_BRIDGE_ADMIN_SECURE_COOKIES": "on"}
    settings = load_settings(None, env=env)
    assert settings.sync.page_size == 50
    assert settings.admin.secure_cookies is True


def test_broken_toml_and_missing_file_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[sync\n"), env={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})
