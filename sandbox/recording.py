"""Record the HTTP calls a client makes to the twins, and replay them with a bare `requests` loop.

The overhead benchmark (`bench/overhead.py`) compares the bridge's wall time with the time the same calls
take when nothing but `requests` sends them. `Recorder` is WSGI middleware put in front of a running twin: it
keeps each request (method, raw URI, headers, body) in arrival order, across twins, and the status the twin
answered. `replay` sends them again, in order, over one `requests.Session`, to fresh twins in the same state.

What is replayed is the request as it crossed the wire: the Magento OAuth 1.0a `Authorization` header and
the `Host` it was signed for are sent unchanged (the twin verifies the signature against `Host` and a fresh
twin has not seen the nonces). Only what a fresh Amazon twin hands out differently is substituted: the LWA
access token and `searchOrders` pagination tokens, mapped from the recorded answer to the replayed one.

    python -m sandbox.recording CALLS.pickle --amazon URL --magento URL   # prints the result as JSON
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

# Hop-by-hop or recomputed by requests: never copied from the recording.
_SKIP_HEADERS = frozenset({"Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Accept-Encoding"})
# Amazon answers whose values a fresh twin hands out differently (and that later requests carry).
_AMAZON_TOKEN_KEYS = ("access_token", "nextToken")


@dataclass
class Call:
    twin: str  # "amazon" | "magento"
    method: str
    uri: str  # path and query exactly as sent
    headers: dict[str, str]
    body: bytes
    status: int = 0
    tokens: dict[str, str] = field(default_factory=dict)  # Amazon only: token values in the answer
    at: float = 0.0  # time.monotonic() on arrival, to see where a run spends its time between calls
    took: float = 0.0  # seconds the twin took to answer


class CallLog:
    """The calls of every recorded twin, in one arrival order (a 1-worker run is strictly sequential)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.recording = False
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def start(self) -> None:
        with self._lock:
            self.calls = []
            self.recording = True

    def stop(self) -> list[Call]:
        with self._lock:
            self.recording = False
            return list(self.calls)


class Recorder:
    """WSGI middleware: while `log.recording`, each request is kept (before the twin sees it) with its status."""

    def __init__(self, app, twin: str, log: CallLog):
        self.app = app
        self.twin = twin
        self.log = log

    def __call__(self, environ, start_response):
        if not self.log.recording:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        body = stream.read(length) if length else (stream.read() if environ.get("wsgi.input_terminated") else b"")
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers = {k: v for k, v in headers.items() if k not in _SKIP_HEADERS}
        query = environ.get("QUERY_STRING")
        uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or (
            quote(environ.get("PATH_INFO", "")) + (f"?{query}" if query else ""))
        call = Call(self.twin, environ["REQUEST_METHOD"], uri, headers, body, at=time.monotonic())
        self.log.add(call)

        def recording_start_response(status, response_headers, exc_info=None):
            call.status = int(status.split(" ", 1)[0])
            return start_response(status, response_headers, exc_info)

        result = self.app(environ, recording_start_response)
        try:
            chunks = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        call.took = time.monotonic() - call.at
        if self.twin == "amazon":
            call.tokens = _tokens(b"".join(chunks))
        return chunks


def install(running_twin, twin: str, log: CallLog) -> None:
    """Put a Recorder in front of a running twin's WSGI server (`RunningMagentoTwin`/`RunningAmazonTwin`)."""
    server = getattr(running_twin, "_server", None) or running_twin.server
    server.server.app = Recorder(server.server.app, twin, log)


def _tokens(body: bytes) -> dict[str, str]:
    """Token values in an Amazon answer (LWA's access_token, searchOrders' pagination.nextToken)."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    found: dict[str, str] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _AMAZON_TOKEN_KEYS and isinstance(value, str):
                    found[key] = value
                elif isinstance(value, dict):
                    walk(value)

    walk(data)
    return found


@dataclass
class ReplayResult:
    seconds: float
    calls: int
    status_mismatches: list[str]  # "<i> METHOD uri: recorded 200, replayed 400"


def replay(calls: list[Call], *, amazon_url: str, magento_url: str, timeout: float = 60) -> ReplayResult:
    """Send `calls` again in order over one Session; the clock covers the loop only."""
    session = requests.Session()
    bases = {"amazon": amazon_url.rstrip("/"), "magento": magento_url.rstrip("/")}
    swaps: dict[str, str] = {}  # recorded Amazon token -> the fresh twin's
    mismatches: list[str] = []
    started = time.perf_counter()
    for i, call in enumerate(calls):
        uri, headers, body = call.uri, call.headers, call.body
        if call.twin == "amazon" and swaps:
            uri, headers, body = _swap(uri, headers, body, swaps)
        prepared = session.prepare_request(
            requests.Request(call.method, bases[call.twin] + uri, headers=headers, data=body or None))
        prepared.url = bases[call.twin] + uri  # exactly as recorded: no re-quoting (the OAuth signature covers it)
        response = session.send(prepared, timeout=timeout)
        if call.twin == "amazon" and call.tokens:
            fresh = _tokens(response.content)
            for key, old in call.tokens.items():
                if key in fresh and fresh[key] != old:
                    swaps[old] = fresh[key]
        if response.status_code != call.status:
            mismatches.append(f"{i} {call.method} {call.uri[:80]}: recorded {call.status}, "
                              f"replayed {response.status_code} {response.text[:200]}")
    seconds = time.perf_counter() - started
    session.close()
    return ReplayResult(seconds, len(calls), mismatches)


def _swap(uri: str, headers: dict[str, str], body: bytes, swaps: dict[str, str]):
    headers = dict(headers)
    for old, new in swaps.items():
        if old in uri or quote(old, safe="") in uri:
            uri = uri.replace(quote(old, safe=""), quote(new, safe="")).replace(old, new)
        for name, value in headers.items():
            if old in value:
                headers[name] = value.replace(old, new)
        if body and old.encode() in body:
            body = body.replace(old.encode(), new.encode())
    return uri, headers, body


def save(calls: list[Call], path: str) -> None:
    with open(path, "wb") as f:
        pickle.dump(calls, f, protocol=pickle.HIGHEST_PROTOCOL)


def load(path: str) -> list[Call]:
    with open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 - a file this benchmark wrote itself


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Replay recorded twin calls with a bare requests loop.")
    parser.add_argument("calls")
    parser.add_argument("--amazon", required=True)
    parser.add_argument("--magento", required=True)
    args = parser.parse_args(argv)
    calls = load(args.calls)
    result = replay(calls, amazon_url=args.amazon, magento_url=args.magento)
    json.dump({"seconds": result.seconds, "calls": result.calls, "status_mismatches": result.status_mismatches},
              sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
