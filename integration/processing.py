"""The queued work: parse one stored delivery and apply it, in one transaction.

Failures retry with exponential backoff, recorded on the delivery row (the database, not the queue,
remembers); after `max_attempts` the delivery is marked failed and stays inspectable
(`okrbot deliveries --failed`). A body that cannot be parsed fails at once: retrying cannot help.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mappings.keyresults import apply_items
from mappings.models import FAILED, PROCESSED, RECEIVED, Delivery, GithubInstallation
from mappings.workitems import apply_to_work_items
from webhooks import github, jira
from webhooks.decode import decode_body, media_type
from webhooks.errors import PayloadError
from webhooks.events import Event, Parsed

from . import render
from .db import unit_of_work
from .writeback import note_changes

log = logging.getLogger("okrbot.processing")


def parse_delivery(rt, delivery: Delivery) -> Parsed:
    payload = decode_body(delivery.body, media_type(delivery.headers.get("Content-Type"))
                          or "application/json")
    if delivery.tracker == "github":
        return github.parse(delivery.event, payload, rt.github_options)
    return jira.parse(payload, rt.jira_options)


def is_own_comment_event(event: Event) -> bool:
    """okrbot's own comments (their marker) come back as comment events: recognised, and nothing more."""
    return event.comment is not None and render.is_own_comment(event.comment.body)


def apply_parsed(rt, session, parsed: Parsed, delivery_pk: int | None) -> tuple[list[int], set[str]]:
    """Work items first (newest wins), then what they mean for key results, then the outbox.

    Returns the outbox entries that became pending and the key results that appeared, to be
    scheduled (write-back, backfill) once this transaction commits.
    """
    ctx = rt.domain.context(session, cause=f"delivery:{delivery_pk}" if delivery_pk else "replay")
    note_installation(session, parsed, ctx.now)
    events = [e for e in parsed.events if isinstance(e, Event) and (e.item is not None or e.removed_key)]
    if any(is_own_comment_event(e) for e in events):
        log.debug("delivery %s is okrbot's own comment: ignored", delivery_pk)
    apply_events(ctx, [e for e in events if not is_own_comment_event(e)], delivery_pk)
    for hook in rt.after_apply:  # extension point (tests inject failures here)
        hook(session, parsed, delivery_pk)
    return note_changes(session, ctx.changed, ctx.now, rt.settings.write_delay), set(ctx.created)


def apply_events(ctx, events: list[Event], delivery_pk: int | None) -> None:
    """The one apply path, for webhook events and for what reconcile reads: work items, key results."""
    for event in events:
        touched = apply_to_work_items(ctx.session, event, delivery_pk)
        ctx.actor = _display(event)
        apply_items(ctx, touched)


def note_installation(session, parsed: Parsed, now: datetime) -> None:
    """Remember which App installation covers each repository a delivery is about."""
    if parsed.tracker != "github" or parsed.installation_id is None:
        return
    repos = {e.item.container.lower() for e in parsed.events if isinstance(e, Event) and e.item is not None}
    for repo in repos:
        row = session.get(GithubInstallation, repo)
        if row is None:
            session.add(GithubInstallation(repo=repo, installation_id=parsed.installation_id, updated_at=now))
        else:
            row.installation_id, row.updated_at = parsed.installation_id, now


def _display(event: Event) -> str | None:
    """Who did it, as the comment names them: GitHub login, Jira display name (Cloud ids are opaque)."""
    if event.actor is None:
        return None
    return event.actor.login if event.tracker == "github" else (event.actor.name or event.actor.login)


def process_delivery(rt, delivery_pk: int) -> float | None:
    """Process one delivery; return a delay in seconds when it should be retried, else None."""
    started = time.perf_counter()
    try:
        with unit_of_work(rt.sessions) as session:
            delivery = session.get(Delivery, delivery_pk, with_for_update=True)
            if delivery is None or delivery.status != RECEIVED:
                return None  # processed already (a second doorbell, a sweep): nothing to do
            tracker, received_at = delivery.tracker, delivery.received_at
            pending, created = apply_parsed(rt, session, parse_delivery(rt, delivery), delivery.id)
            delivery.status, delivery.processed_at = PROCESSED, datetime.now(UTC)
            delivery.last_error, delivery.next_attempt_at = None, None
    except PayloadError as exc:
        return _record_failure(rt, delivery_pk, f"unparseable body: {exc.message}", permanent=True)
    except Exception as exc:
        log.exception("delivery %s failed", delivery_pk)
        return _record_failure(rt, delivery_pk, f"{type(exc).__name__}: {exc}", permanent=False)
    schedule_sends(rt, pending)
    schedule_backfills(rt, created)
    rt.metrics.processed(tracker, "processed", (datetime.now(UTC) - received_at).total_seconds())
    log.debug("delivery %s processed in %.1f ms", delivery_pk, (time.perf_counter() - started) * 1000)
    return None


def schedule_sends(rt, entry_ids: list[int]) -> None:
    """Ring for each comment at the end of its quiet period; lossy: the outbox sweep catches misses."""
    for entry_id in entry_ids:
        try:
            rt.tasks.send_comment.schedule(args=(entry_id,), delay=rt.settings.write_delay)
        except Exception as exc:
            log.warning("queue unreachable, comment %s left to the sweep: %s", entry_id, exc)


def schedule_backfills(rt, kr_ids: set[str]) -> None:
    """A key result that appears is read whole through the API (never inside the webhook request)."""
    for kr_id in sorted(kr_ids):
        try:
            rt.tasks.sync_key_result(kr_id)
        except Exception as exc:  # the hourly reconcile reads it anyway
            log.warning("queue unreachable, backfill of %s left to the next reconcile: %s", kr_id, exc)


def backoff_seconds(rt, attempts: int) -> float:
    return min(rt.settings.retry_base_seconds * 2 ** (attempts - 1), 3600.0)


def _record_failure(rt, delivery_pk: int, error: str, permanent: bool) -> float | None:
    with unit_of_work(rt.sessions) as session:
        delivery = session.get(Delivery, delivery_pk, with_for_update=True)
        if delivery is None or delivery.status != RECEIVED:
            return None
        delivery.attempts += 1
        delivery.last_error = error[:2000]
        if permanent or delivery.attempts >= rt.settings.max_attempts:
            delivery.status, delivery.next_attempt_at = FAILED, None
            log.error("delivery %s (%s %s) failed for good after %d attempt(s): %s", delivery_pk,
                      delivery.tracker, delivery.event, delivery.attempts, error)
            rt.metrics.processed(delivery.tracker, "failed", None)
            return None
        delay = backoff_seconds(rt, delivery.attempts)
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
        log.warning("delivery %s attempt %d failed, retry in %.0f s: %s", delivery_pk,
                    delivery.attempts, delay, error)
        return delay


def stuck_deliveries(rt, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Stored but unprocessed deliveries the queue seems to have lost (older than the sweep age)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=rt.settings.sweep_after_seconds)
    with rt.sessions() as session:
        query = (select(Delivery.id).where(Delivery.status == RECEIVED, Delivery.received_at <= cutoff)
                 .where((Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= cutoff))
                 .order_by(Delivery.id).limit(limit))
        return list(session.scalars(query))


def count_waiting(rt) -> dict[str, int]:
    with rt.sessions() as session:
        rows = session.execute(select(Delivery.tracker, func.count()).where(Delivery.status == RECEIVED)
                               .group_by(Delivery.tracker))
        return {tracker: count for tracker, count in rows}
