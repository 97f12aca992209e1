"""Storing work-item snapshots: the newest version wins, so out-of-order deliveries converge.

Many workers apply at once, so nothing here reads a row, decides in Python and writes it back.
A batch of events is first reduced to the newest snapshot per work item (pure), then written with one
conditional upsert, `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` the stored version is older, in
key order. The upsert also locks each row until commit, in one fixed order, so the rest of the unit
of work (memberships, key results) sees the items as no other transaction can change them.

A version is (`updated_at`, delivery pk): the tracker's own time first; among equal times, the later
delivery (the order one worker would have applied them in). The parent link has a version of its own,
since only some bodies state it (Jira always, GitHub sub_issues events only).
Domain functions take the caller's session and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, case, func, literal_column, select, tuple_, update
from sqlalchemy.orm import Session

from core.events import Event, WorkItemSnapshot
from core.schema import check_bounds, upsert_insert

from .keys import GITHUB, WorkItemKey, key_is
from .models import WorkItem

_FIELDS = ("tracker", "ref", "container", "title", "url", "state", "state_reason", "assignees", "labels",
           "milestone", "issue_type", "estimate", "updated_at", "last_delivery_id")
_PARENT = ("parent_key", "parent_ref", "parent_changed_at", "parent_delivery_id")
_ZERO = literal_column("0")  # not a bound parameter: the upsert is then sent as multi-row batches


def ref_of(snapshot: WorkItemSnapshot) -> str:
    """A numeric id qualified so that it is unique: GitHub ids are global, Jira ids per site."""
    return _qualified(snapshot, snapshot.id)


def _qualified(snapshot: WorkItemSnapshot, numeric_id: str | None) -> str | None:
    if numeric_id is None or snapshot.tracker != "jira":
        return numeric_id
    return f"{snapshot.container.split('/', 1)[0]}:{numeric_id}"


def states_parent(snapshot: WorkItemSnapshot) -> bool:
    # A Jira body always shows the parent (absent = none); a GitHub issue body never does, only
    # sub_issues events say it (parent_known).
    return snapshot.tracker == "jira" or snapshot.parent_known


def item_fields(snapshot: WorkItemSnapshot, delivery_pk: int | None) -> dict:
    """The work_items columns a snapshot sets (the parent link aside)."""
    return {
        "tracker": snapshot.tracker, "ref": ref_of(snapshot), "container": snapshot.container,
        "title": snapshot.title, "url": snapshot.url, "state": snapshot.state,
        "state_reason": snapshot.state_reason,
        "assignees": [{"login": p.login, "name": p.name} for p in snapshot.assignees],
        "labels": list(snapshot.labels), "milestone": snapshot.milestone,
        "issue_type": snapshot.issue_type, "estimate": snapshot.estimate,
        "updated_at": snapshot.updated_at, "last_delivery_id": delivery_pk,
    }


def parent_fields(snapshot: WorkItemSnapshot, delivery_pk: int | None) -> dict:
    return {"parent_key": snapshot.parent_key, "parent_ref": _qualified(snapshot, snapshot.parent_id),
            "parent_changed_at": snapshot.updated_at, "parent_delivery_id": delivery_pk}


@dataclass
class Newest:
    """What a batch says about one work item: its newest snapshot, newest parent link, removal."""

    fields: dict | None = None
    parent: dict | None = None
    removed_by: int | None = None  # the delivery that removed it (0 for a read), None if none did
    event: Event | None = None  # the event whose snapshot won: who did it, which delivery
    delivery_pk: int | None = None

    def offer(self, event: Event, snapshot: WorkItemSnapshot, delivery_pk: int | None) -> None:
        fields = item_fields(snapshot, delivery_pk)
        if self.fields is None or _version(fields, "updated_at", "last_delivery_id") >= _version(
                self.fields, "updated_at", "last_delivery_id"):
            self.fields, self.event, self.delivery_pk = fields, event, delivery_pk
        if states_parent(snapshot):
            parent = parent_fields(snapshot, delivery_pk)
            if self.parent is None or _version(parent, "parent_changed_at", "parent_delivery_id") >= _version(
                    self.parent, "parent_changed_at", "parent_delivery_id"):
                self.parent = parent


def _version(row: dict, at: str, by: str) -> tuple[datetime, int]:
    return row[at], row[by] or 0


def reduce_events(events: list[tuple[Event, int | None]]) -> dict[str, Newest]:
    """Pure: per work-item key, the newest of what the batch's events say (order does not matter)."""
    newest: dict[str, Newest] = {}
    for event, delivery_pk in events:
        for snapshot in (event.parent, event.item):
            if snapshot is not None:
                newest.setdefault(snapshot.key, Newest()).offer(event, snapshot, delivery_pk)
        if event.kind in ("deleted", "transferred") and event.removed_key:
            removal = newest.setdefault(event.removed_key, Newest())
            removal.removed_by = delivery_pk or 0
            removal.event = removal.event or event
            removal.delivery_pk = removal.delivery_pk or delivery_pk
    return newest


