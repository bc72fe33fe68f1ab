"""Magento's `searchCriteria` query grammar, built in one place.

Filters inside one group are OR-ed, groups are AND-ed (Magento has no OR across groups). The builder is
immutable: every call returns a new criteria, so a base query can be shared and refined safely.

    SearchCriteria().where("ext_order_id", ["A", "B"], "in").where_any(
        Filter("state", "new"), Filter("increment_id", "100000001")
    ).sort("entity_id").page(100)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

CONDITION_TYPES = frozenset(
    {
        "eq", "finset", "from", "gt", "gteq", "in", "like", "lt", "lteq", "moreq",
        "neq", "nfinset", "nin", "nlike", "notnull", "null", "to",
    }
)  # fmt: skip
LIST_CONDITIONS = frozenset({"in", "nin"})
VALUELESS_CONDITIONS = frozenset({"null", "notnull"})
PREFIX = "searchCriteria"


def _render_value(value: Any, condition: str) -> str:
    if condition in VALUELESS_CONDITIONS:
        # Magento builds `[condition => value]` and only tests isset(): any non-null value works.
        return "1" if value is None else str(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if condition in LIST_CONDITIONS and not isinstance(value, str) and isinstance(value, Iterable):
        parts = [str(v) for v in value]
        for part in parts:
            if "," in part:
                raise ValueError(f"a value for {condition!r} cannot contain a comma: {part!r}")
        return ",".join(parts)
    if value is None:
        raise ValueError(f"condition {condition!r} needs a value")
    return str(value)


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition; `value` may be a list for `in`/`nin` (rendered comma-separated)."""

    field: str
    value: Any = None
    condition_type: str = "eq"

    def __post_init__(self) -> None:
        if self.condition_type not in CONDITION_TYPES:
            raise ValueError(f"unknown condition_type {self.condition_type!r}")
        if not self.field:
            raise ValueError("a filter needs a field")
        # Validate early, so a bad value fails where it is written, not when the request is sent.
        _render_value(self.value, self.condition_type)

    @property
    def rendered_value(self) -> str:
        return _render_value(self.value, self.condition_type)


@dataclass(frozen=True, slots=True)
class SortOrder:
    field: str
    direction: str = "ASC"

    def __post_init__(self) -> None:
        if self.direction.upper() not in ("ASC", "DESC"):
            raise ValueError(f"sort direction must be ASC or DESC, got {self.direction!r}")
        object.__setattr__(self, "direction", self.direction.upper())


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def where(self, field_: str, value: Any = None, condition_type: str = "eq") -> SearchCriteria:
        """AND a new group with a single condition."""
        return self.where_any(Filter(field_, value, condition_type))

    def where_any(self, *filters: Filter) -> SearchCriteria:
        """AND a new group whose filters are OR-ed."""
        if not filters:
            raise ValueError("a filter group needs at least one filter")
        return replace(self, filter_groups=(*self.filter_groups, tuple(filters)))

    def sort(self, field_: str, direction: str = "ASC") -> SearchCriteria:
        return replace(self, sort_orders=(*self.sort_orders, SortOrder(field_, direction)))

    def page(self, size: int, current: int = 1) -> SearchCriteria:
        if size < 1 or current < 1:
            raise ValueError("page size and current page start at 1")
        return replace(self, page_size=size, current_page=current)

    def with_page(self, current: int) -> SearchCriteria:
        return replace(self, current_page=current)

    def to_params(self) -> list[tuple[str, str]]:
        """Query parameters in Magento's bracket grammar, in a stable order."""
        params: list[tuple[str, str]] = []
        for g, group in enumerate(self.filter_groups):
            for f, flt in enumerate(group):
                base = f"{PREFIX}[filter_groups][{g}][filters][{f}]"
                params.append((f"{base}[field]", flt.field))
                params.append((f"{base}[value]", flt.rendered_value))
                params.append((f"{base}[condition_type]", flt.condition_type))
        for n, order in enumerate(self.sort_orders):
            params.append((f"{PREFIX}[sortOrders][{n}][field]", order.field))
            params.append((f"{PREFIX}[sortOrders][{n}][direction]", order.direction))
        if self.page_size is not None:
            params.append((f"{PREFIX}[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            params.append((f"{PREFIX}[currentPage]", str(self.current_page)))
        if not params:
            # GET list endpoints require the searchCriteria argument even when it is empty.
            params.append((PREFIX, ""))
        return params

    def to_dict(self) -> dict[str, Any]:
        """The shape Magento echoes back as `search_criteria` in a search result."""
        out: dict[str, Any] = {
            "filter_groups": [
                {
                    "filters": [
                        {"field": f.field, "value": f.rendered_value, "condition_type": f.condition_type} for f in group
                    ]
                }
                for group in self.filter_groups
            ]
        }
        if self.sort_orders:
            out["sort_orders"] = [{"field": s.field, "direction": s.direction} for s in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchCriteria:
        """Parse an echoed `search_criteria` (values stay strings, as Magento returns them)."""
        groups = tuple(
            tuple(
                Filter(f["field"], f.get("value"), f.get("condition_type") or "eq") for f in group.get("filters") or []
            )
            for group in data.get("filter_groups") or []
        )
        sorts = tuple(SortOrder(s["field"], s.get("direction") or "ASC") for s in data.get("sort_orders") or [])
        return cls(groups, sorts, data.get("page_size"), data.get("current_page"))


def chunked(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of a Magento search: raw items, the total over all pages, and the criteria echoed back."""

    items: list[dict[str, Any]]
    total_count: int
    search_criteria: dict[str, Any] = field(default_factory=dict)
