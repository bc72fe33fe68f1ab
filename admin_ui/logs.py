"""Keep buyers' personal data out of the access log.

werkzeug (`amazon-bridge web`, `amazon-bridge demo`) logs every request line at INFO, query string included,
and All Orders' filters put a buyer's name there (`/orders?buyer=Jane+Doe`). This filter keeps the query's
keys and the values known to be harmless (store, sorting, paging, statuses, order numbers, dates, totals)
and masks the rest.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, quote

SAFE_KEYS = frozenset(
    {"store", "sort", "dir", "page", "per_page", "status", "import_state"}
    | {"order_number", "from", "to", "total_min", "total_max"}
)
MASK = "***"
# A request path's query string inside a log line: from "?" up to a space, a quote or an ANSI escape.
QUERY = re.compile(r"(?<=[^\s\"])\?([^\s\"\x1b]*)")


def redact_query(query: str) -> str:
    """`buyer=Jane+Doe&store=us` -> `buyer=***&store=us`; keys stay, so the line still says what was asked."""
    parts = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        shown = quote(value, safe="") if key in SAFE_KEYS else (MASK if value else "")
        parts.append(f"{quote(key, safe='')}={shown}")
    return "&".join(parts)


def redact_line(text: str) -> str:
    return QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text)


class RedactQueryStrings(logging.Filter):
    """On the `werkzeug` logger: rewrites the request line of each access-log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_line(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_line(record.msg)
        return True


def install_access_log_filter() -> None:
    """Once per process, whatever number of apps is created (tests create many)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
        logger.addFilter(RedactQueryStrings())
