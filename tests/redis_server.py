"""A redis-server of the test run's own, on a free TCP port, so two suites (or a demo) on one machine never
touch each other's data, and no test empties a database it did not create."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

from redis import Redis, RedisError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """`redis-server` without persistence in `directory`, on a free port; `url` names database 0."""

    def __init__(self, directory: str):
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.url = ""

    def start(self, port: int | None = None) -> PrivateRedis:
        """Start on a free port, or on `port` (a restart on the port a killed server had)."""
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed; install Redis (apt-get install redis-server)")
        for _ in range(1 if port else 5):  # the free port may be taken between asking and binding: try another
            self.port = port or free_port()
            self.process = subprocess.Popen(
                [server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--dir", self.directory],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            self.url = f"redis://127.0.0.1:{self.port}/0"
            for _ in range(100):
                if self.process.poll() is not None:
                    break
                try:
                    if Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                        return self
                except RedisError:
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError("could not start a private redis-server")

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: nothing saved, every client's connection drops."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
