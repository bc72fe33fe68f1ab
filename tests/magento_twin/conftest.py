"""Fixtures of the Magento twin's contract tests: one twin per module, emptied before each test."""

from __future__ import annotations

import pytest

from sandbox.magento.testing import start_magento_twin
from tests.magento_twin.payloads import Api


@pytest.fixture(scope="module")
def twin():
    t = start_magento_twin()
    yield t
    t.stop()


@pytest.fixture
def api(twin):
    twin.reset()
    return Api(twin)
