"""Persistence: JSON documents per entity kind in SQLite, mirrored in memory for fast searches.

The twin is the only writer of its file, so an in-memory copy stays authoritative; every write goes
through to SQLite under one lock, which also makes id sequences safe under the threaded server.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS seq (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Store:
    """Entity documents keyed by (kind, key); `sequence()` hands out Magento-style auto-increment ids."""

    def __init__(self, path: str | None):
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        if path:
            # One writer (this process): WAL without fsync per statement keeps benchmarks on a file fast.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._depth = 0
        self._undo: list[tuple[str, str, str, Any]] = []  # ("doc"|"seq", kind/name, key, previous value)
        self._docs: dict[str, dict[str, Doc]] = {}
        self._seq: dict[str, int] = {}
        for kind, key, data in self._conn.execute("SELECT kind, key, data FROM docs"):
            self._docs.setdefault(kind, {})[key] = json.loads(data)
        for name, value in self._conn.execute("SELECT name, value FROM seq"):
            self._seq[name] = value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes atomically (one SQLite transaction, one lock hold)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN")
            self._depth = 1
            self._undo = []
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._rollback_memory()
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def _rollback_memory(self) -> None:
        for what, name, key, previous in reversed(self._undo):
            if what == "seq":
                if previous is None:
                    self._seq.pop(name, None)
                else:
                    self._seq[name] = previous
            elif previous is None:
                self._docs.get(name, {}).pop(key, None)
            else:
                self._docs.setdefault(name, {})[key] = previous
        self._undo = []

    def _remember(self, what: str, name: str, key: str, previous: Any) -> None:
        if self._depth:
            self._undo.append((what, name, key, previous))

    def sequence(self, name: str) -> int:
        with self.lock:
            self._remember("seq", name, "", self._seq.get(name))
            value = self._seq.get(name, 0) + 1
            self._seq[name] = value
            self._conn.execute(
                "INSERT INTO seq (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            return value

    def get(self, kind: str, key: Any) -> Doc | None:
        """A private copy of the document (callers may mutate it and `put` it back)."""
        with self.lock:
            doc = self._docs.get(kind, {}).get(str(key))
            return copy.deepcopy(doc) if doc is not None else None

    def put(self, kind: str, key: Any, doc: Doc) -> None:
        with self.lock:
            data = json.dumps(doc, separators=(",", ":"))
            self._remember("doc", kind, str(key), self._docs.get(kind, {}).get(str(key)))
            self._docs.setdefault(kind, {})[str(key)] = json.loads(data)
            self._conn.execute(
                "INSERT INTO docs (kind, key, data) VALUES (?, ?, ?) "
                "ON CONFLICT(kind, key) DO UPDATE SET data = excluded.data",
                (kind, str(key), data),
            )

    def delete(self, kind: str, key: Any) -> bool:
        with self.lock:
            previous = self._docs.get(kind, {}).pop(str(key), None)
            self._remember("doc", kind, str(key), previous)
            existed = previous is not None
            self._conn.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, str(key)))
            return existed

    def scan(self, kind: str) -> list[Doc]:
        """The live documents of a kind, read-only: copy what you return or change."""
        with self.lock:
            return list(self._docs.get(kind, {}).values())

    def reset(self) -> None:
        with self.lock:
            self._conn.execute("DELETE FROM docs")
            self._conn.execute("DELETE FROM seq")
            self._docs.clear()
            self._seq.clear()

    def close(self) -> None:
        with self.lock:
            self._conn.close()
