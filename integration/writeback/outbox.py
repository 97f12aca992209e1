"""Write-back, what to write: one living progress comment per key result, through the outbox.

How it is sent, spaced and retried is the sender's (writeback/sender.py).

- A change to a key result marks its outbox entry pending, in the transaction of the change itself,
  with a quiet period (OKRBOT_WRITE_DELAY): a burst of events yields one write.
- What is written is decided at send time (`what_to_write`): the comment rendered from the database
  as it is then, or the reason there is nothing to write (the key result ended, has no anchor issue,
  or shows nothing yet: no work linked and no check-in).
- A check-in stored, edited or withdrawn notes the key result like any change (`apply.processing`
  adds it to the changed key results).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.schema import upsert_insert
from mappings.checkins import current_checkins
from mappings.keys import WorkItemKey
from mappings.models import KeyResult
from mappings.progress import Counters, Thresholds

from ..markup import MARKUPS
from .comment_view import comment_view
from .models import PENDING, SENDING, OutboxEntry
from .render import render_comment

KIND = "progress_comment"
MAX_WAIT_FACTOR = 10  # a key result that never goes quiet is still written every 10 quiet periods


@cache
def _insert_missing(dialect_name: str):
    """`INSERT … ON CONFLICT DO NOTHING RETURNING id`, built once (one statement for all rows: insertmanyvalues)."""
    return upsert_insert(dialect_name, OutboxEntry.__table__).on_conflict_do_nothing().returning(
        OutboxEntry.__table__.c.id)


_TABLE = OutboxEntry.__table__
# Locked in key-result order before they are read and changed (rows, not objects: nothing to flush)
_LOCK_ENTRIES = (select(_TABLE.c.id, _TABLE.c.state, _TABLE.c.pending_since)
                 .where(_TABLE.c.kr_id.in_(bindparam("kr_ids", expanding=True)), _TABLE.c.kind == KIND)
                 .order_by(_TABLE.c.kr_id).with_for_update())
_RESTART = (_TABLE.update().where(_TABLE.c.id == bindparam("entry_id"))
            .values(state=PENDING, pending_since=bindparam("now"), attempts=0, last_error=None,
                    due_at=bindparam("new_due_at"), updated_at=bindparam("now")))
_TOUCH = (_TABLE.update().where(_TABLE.c.id == bindparam("entry_id"))
          .values(due_at=bindparam("new_due_at"), updated_at=bindparam("now")))


def note_changes(session: Session, kr_ids: set[str], now: datetime, delay: float) -> list[int]:
    """Mark the key results' comments pending; return the entries that just became pending.

    Many workers note changes at once: missing entries are inserted (a conflict means another worker
    just did), then the rest are locked in key-result order before they are read and changed.
    """
    if not kr_ids:
        return []
    ids = sorted(kr_ids)
    quiet = now + timedelta(seconds=delay)
    new_rows = [{"kr_id": kr_id, "kind": KIND, "state": PENDING, "pending_since": now, "due_at": quiet,
                 "updated_at": now, "attempts": 0, "writes": 0, "uncertain": False} for kr_id in ids]
    insert = _insert_missing(session.get_bind().dialect.name)
    started = list(session.connection().execute(insert, new_rows).scalars())
    created = set(started)
    restart, touch = [], []
    for entry in session.execute(_LOCK_ENTRIES, {"kr_ids": ids}):
        if entry.id in created:
            continue
        if entry.state not in (PENDING, SENDING):  # sent, failed or skipped before: pending again
            restart.append({"entry_id": entry.id, "new_due_at": quiet, "now": now})
            started.append(entry.id)
        else:  # already waiting: the quiet period starts again, up to its cap
            cap = (entry.pending_since or now) + timedelta(seconds=delay * MAX_WAIT_FACTOR)
            touch.append({"entry_id": entry.id, "new_due_at": min(quiet, cap), "now": now})
    if restart:
        session.execute(_RESTART, restart)
    if touch:
        session.execute(_TOUCH, touch)
    return sorted(started)


def _shows_something(session: Session, kr: KeyResult) -> bool:
    """Work linked, or an owner's check-in: a key result with neither gets no comment yet."""
    if Counters(kr.n_open, kr.n_done, kr.n_dropped).items:
        return True
    return kr.id in current_checkins(session, [kr.id])


@dataclass(frozen=True)
class Draft:
    """The comment a key result's entry is to show now: on which tracker, and its text."""

    kr: KeyResult
    tracker: str
    body: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()


def what_to_write(session: Session, entry: OutboxEntry, now: datetime, thresholds: Thresholds) -> Draft | str:
    """The comment for this entry as the database stands now, or the reason there is none to write."""
    kr = session.get(KeyResult, entry.kr_id)
    if kr is None or not kr.active:
        return "key result ended"
    if not kr.anchor_key:
        return "no anchor issue to comment on"
    if entry.comment_id is None and entry.sent_hash is None and not _shows_something(session, kr):
        return "no progress to show yet"
    tracker = WorkItemKey.parse(kr.anchor_key).tracker
    return Draft(kr, tracker, render_comment(comment_view(session, kr, now, thresholds), MARKUPS[tracker]))
