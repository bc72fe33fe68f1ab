"""`amazon-bridge demo`: the newcomer's first command does the whole job, says what it did, runs its own
Redis, and leaves nothing running when it is stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent


def _demo_args(tmp_path, *extra):
    return [sys.executable, "-m", "bridge", "demo", "--orders", "30", "--workdir", str(tmp_path / "demo"),
            "--admin-port", "0", "--magento-port", "0", "--amazon-port", "0", *extra]


def _env():
    env = dict(os.environ)
    env.pop("AMAZON_BRIDGE_DEMO_REDIS", None)
    return env


@pytest.mark.slow
def test_demo_once_imports_generated_orders_and_reports(tmp_path, private_redis):
    # A Redis that is not the demo's: a key in it must survive the demo (it is never emptied).
    other = redis.Redis.from_url(private_redis.url_for(13))
    other.set("someone-elses-key", "1")
    result = subprocess.run(
        _demo_args(tmp_path, "--once", "--timeout", "240", "--redis-url", private_redis.url_for(13)),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"imported (\d+) of (\d+) importable orders, (\d+) in error \((\d+) not importable yet\)", last
    )
    assert match, last
    imported, importable, errors, waiting = map(int, match.groups())
    assert 0 < imported <= importable and imported + errors <= importable and importable + waiting <= 30
    assert "sign in as 'demo' with password" in result.stdout
    assert "/admin/sales/order/view/order_id/" in result.stdout
    assert other.get("someone-elses-key") == b"1"


def _descendants_alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_sigterm_stops_everything_the_demo_started(tmp_path):
    process = subprocess.Popen(_demo_args(tmp_path), cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        assert any("private redis-server on port" in line for line in lines), "".join(lines)
        children = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
        names = " ".join(" ".join(psutil.Process(pid).cmdline()) for pid in children if psutil.pid_exists(pid))
        assert "redis-server" in names and "worker" in names and "scheduler" in names, names
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "(SIGTERM): everything the demo started" in rest  # "Stopping" once running, "Stopped" if still starting
    left = _descendants_alive(children)
    for _ in range(50):  # the worker's warm shutdown finishes on its own; no process may remain
        if not left:
            break
        time.sleep(0.2)
        left = _descendants_alive(children)
    assert left == []


def test_demo_refuses_a_workdir_it_did_not_make(tmp_path):
    work = tmp_path / "demo"
    work.mkdir()
    (work / "precious.txt").write_text("mine")
    result = subprocess.run(_demo_args(tmp_path, "--once"), cwd=ROOT, env=_env(), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode != 0
    assert "was not made by the demo" in result.stderr
    assert "Traceback" not in result.stderr
    assert (work / "precious.txt").read_text() == "mine"
