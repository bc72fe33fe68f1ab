"""Roles scoped per store: a viewer or operator given stores (`UserStore` rows) sees those stores only.

The store pickers, the banners and the order look-ups all ask here, so a user of store A gets the same
"not found" for store B's pages as for a store that does not exist: nothing of B shows, not even its name.
Admins and users without store rows see every store.
"""

from __future__ import annotations

import re

from flask import g
from flask_login import current_user
from sqlalchemy import ColumnElement, select, true

from bridge.storage.models import Role, UserStore

from .extensions import db


def visible_store_ids() -> frozenset[int] | None:
    """The ids of the stores the signed-in user may see, or None for all of them (cached per request)."""
    if "visible_store_ids" not in g:
        ids: frozenset[int] | None = None
        if current_user.is_authenticated and not current_user.can(Role.ADMIN):
            rows = frozenset(db.session.scalars(select(UserStore.store_id).where(UserStore.user_id == current_user.id)))
            ids = rows or None
        g.visible_store_ids = ids
    return g.visible_store_ids


def can_see(store_id: int) -> bool:
    ids = visible_store_ids()
    return ids is None or store_id in ids


def store_condition(column) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a store id) to the visible stores."""
    ids = visible_store_ids()
    return true() if ids is None else column.in_(sorted(ids))


# The job ids jobs.queues and jobs.ops_tasks give, each naming its store.
_JOB_STORE = re.compile(
    r"^(?:sync-store-|actions-store-|outbox-store-|outbox-later-|commerce-poll-|reconcile-store-|import-|follow-)"
    r"(\d+)(?:$|-)"
)


def job_visible(job_id: str) -> bool:
    """Whether a job (by the ids jobs.queues gives: sync-store-<id>, import-<id>-<order>, outbox-store-<id>...)
    belongs to a store the user may see; jobs of no store are shown to unscoped users only."""
    ids = visible_store_ids()
    if ids is None:
        return True
    match = _JOB_STORE.match(job_id)
    return match is not None and int(match.group(1)) in ids
