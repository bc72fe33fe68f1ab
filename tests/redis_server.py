"""A redis-server of the test run's own, on a free TCP port, so two suites (or a demo) on one machine never
touch each other's data, and no test empties a database it did not create.

The server is the demo's (`sandbox.redis_server`); tests add a database per URL and a crash (SIGKILL).
"""

from __future__ import annotations

from sandbox.redis_server import PrivateRedisServer, free_port

__all__ = ["PrivateRedis", "free_port"]


class PrivateRedis(PrivateRedisServer):
    """`redis-server` without persistence in `directory`, on a free port; `url` names database 0."""

    def start(self, port: int | None = None) -> PrivateRedis:
        """Start on a free port, or on `port` (a restart on the port a killed server had)."""
        self.port = port or 0
        super().start()
        return self

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: nothing saved, every client's connection drops."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