@cache
def _statement(dialect_name: str):
    """Newest wins, per column group: `INSERT … ON CONFLICT (key) DO UPDATE SET col = CASE … WHERE …`."""
    table = WorkItem.__table__
    stmt = upsert_insert(dialect_name, WorkItem)
    new = stmt.excluded
    fields_win = tuple_(table.c.updated_at, func.coalesce(table.c.last_delivery_id, _ZERO)) <= tuple_(
        new.updated_at, func.coalesce(new.last_delivery_id, _ZERO))
    parent_win = new.parent_changed_at.is_not(None) & (
        table.c.parent_changed_at.is_(None)
        | (tuple_(table.c.parent_changed_at, func.coalesce(table.c.parent_delivery_id, _ZERO))
           <= tuple_(new.parent_changed_at, func.coalesce(new.parent_delivery_id, _ZERO))))
    assign = {name: case((fields_win, new[name]), else_=table.c[name]) for name in _FIELDS}
    assign |= {name: case((parent_win, new[name]), else_=table.c[name]) for name in _PARENT}
    return stmt.on_conflict_do_update(index_elements=[table.c.key], set_=assign, where=fields_win | parent_win)


class _MultiRowUpsert:
    """The upsert compiled once, its VALUES repeated per row: one statement and one round trip a batch.

    Building `.values([...])` anew for every batch costs more CPU than the database spends on it (each
    value becomes a bound parameter object, then a cache key). Values still pass through the columns'
    own bind processors, so what is stored is exactly what the ORM would store. Rows keep their order:
    PostgreSQL locks them in it.
    """

    def __init__(self, dialect):
        table = WorkItem.__table__
        columns = [c.name for c in table.columns]
        single = _statement("postgresql").values({name: bindparam(name) for name in columns})
        sql = str(single.compile(dialect=dialect))
        head, _, rest = sql.partition(" VALUES (")
        row, _, tail = rest.partition(") ON CONFLICT")
        self._names = re.findall(r"%\((\w+)\)s", row)
        self._head, self._row, self._tail = head + " VALUES ", "(" + re.sub(r"%\(\w+\)s", "%s", row) + ")", \
            " ON CONFLICT" + tail
        self._process = {n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in columns}

    def execute(self, session: Session, rows: list[dict]) -> None:
        params = [p(row[n]) if (p := self._process[n]) else row[n] for row in rows for n in self._names]
        sql = self._head + ", ".join([self._row] * len(rows)) + self._tail
        session.connection().exec_driver_sql(sql, tuple(params))


@cache
def _multirow(dialect) -> _MultiRowUpsert:
    return _MultiRowUpsert(dialect)


def _upsert(session: Session, rows: list[dict]) -> None:
    """Newest wins, per column group; rows are in key order (the lock order)."""
    check_bounds(WorkItem, rows)  # a tracker's overlong value: that delivery fails, with the reason
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":  # a server: one round trip for the batch
        _multirow(dialect).execute(session, rows)
    else:  # SQLite runs in-process: a statement per row costs nothing extra, and its one writer orders them
        # built once, run through Core: the ORM's bulk path rebuilt and re-keyed it for every unit of work
        session.connection().execute(_statement(dialect.name), rows)


# What a batch named, as stored now (built once; the keys are a parameter)
_STORED = (select(WorkItem).where(WorkItem.key.in_(bindparam("keys", expanding=True))).order_by(WorkItem.key)
           .execution_options(populate_existing=True))


def store_events(session: Session, newest: dict[str, Newest]) -> list[WorkItem]:
    """Store a reduced batch (`reduce_events`); return every item it names, as stored now, in key order."""
    rows = []
    for key in sorted(newest):
        want = newest[key]
        if want.fields is not None:
            parent = want.parent or dict.fromkeys(_PARENT)
            rows.append({"key": key, "removed": False, **want.fields, **parent})
    if rows:
        _upsert(session, rows)
    removed = sorted(k for k, w in newest.items() if w.removed_by is not None)
    if removed:
        # deleted or transferred away: it leaves for good (a later, older body cannot bring it back)
        session.execute(update(WorkItem).where(WorkItem.key.in_(removed)).values(removed=True)
                        .execution_options(synchronize_session=False))
    if not newest:
        return []
    return list(session.scalars(_STORED, {"keys": sorted(newest)}))


def find_by_ref(session: Session, tracker: str, ref: str) -> WorkItem | None:
    return session.scalars(select(WorkItem).where(WorkItem.tracker == tracker, WorkItem.ref == ref)).first()


def find_work_item(session: Session, key: WorkItemKey) -> WorkItem | None:
    """The stored item of a key as a person wrote it: any case of a GitHub owner/repo, any Jira site."""
    # Written as the tracker spells it, mostly: then one primary-key read finds it
    exact = session.get(WorkItem, str(key)) if key.site is not None or key.tracker == GITHUB else None
    return exact or session.scalars(select(WorkItem).where(key_is(WorkItem.key, key))).first()
