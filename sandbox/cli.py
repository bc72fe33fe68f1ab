"""`amazon-bridge sandbox magento|amazon`: run a twin in the foreground."""

from __future__ import annotations

import click

from bridge.cli import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy_commands={"magento": "sandbox.magento.cli:magento", "amazon": "sandbox.amazon.cli:amazon"},
)
def sandbox() -> None:
    """Test twins of Magento's REST API and Amazon's SP-API."""
