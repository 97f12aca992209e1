"""Sending one outbox entry: claim and render (a transaction), call the tracker (none), settle (another).

The sender owns how every write (comment, summary, reminder) goes out: the per-credential budget,
rate limits and retries. What to write is write-back's (integration/writeback.py).

- At most one write per second per credential (a reservation in the database, so several workers
  share it); rate limits and failures reschedule through the queue (the one retry policy), never a
  sleep in a worker; an unchanged comment is not written.
- A create is never repeated blindly: before creating, okrbot looks for its marker on the anchor,
  and marks the entry `uncertain` while a create is in flight (a crash, a timeout, a 5xx).

The HTTP call happens outside any database transaction; the claim is committed first, with
`uncertain` set when a create may follow, so a crash at any point leaves an entry that the sweep
finds and that looks for its marker before writing again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import unit_of_work
from ..retry import RetryPolicy
from ..trackers.access import write_refusal
from ..trackers.base import Anchor, CommentClient, CommentMissing, Gone, RateLimited, TrackerError, Transient
from .models import DRY_RUN, HELD, PENDING, SENDING, SENT, SKIPPED, WRITE_FAILED, CredentialBudget, OutboxEntry
from .outbox import what_to_write
from .render import marker

log = logging.getLogger("okrbot.writeback")
CLAIM = timedelta(minutes=2)
# GitHub: at least one second between content-creating requests. The reservation is taken when a send
# is claimed, a little before its request leaves; the margin keeps the requests themselves ≥ 1 s apart.
WRITE_SPACING = timedelta(seconds=1.1)


@dataclass(frozen=True)
class Plan:
    entry_id: int
    kr_id: str
    anchor: Anchor
    tracker: str
    body: str
    hash: str
    comment_id: str | None
    client: CommentClient
    claimed_at: datetime


@dataclass(frozen=True)
class Outcome:
    comment_id: str | None = None
    writes: int = 0
    error: Exception | None = None


def send(rt, entry_id: int, now: datetime | None = None) -> float | None:
    """Write the entry's comment if it is due; return seconds until it should be tried again, or None."""
    started = datetime.now(UTC)
    now = now or started
    with unit_of_work(rt.sessions) as session:
        plan = _claim(rt, session, entry_id, now)
    if not isinstance(plan, Plan):
        return plan
    outcome = _perform(plan)
    with unit_of_work(rt.sessions) as session:
        return _settle(rt, session, plan, outcome, now + (datetime.now(UTC) - started))


def _finish(entry: OutboxEntry, state: str, reason: str | None, now: datetime) -> None:
    entry.state, entry.last_error, entry.updated_at, entry.claimed_until = state, reason, now, None


def _claim(rt, session, entry_id: int, now: datetime) -> Plan | float | None:
    entry = session.get(OutboxEntry, entry_id, with_for_update=True)
    not_now = _not_now(entry, now)
    if not_now is not False:
        return not_now
    draft = what_to_write(session, entry, now, rt.settings.thresholds)
    if isinstance(draft, str):
        _finish(entry, SKIPPED, draft, now)
        return None
    kr, tracker, body = draft.kr, draft.tracker, draft.body
    entry.body_hash, entry.target = draft.hash, kr.anchor_key
    if entry.body_hash == entry.sent_hash and entry.comment_id:
        _finish(entry, SENT, None, now)  # the comment would not change
        return None
    refusal = write_refusal(session, kr.anchor_key, rt.settings.scope)
    if refusal is not None:  # kept, and pending again when writing there resumes (apply.lifecycle)
        _finish(entry, HELD, refusal, now)
        log.warning("comment for %s held, not written: %s", kr.id, refusal)
        return None
    anchor = Anchor(kr.anchor_key, rt.clients.installation_for(session, kr.anchor_key))
    client = rt.clients.for_anchor(anchor)
    if client is None:
        _finish(entry, SKIPPED, rt.clients.missing_reason(tracker), now)
        log.warning("comment for %s not written: %s", kr.id, entry.last_error)
        return None
    if rt.settings.dry_run:
        _finish(entry, DRY_RUN, None, now)
        log.info("dry run: would write the comment of %s on %s:\n%s", kr.id, kr.anchor_key, body)
        return None
    wait = reserve_write(session, client.credential, now)
    if wait is not None:
        return max((wait - now).total_seconds(), 0.05)
    entry.state, entry.claimed_until, entry.attempts = SENDING, now + CLAIM, entry.attempts + 1
    entry.uncertain = entry.uncertain or entry.comment_id is None  # a create may follow
    return Plan(entry.id, kr.id, anchor, tracker, body, entry.body_hash, entry.comment_id, client, now)


