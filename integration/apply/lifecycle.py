"""The App lifecycle in the apply path: installation events stored, and held writes released when they resume.

What the states mean, and the rule for writing, are integration.trackers.access's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.events import InstallationEvent, Parsed
from mappings.scope import Scope

from ..summaries.models import SummaryPost
from ..trackers.access import note_lifecycle, standing, write_refusal
from ..writeback.models import HELD, PENDING, CheckinAnswer, OutboxEntry

_HELD_ENTRIES = select(OutboxEntry.id, OutboxEntry.target).where(OutboxEntry.state == HELD)
_HELD_POSTS = select(SummaryPost.id, SummaryPost.anchor).where(SummaryPost.state == HELD)
_HELD_ANSWERS = select(CheckinAnswer.id, CheckinAnswer.anchor).where(CheckinAnswer.state == HELD)


def release_held(session: Session, scope: Scope, now: datetime) -> list[int]:
    """Held outbox entries, summary posts and check-in answers that may be written again become pending, due now.

    Returns the outbox entries released (to be rung for); the summary retry picks the posts up, the
    outbox sweep the answers.
    Runs only after a lifecycle event that resumes something, so the held rows are few.
    """
    entries = [entry_id for entry_id, target in session.execute(_HELD_ENTRIES).all()
               if target is None or write_refusal(session, target, scope) is None]
    if entries:
        session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(entries), OutboxEntry.state == HELD)
                        .values(state=PENDING, due_at=now, last_error=None, updated_at=now)
                        .execution_options(synchronize_session=False))
    posts = [post_id for post_id, anchor in session.execute(_HELD_POSTS).all()
             if write_refusal(session, anchor, scope) is None]
    if posts:
        session.execute(update(SummaryPost).where(SummaryPost.id.in_(posts), SummaryPost.state == HELD)
                        .values(state="pending", due_at=now, last_error=None)
                        .execution_options(synchronize_session=False))
    answers = [answer_id for answer_id, anchor in session.execute(_HELD_ANSWERS).all()
               if write_refusal(session, anchor, scope) is None]
    if answers:
        session.execute(update(CheckinAnswer).where(CheckinAnswer.id.in_(answers), CheckinAnswer.state == HELD)
                        .values(state=PENDING, due_at=now, last_error=None)
                        .execution_options(synchronize_session=False))
    return sorted(entries)


def screen(session: Session, scope: Scope, batch: list[tuple[int, Parsed]]
           ) -> tuple[list[tuple[int, Parsed]], list[tuple[int, str]]]:
    """The deliveries to apply, and those to mark ignored with the reason `okrbot deliveries` shows.

    Out of scope first (the settings), then the App lifecycle, walked in delivery order so that a
    suspension or a removal in the same batch takes effect from its own delivery on.
    """
    found = standing(session, [parsed for _pk, parsed in batch])
    kept, ignored = [], []
    for pk, parsed in batch:
        reason = None if scope.allows(parsed.origin, parsed.tracker) else scope.why_not(parsed.origin, parsed.tracker)
        reason = reason or found.refusal(parsed)
        if reason is not None:
            ignored.append((pk, reason))
            continue
        for event in parsed.events:
            if isinstance(event, InstallationEvent):
                found.take(event)
        kept.append((pk, parsed))
    return kept, ignored


def note_installation_events(session: Session, scope: Scope, batch: list[tuple[int | None, Parsed]],
                             now: datetime) -> list[int]:
    """Store the batch's lifecycle events in delivery order; release held writes when one resumes."""
    resumed = False
    for pk, parsed in batch:
        for event in parsed.events:
            if isinstance(event, InstallationEvent):
                resumed = note_lifecycle(session, pk, event, now) or resumed
    return release_held(session, scope, now) if resumed else []
