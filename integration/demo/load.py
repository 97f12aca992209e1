"""Loading the sample through the normal apply path, and removing it again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update

from mappings.models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from webhooks.inbox import IncomingDelivery
from webhooks.models import Delivery

from ..apply.processing import apply_stored
from ..db import unit_of_work
from ..reconcile.models import SyncState
from ..writeback.models import SKIPPED, OutboxEntry
from .story import DELIVERY_PREFIX, REPO, story

ANCHOR_PREFIX = f"github:{REPO}#"
NOT_WRITTEN = "okrbot demo: sample data is never written to a tracker"


class DemoError(Exception):
    """The sample cannot be loaded (already there)."""


def is_loaded(rt) -> bool:
    with rt.sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.container == REPO)))


def load(rt, now: datetime | None = None) -> dict:
    """Store each day's deliveries in the inbox and apply them dated that day. Returns what was loaded."""
    if is_loaded(rt):
        raise DemoError(f"the sample ({REPO}) is already loaded: `okrbot demo --clear` removes it")
    now = now or datetime.now(UTC)
    start, _end = rt.domain.context(None, now=now).period()
    plan = story(now.date(), start)
    stored = 0
    for index, deliveries in enumerate(plan.days):
        at = plan.at(index)
        ids = [_store(rt, d.event, d.body, at) for d in deliveries]
        if ids:
            apply_stored(rt, ids, now=min(at, now))
            stored += len(ids)
    _skip_writes(rt)
    with rt.sessions() as session:
        krs = len(_demo_kr_ids(session))
    return {"deliveries": stored, "days": len(plan.days), "key_results": krs}


def _store(rt, event: str, body: bytes, at: datetime) -> int:
    incoming = IncomingDelivery("github", f"{DELIVERY_PREFIX}{uuid.uuid4()}", event, None,
                                {"Content-Type": "application/json", "User-Agent": "okrbot-demo"}, body, at)
    pk = rt.inbox.store(incoming)
    if pk is None:  # a fresh uuid is never a duplicate
        raise DemoError("the inbox refused a sample delivery as a duplicate")
    return pk


def _demo_kr_ids(session) -> list[str]:
    return list(session.scalars(select(KeyResult.id).where(KeyResult.anchor_key.like(f"{ANCHOR_PREFIX}%"))))


def _skip_writes(rt) -> None:
    """The sample's issues exist nowhere: its comments are recorded as skipped, never sent."""
    with unit_of_work(rt.sessions) as session:
        session.execute(update(OutboxEntry).where(OutboxEntry.kr_id.in_(_demo_kr_ids(session)))
                        .values(state=SKIPPED, last_error=NOT_WRITTEN))


def clear(rt) -> dict:
    """Remove every row the sample made: deliveries, work items, memberships, key results and their history."""
    with unit_of_work(rt.sessions) as session:
        kr_ids = _demo_kr_ids(session)
        counts = {"key_results": len(kr_ids)}
        for name, statement in (
            ("history", delete(KeyResultEvent).where(KeyResultEvent.kr_id.in_(kr_ids))),
            ("outbox", delete(OutboxEntry).where(OutboxEntry.kr_id.in_(kr_ids))),
            ("sync_state", delete(SyncState).where(SyncState.kr_id.in_(kr_ids))),
            ("memberships", delete(Membership).where(Membership.work_item_key.like(f"{ANCHOR_PREFIX}%"))),
            ("key_results_deleted", delete(KeyResult).where(KeyResult.id.in_(kr_ids))),
            ("objectives", delete(Objective).where(Objective.anchor_key.like(f"{ANCHOR_PREFIX}%"))),
            ("work_items", delete(WorkItem).where(WorkItem.container == REPO)),
            ("deliveries", delete(Delivery).where(Delivery.delivery_id.like(f"{DELIVERY_PREFIX}%"))),
        ):
            counts[name] = session.execute(statement.execution_options(synchronize_session=False)).rowcount
        counts.pop("key_results_deleted")
    return counts
