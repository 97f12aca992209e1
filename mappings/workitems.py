"""Storing work-item snapshots: newest `updated_at` wins, so out-of-order deliveries converge.

Domain functions take the caller's session and never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webhooks.events import Event, WorkItemSnapshot

from .keys import GITHUB, WorkItemKey, key_is
from .models import WorkItem


def ref_of(snapshot: WorkItemSnapshot) -> str:
    """A numeric id qualified so that it is unique: GitHub ids are global, Jira ids per site."""
    if snapshot.tracker == "jira":
        return f"{snapshot.container.split('/', 1)[0]}:{snapshot.id}"
    return snapshot.id


def _states_parent(snapshot: WorkItemSnapshot) -> bool:
    # A Jira body always shows the parent (absent = none); a GitHub issue body never does, only
    # sub_issues events say it (parent_known).
    return snapshot.tracker == "jira" or snapshot.parent_known


def _fields(snapshot: WorkItemSnapshot) -> dict:
    return {
        "tracker": snapshot.tracker, "ref": ref_of(snapshot), "container": snapshot.container,
        "title": snapshot.title, "url": snapshot.url, "state": snapshot.state,
        "state_reason": snapshot.state_reason,
        "assignees": [{"login": p.login, "name": p.name} for p in snapshot.assignees],
        "labels": list(snapshot.labels), "milestone": snapshot.milestone,
        "issue_type": snapshot.issue_type, "estimate": snapshot.estimate,
        "updated_at": snapshot.updated_at,
    }


def store_snapshot(session: Session, snapshot: WorkItemSnapshot, delivery_pk: int | None) -> WorkItem:
    """Insert or update the work item; an older snapshot than the stored one changes nothing."""
    item = session.get(WorkItem, snapshot.key)
    if item is None:
        item = WorkItem(key=snapshot.key, removed=False, **_fields(snapshot))
        session.add(item)
    elif snapshot.updated_at >= item.updated_at:
        for name, value in _fields(snapshot).items():
            setattr(item, name, value)
    else:
        return item
    item.last_delivery_id = delivery_pk
    if _states_parent(snapshot):
        set_parent(item, snapshot, snapshot.parent_key, snapshot.parent_id)
    return item


def set_parent(item: WorkItem, snapshot: WorkItemSnapshot, parent_key: str | None,
               parent_id: str | None) -> None:
    """Move the item under a parent (or none), unless a newer link change is already stored."""
    if item.parent_changed_at is not None and snapshot.updated_at < item.parent_changed_at:
        return
    item.parent_key = parent_key
    item.parent_ref = _qualified_parent_ref(snapshot, parent_id)
    item.parent_changed_at = snapshot.updated_at


def _qualified_parent_ref(snapshot: WorkItemSnapshot, parent_id: str | None) -> str | None:
    if parent_id is None:
        return None
    if snapshot.tracker == "jira":
        return f"{snapshot.container.split('/', 1)[0]}:{parent_id}"
    return parent_id


def mark_removed(session: Session, key: str, delivery_pk: int | None) -> WorkItem | None:
    """Deleted or transferred away: it leaves for good (a later, older body cannot bring it back)."""
    item = session.get(WorkItem, key)
    if item is not None:
        item.removed = True
        item.last_delivery_id = delivery_pk
    return item


def apply_to_work_items(session: Session, event: Event, delivery_pk: int | None) -> list[WorkItem]:
    """Store what one event says about work items; return the items it touched."""
    touched: list[WorkItem] = []
    if event.parent is not None:
        touched.append(store_snapshot(session, event.parent, delivery_pk))
    if event.item is not None:
        item = store_snapshot(session, event.item, delivery_pk)
        if event.kind in ("linked", "unlinked"):
            set_parent(item, event.item, event.item.parent_key if event.kind == "linked" else None,
                       event.item.parent_id if event.kind == "linked" else None)
        touched.append(item)
    if event.kind in ("deleted", "transferred") and event.removed_key:
        removed = mark_removed(session, event.removed_key, delivery_pk)
        if removed is not None and removed not in touched:
            touched.append(removed)
    return touched


def find_by_ref(session: Session, tracker: str, ref: str) -> WorkItem | None:
    return session.scalars(select(WorkItem).where(WorkItem.tracker == tracker, WorkItem.ref == ref)).first()


def find_work_item(session: Session, key: WorkItemKey) -> WorkItem | None:
    """The stored item of a key as a person wrote it: any case of a GitHub owner/repo, any Jira site."""
    # Written as the tracker spells it, mostly: then one primary-key read finds it
    exact = session.get(WorkItem, str(key)) if key.site is not None or key.tracker == GITHUB else None
    return exact or session.scalars(select(WorkItem).where(key_is(WorkItem.key, key))).first()
