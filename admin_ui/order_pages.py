"""One page of All Orders and its count, kept fast at 100,000+ orders per store whatever the filters.

Counting every match is what makes a big grid slow: a buyer-name *contains* search or a wide date range has
the database look at most of a store's rows. So the count stops at a cap (the app setting ORDERS_COUNT_CAP,
10,000), as Magento's and Seller Central's grids do for big result sets: below it the total is exact, above
it the page says "more than 10,000". The merchant still pages on, jumps to the last page, or asks for the
exact count; those two count every match, on demand.

The capped count also tells which plan finds the page's rows fastest:
- few matches (the count is exact): read them from the covering grid index (ix_amazon_order_store_grid),
  sort them and take the page; at most the cap of them, however the list is sorted;
- many matches (over the cap): walk the sort column's (store_id, column) index in order and stop after the
  page; matches are dense then, so few rows are read that the page does not show.
SQLite is told the first plan with a unary `+` on the sort keys (SQLite's documented way to keep an index
from being used for ORDER BY); PostgreSQL plans from its own statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import defer
from sqlalchemy.sql.functions import FunctionElement

from bridge.storage.models import AmazonOrderRecord

from .extensions import db

DEFAULT_COUNT_CAP = 10_000
# The grid shows none of Amazon's JSON: decoding a few kB of snapshot per row is most of a page's load time.
GRID_SKIPS = (defer(AmazonOrderRecord.snapshot), defer(AmazonOrderRecord.address_override))


class contains_text(FunctionElement):  # noqa: N801 - reads as an SQL function
    """`column` contains the LIKE `pattern`, ignoring case. SQLite's LIKE already ignores ASCII case and its
    lower() folds nothing more, so a plain LIKE means the same there and is three times faster than
    lower(column) LIKE; elsewhere (PostgreSQL) it is lower(column) LIKE lower(pattern)."""

    type = Boolean()
    inherit_cache = True
    name = "contains_text"


@compiles(contains_text)
def _contains_text(element: contains_text, compiler: Any, **kw: Any) -> str:
    column, pattern = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(lower({column}) LIKE lower({pattern}) ESCAPE '\\')"


@compiles(contains_text, "sqlite")
def _contains_text_sqlite(element: contains_text, compiler: Any, **kw: Any) -> str:
    column, pattern = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({column} LIKE {pattern} ESCAPE '\\')"


class sort_key_only(FunctionElement):  # noqa: N801 - reads as an SQL function
    """A sort key that SQLite must not walk an index for (`+column`): the rows are found by the WHERE's best
    index and then sorted. The column itself on other databases."""

    inherit_cache = True
    name = "sort_key_only"

    def __init__(self, column: Any):
        super().__init__(column)
        self.type = column.type


@compiles(sort_key_only)
def _sort_key_only(element: sort_key_only, compiler: Any, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(sort_key_only, "sqlite")
def _sort_key_only_sqlite(element: sort_key_only, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(next(iter(element.clauses)), **kw)


@dataclass(frozen=True)
class Page:
    """A page of rows; `total` is exact unless `capped`, when more than `total` orders match."""

    rows: list[AmazonOrderRecord]
    total: int
    page: int
    per_page: int
    capped: bool = False
    has_next: bool = False

    @property
    def pages(self) -> int:
        """Pages in the result; when capped, the result has more than this many."""
        return max(1, -(-self.total // self.per_page))


def count_orders(conds: list[ColumnElement[bool]], cap: int | None) -> int:
    """Orders matching `conds`, counting no further than cap + 1 (None: count them all)."""
    if cap is None:
        return db.session.scalar(select(func.count()).select_from(AmazonOrderRecord).where(*conds)) or 0
    matches = select(literal(1)).select_from(AmazonOrderRecord).where(*conds).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(matches)) or 0


def list_orders(
    conds: list[ColumnElement[bool]],
    sort_column: Any,
    descending: bool,
    page: int | None,
    per_page: int,
    *,
    cap: int = DEFAULT_COUNT_CAP,
    exact: bool = False,
) -> Page:
    """Page `page` (None: the last one) of the orders matching `conds`; `exact` counts every match."""
    counted = count_orders(conds, None if exact or page is None else cap)
    capped = counted > cap and not exact and page is not None
    total = cap if capped else counted
    pages = max(1, -(-total // per_page))
    number = pages if page is None else (page if capped else min(page, pages))
    ids = _page_ids(conds, sort_column, descending, number, per_page, find_first=counted <= cap) if counted else []
    if capped and not ids and number > 1:  # past the end of a big result: count it all, show its last page
        return list_orders(conds, sort_column, descending, page, per_page, cap=cap, exact=True)
    has_next = len(ids) > per_page if capped else number < pages
    ids = ids[:per_page]
    rows = select(AmazonOrderRecord).where(AmazonOrderRecord.id.in_(ids)).options(*GRID_SKIPS)
    by_id = {row.id: row for row in db.session.scalars(rows)}
    return Page([by_id[i] for i in ids if i in by_id], total, number, per_page, capped, has_next)


def _page_ids(
    conds: list[ColumnElement[bool]], sort_column: Any, descending: bool, page: int, per_page: int, *, find_first: bool
) -> list[int]:
    """The ids of one page, plus the next page's first one (so a capped result knows whether one follows)."""
    keys = [sort_column, AmazonOrderRecord.id]
    if find_first:
        keys = [sort_key_only(key) for key in keys]
    order_by = [key.desc() for key in keys] if descending else keys
    query = (
        select(AmazonOrderRecord.id).where(*conds).order_by(*order_by).limit(per_page + 1).offset((page - 1) * per_page)
    )
    return list(db.session.scalars(query))
