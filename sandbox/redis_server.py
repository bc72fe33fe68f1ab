"""A private `redis-server` on a free port for the demo: nobody else's data is ever touched.

It runs without persistence in a directory of the caller's, and stops with the demo.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

from redis import Redis, RedisError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PrivateRedisServer:
    """`redis-server --port <free> --save ''` in `directory`; `url` names its database 0."""

    def __init__(self, directory: str, port: int = 0):
        self.directory = directory
        self.port = port
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedisServer:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed")
        wanted = self.port
        for _ in range(5):  # a free port may be taken between asking and binding: try another
            self.port = wanted or free_port()
            self.process = subprocess.Popen(
                [server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--dir", self.directory],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )
            for _ in range(100):
                if self.process.poll() is not None:
                    break
                try:
                    if Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                        return self
                except RedisError:
                    time.sleep(0.05)
            self.stop()
            if wanted:
                break
        raise RuntimeError(f"could not start redis-server on port {self.port or 'any'}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
