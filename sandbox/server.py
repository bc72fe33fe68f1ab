"""Serve a WSGI app on a real socket in a background thread (tests, demo, benchmarks)."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server


class ServerThread:
    """A threaded werkzeug server on host:port (port 0 picks a free one); `url` is its base URL."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"twin:{self.port}", daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