def _not_now(entry: OutboxEntry | None, now: datetime) -> float | None | bool:
    """False when the entry is to be sent now; else None (nothing to do) or seconds to wait."""
    if entry is None or entry.state not in (PENDING, SENDING):
        return None
    if entry.state == SENDING and entry.claimed_until and entry.claimed_until > now:
        return None  # another worker is on it
    if entry.due_at > now:
        return (entry.due_at - now).total_seconds()
    return False


def _perform(plan: Plan) -> Outcome:
    client, anchor = plan.client, plan.anchor
    try:
        if plan.comment_id:
            try:
                return Outcome(client.edit_comment(anchor, plan.comment_id, plan.body).id, 1)
            except CommentMissing:  # a person deleted it: recreated, once, at this change
                log.info("comment %s on %s was deleted; writing it again", plan.comment_id, anchor.key)
                return Outcome(client.create_comment(anchor, plan.body).id, 1)
        found = client.find_comment(anchor, marker(plan.tracker, plan.kr_id))
        if found is not None and found.body == plan.body:
            return Outcome(found.id, 0)
        if found is not None:
            return Outcome(client.edit_comment(anchor, found.id, plan.body).id, 1)
        return Outcome(client.create_comment(anchor, plan.body).id, 1)
    except (RateLimited, Transient, Gone) as exc:
        return Outcome(error=exc)


def _settle(rt, session, plan: Plan, outcome: Outcome, now: datetime) -> float | None:
    entry = session.get(OutboxEntry, plan.entry_id, with_for_update=True)
    error = outcome.error
    if error is None:
        entry.comment_id, entry.sent_hash, entry.uncertain = outcome.comment_id, plan.hash, False
        entry.writes, entry.attempts = entry.writes + outcome.writes, 0
        if entry.updated_at > plan.claimed_at:  # changed again while it was being written
            entry.state, entry.claimed_until, entry.last_error = PENDING, None, None
            return max((entry.due_at - now).total_seconds(), 0.05)
        _finish(entry, SENT, None, now)
        return None
    entry.last_error = error_text(error)
    entry.uncertain = entry.uncertain or getattr(error, "uncertain", False)
    delay = after_failure(session, error, plan.client.credential, entry.attempts, now, rt.settings.retry)
    if delay is None:
        _finish(entry, WRITE_FAILED, entry.last_error, now)
        log.error("comment of %s on %s failed for good after %d attempt(s): %s", entry.kr_id, plan.anchor.key,
                  entry.attempts, error.message)
        return None
    entry.state, entry.claimed_until = PENDING, None
    log.warning("comment of %s: %s; retry in %.0f s", entry.kr_id, error.message, delay)
    return delay


def due_entries(rt, now: datetime | None = None, limit: int = 500) -> list[int]:
    from sqlalchemy import or_, select

    now = now or datetime.now(UTC)
    with rt.sessions() as session:
        query = (select(OutboxEntry.id)
                 .where(or_((OutboxEntry.state == PENDING) & (OutboxEntry.due_at <= now - timedelta(seconds=30)),
                            (OutboxEntry.state == SENDING) & (OutboxEntry.claimed_until < now)))
                 .order_by(OutboxEntry.due_at).limit(limit))
        return list(session.scalars(query))


def reserve_write(session: Session, credential: str, now: datetime) -> datetime | None:
    """Take this second of the credential's budget; None when taken, else when to come back."""
    budget = session.get(CredentialBudget, credential, with_for_update=True)
    if budget is None:
        try:
            with session.begin_nested():
                session.add(CredentialBudget(credential=credential, next_write_at=now + WRITE_SPACING))
            return None
        except IntegrityError:  # another worker made the row this instant: it has this second
            return now + WRITE_SPACING
    if budget.next_write_at > now:
        return budget.next_write_at
    budget.next_write_at = now + WRITE_SPACING
    return None


def hold_credential(session: Session, credential: str, until: datetime) -> None:
    """After a rate limit: nothing more on this credential until `until`."""
    budget = session.get(CredentialBudget, credential, with_for_update=True)
    if budget is None:
        session.add(CredentialBudget(credential=credential, next_write_at=until))
    elif budget.next_write_at < until:
        budget.next_write_at = until


def error_text(error: TrackerError) -> str:
    return f"{type(error).__name__}: {error.message}"[:2000]


def after_failure(session: Session, error: TrackerError, credential: str, attempts: int, now: datetime,
                  policy: RetryPolicy) -> float | None:
    """Seconds until the next try of a failed write, or None to give up (the caller records it failed).

    Gone never retries; a rate limit waits as asked and holds the credential for every writer;
    anything else follows the one retry policy (that of deliveries too).
    """
    if isinstance(error, Gone):
        return None
    if isinstance(error, RateLimited):
        hold_credential(session, credential, now + timedelta(seconds=error.retry_after))
        return error.retry_after
    return policy.delay(attempts)
