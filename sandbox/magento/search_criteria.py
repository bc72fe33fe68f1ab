"""`searchCriteria` from a query string, applied the way Magento's collection processor does.

Filters inside a group are OR-ed, groups are AND-ed; comparisons follow MySQL (NULL never matches,
string equality and LIKE are case-insensitive, numbers compare as numbers); a page past the last one
returns the last page, as `Magento\\Framework\\Data\\Collection::getCurPage()` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import required, type_error

_KEY_ALIASES = {
    "filterGroups": "filter_groups",
    "sortOrders": "sort_orders",
    "pageSize": "page_size",
    "currentPage": "current_page",
    "conditionType": "condition_type",
}
CONDITIONS = frozenset(
    {"eq", "neq", "like", "nlike", "in", "nin", "null", "notnull", "gt", "lt", "gteq", "lteq", "moreq", "from", "to",
     "finset", "nfinset"}
)


@dataclass
class Filter:
    field: str
    value: Any
    condition_type: str = "eq"


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None
    echo: dict[str, Any] = field(default_factory=dict)


def _parse_brackets(args: Iterable[tuple[str, str]], root: str) -> dict[str, Any] | None:
    """`a[b][0][c]=v` pairs → nested dicts (numeric keys stay dict keys until `_listify`)."""
    tree: dict[str, Any] = {}
    found = False
    for key, value in args:
        if not (key == root or key.startswith(root + "[")):
            continue
        found = True
        parts = re.findall(r"\[([^\]]*)\]", key[len(root):])
        if not parts:
            continue
        node = tree
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        node[parts[-1]] = value
    return tree if found else None


def _listify(node: Any) -> list[Any]:
    if isinstance(node, list):
        return node
    if isinstance(node, dict):
        try:
            return [node[k] for k in sorted(node, key=lambda k: int(k))]
        except ValueError:
            return [node]
    return []


def _norm(d: Any) -> dict[str, Any]:
    if not isinstance(d, dict):
        return {}
    return {_KEY_ALIASES.get(k, k): v for k, v in d.items()}


def _to_int(name: str, value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise type_error(name, value, "int") from exc


def parse(args: Iterable[tuple[str, str]], root: str = "searchCriteria", required_param: bool = True) -> SearchCriteria:
    """Read `searchCriteria[...]` query parameters (snake_case or camelCase keys, as Magento accepts)."""
    tree = _parse_brackets(args, root)
    if tree is None:
        if required_param:
            raise required(root)
        tree = {}
    raw = _norm(tree)
    sc = SearchCriteria()
    echo_groups: list[dict[str, Any]] = []
    for group in _listify(raw.get("filter_groups")):
        filters: list[Filter] = []
        echo_filters: list[dict[str, Any]] = []
        for f in _listify(_norm(group).get("filters")):
            f = _norm(f)
            name = f.get("field")
            if not isinstance(name, str) or not name:
                raise required("field")
            cond = f.get("condition_type") or "eq"
            if not isinstance(cond, str):
                raise type_error("condition_type", cond, "string")
            cond = cond.lower()
            value = f.get("value")
            if isinstance(value, dict):
                value = ",".join(str(v) for v in _listify(value))
            filters.append(Filter(name, value, cond))
            echo = {"field": name, "value": value, "condition_type": cond}
            if value is None:
                echo.pop("value")
            echo_filters.append(echo)
        sc.filter_groups.append(filters)
        echo_groups.append({"filters": echo_filters})
    sc.echo["filter_groups"] = echo_groups
    sorts = _listify(raw.get("sort_orders"))
    if sorts:
        echo_sorts = []
        for s in sorts:
            s = _norm(s)
            name = s.get("field")
            if not isinstance(name, str) or not name:
                continue
            direction = str(s.get("direction") or "ASC")
            sc.sort_orders.append((name, "DESC" if direction.upper() == "DESC" else "ASC"))
            echo_sorts.append({"field": name, "direction": direction})
        sc.echo["sort_orders"] = echo_sorts
    if raw.get("page_size") not in (None, ""):
        sc.page_size = _to_int("pageSize", raw["page_size"])
        sc.echo["page_size"] = sc.page_size
    if raw.get("current_page") not in (None, ""):
        sc.current_page = _to_int("currentPage", raw["current_page"])
        sc.echo["current_page"] = sc.current_page
    return sc


# --- matching -----------------------------------------------------------------------------------------

def _scalar(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, list):
        return "\n".join(str(x) for x in v)
    return v


def _num(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, int | float | Decimal):
        return Decimal(str(v))
    if isinstance(v, str):
        s = v.strip()
        if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
            try:
                return Decimal(s)
            except InvalidOperation:
                return None
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _str_key(v: Any) -> str:
    return str(v).casefold().rstrip(" ")


def _cmp(a: Any, b: Any) -> int:
    """MySQL: a numeric column compares numerically (junk reads as 0), a text column as text (ci collation)."""
    if _is_number(a):
        na, nb = Decimal(str(a)), _num(b) or Decimal(0)
        return (na > nb) - (na < nb)
    sa, sb = _str_key(a), _str_key(b)
    return (sa > sb) - (sa < sb)


def _like(pattern: str, value: Any) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern))
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value if value is not None else "").split(",")]


def matches(f: Filter, actual: Any) -> bool:
    """One filter against one column value, with MySQL NULL semantics."""
    actual = _scalar(actual)
    cond = f.condition_type
    if cond == "null":
        return actual is None
    if cond == "notnull":
        return actual is not None
    if actual is None:
        return False
    v = f.value
    if cond == "eq" or cond not in CONDITIONS:
        # Pdo\Mysql::prepareSqlCondition falls back to `field = value` for a key it doesn't know
        return _cmp(actual, v if v is not None else "") == 0
    if cond == "neq":
        return _cmp(actual, v if v is not None else "") != 0
    if cond == "like":
        return _like(v or "", actual)
    if cond == "nlike":
        return not _like(v or "", actual)
    if cond == "in":
        return any(_cmp(actual, x) == 0 for x in _split(v))
    if cond == "nin":
        return all(_cmp(actual, x) != 0 for x in _split(v))
    if cond == "finset":
        return str(v) in str(actual).split(",")
    if cond == "nfinset":
        return str(v) not in str(actual).split(",")
    if v is None:
        return False
    c = _cmp(actual, v)
    if cond == "gt":
        return c > 0
    if cond == "lt":
        return c < 0
    if cond in ("gteq", "moreq", "from"):
        return c >= 0
    return c <= 0  # lteq, to


def compile_filter(f: Filter) -> Callable[[Any], bool]:
    """A predicate for one filter; `in`/`nin` use a set so large batches stay linear."""
    if f.condition_type in ("in", "nin"):
        values = _split(f.value)
        as_text = {_str_key(x) for x in values}
        as_numbers = {_num(x) or Decimal(0) for x in values}
        negate = f.condition_type == "nin"

        def member(actual: Any) -> bool:
            actual = _scalar(actual)
            if actual is None:
                return False
            found = Decimal(str(actual)) in as_numbers if _is_number(actual) else _str_key(actual) in as_text
            return found != negate

        return member
    return lambda actual: matches(f, actual)


def _sort_key(value: Any) -> tuple[int, Any]:
    value = _scalar(value)
    if value is None:
        return (0, 0)
    if _is_number(value):
        return (1, Decimal(str(value)))
    return (2, str(value).casefold())


def apply(
    docs: Iterable[Mapping[str, Any]],
    sc: SearchCriteria,
    getter: Callable[[Mapping[str, Any], str], Any] | None = None,
    default_sort: str | None = None,
) -> tuple[list[Mapping[str, Any]], int]:
    """Filter, sort and page `docs`; returns (page, total_count before paging)."""
    get = getter or (lambda d, name: d.get(name))
    groups = [[(f.field, compile_filter(f)) for f in g] for g in sc.filter_groups if g]
    selected = [d for d in docs if all(any(pred(get(d, name)) for name, pred in g) for g in groups)]
    if default_sort and not sc.sort_orders:
        selected.sort(key=lambda d: _sort_key(get(d, default_sort)))
    for name, direction in reversed(sc.sort_orders):
        selected.sort(key=lambda d, n=name: _sort_key(get(d, n)), reverse=direction == "DESC")
    total = len(selected)
    if sc.page_size:
        size = sc.page_size
        last = max(1, -(-total // size))
        page = min(max(sc.current_page or 1, 1), last)
        selected = selected[(page - 1) * size: page * size]
    return selected, total


def result(items: list[Any], sc: SearchCriteria, total: int) -> dict[str, Any]:
    return {"items": items, "search_criteria": sc.echo, "total_count": total}
