"""`amazon-bridge demo --once`: the newcomer's first command does the whole job and says what it did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_once_imports_generated_orders_and_reports(tmp_path, private_redis):
    env = dict(os.environ, AMAZON_BRIDGE_DEMO_REDIS=private_redis.url_for(13))
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--once", "--orders", "30", "--workdir", str(tmp_path / "demo"),
         "--admin-port", "0", "--magento-port", "0", "--amazon-port", "0", "--timeout", "240"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"imported (\d+) of (\d+) orders, (\d+) in error", last)
    assert match, last
    imported, total, errors = map(int, match.groups())
    assert total == 30 and imported > 0 and imported + errors <= total
    assert "sign in as 'demo' with password" in result.stdout
    assert "/admin/sales/order/view/order_id/" in result.stdout
