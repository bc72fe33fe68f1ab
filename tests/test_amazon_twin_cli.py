"""`amazon-bridge sandbox amazon` really serves: start it on a free port with generated orders."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import requests
from click.testing import CliRunner

from sandbox.amazon.cli import amazon
from sandbox.amazon.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REFRESH_TOKEN


def test_cli_help_lists_the_flags():
    result = CliRunner().invoke(amazon, ["--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--rate-scale", "--client-id", "--refresh-token", "--rate-500",
                 "--rate-timeout", "--seed-orders", "--seed", "--data"):
        assert flag in result.output


def test_cli_serves_generated_orders():
    process = subprocess.Popen(
        [sys.executable, "-c", "from bridge.cli import main; main()", "sandbox", "amazon", "--port", "0",
         "--seed-orders", "15", "--seed", "4", "--rate-scale", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Amazon SP-API twin on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1].strip()
        output = "".join(process.stdout.readline() for _ in range(6))
        assert DEFAULT_CLIENT_SECRET in output and DEFAULT_REFRESH_TOKEN in output
        token = None
        for _ in range(50):
            try:
                token = requests.post(url + "/auth/o2/token", data={
                    "grant_type": "refresh_token", "refresh_token": DEFAULT_REFRESH_TOKEN,
                    "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}, timeout=5
                ).json()["access_token"]
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        since = (datetime.now(UTC) - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = requests.get(url + "/orders/2026-01-01/orders", params={"lastUpdatedAfter": since},
                             headers={"x-amz-access-token": token}, timeout=5).json()
        assert len(found["orders"]) == 15
    finally:
        process.terminate()
        process.wait(timeout=10)
