"""The queued work: parse stored deliveries and apply them, several in one transaction.

A worker claims a batch of stored deliveries with `FOR UPDATE SKIP LOCKED` (workers never wait on
each other for a delivery), parses each body once, applies the whole batch as one unit of work, and
marks it processed in the same commit. The apply path takes its row locks in one fixed order — work
items by key, then key results by id, then check-ins by comment key (and their answers), then outbox
entries — so concurrent batches cannot deadlock;
should the database still report a deadlock or a serialisation failure, the batch is simply run again.

Failures retry with exponential backoff, recorded on the delivery row (the database, not the queue,
remembers); after `max_attempts` the delivery is marked failed and stays inspectable
(`okrbot deliveries --failed`). A body that cannot be parsed fails at once: retrying cannot help.
When one delivery of a batch breaks the batch, the rest are applied one by one, so it fails alone.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import DBAPIError

from core.events import Event, Parsed
from core.schema import check_bounds, upsert_insert
from mappings.keyresults import Attribution, apply_items
from mappings.keys import WorkItemKey
from mappings.scope import Scope
from mappings.workitems import reduce_events, store_events
from webhooks import github, jira
from webhooks.decode import decode_body, media_type
from webhooks.errors import PayloadError
from webhooks.models import FAILED, IGNORED, PROCESSED, RECEIVED, Delivery

from ..db import ping, unit_of_work
from ..trackers.models import GithubInstallation
from ..writeback import render
from ..writeback.outbox import note_changes
from .checkins import apply_checkins
from .lifecycle import note_installation_events, screen

log = logging.getLogger("okrbot.processing")
CONFLICT_RETRIES = 5  # deadlock / serialisation failure: the batch runs again at once, this many times
_CONFLICT_STATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


class DatabaseUnavailable(Exception):
    """The database did not answer: nothing was applied; the caller waits for it and runs again."""


@dataclass(frozen=True)
class Applied:
    """What a unit of work applied leaves to schedule once it commits."""

    pending: list[int]  # outbox entries (living comments) that became pending
    created: set[str]  # key results that appeared: to be backfilled
    answers: list[int] = field(default_factory=list)  # check-in answers to send


@dataclass
class BatchResult:
    processed: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # outbox entries that became pending
    answers: list[int] = field(default_factory=list)  # check-in answers that became pending
    created: set[str] = field(default_factory=set)  # key results that appeared: to be backfilled
    received_at: dict[int, tuple[str, datetime]] = field(default_factory=dict)  # pk → (tracker, received)
    ignored: list[tuple[int, str]] = field(default_factory=list)  # out of scope, or the App may not act there


def parse_delivery(rt, delivery) -> Parsed:
    payload = decode_body(delivery.body, media_type(delivery.headers.get("Content-Type"))
                          or "application/json")
    if delivery.tracker == "github":
        return github.parse(delivery.event, payload, rt.github_options)
    return jira.parse(payload, rt.jira_options)


def is_own_comment_event(event: Event) -> bool:
    """okrbot's own comments (their marker) come back as comment events: recognised, and nothing more."""
    return event.comment is not None and render.is_own_comment(event.comment.body)


def _events(parsed: Parsed, scope: Scope) -> list[Event]:
    """The delivery's events, without okrbot's own comments (recognised, and nothing more) and without items
    out of scope (a sub-issue delivered to an allowed repository may name an issue of another)."""
    return [e for e in parsed.events if isinstance(e, Event) and not is_own_comment_event(e) and in_scope(scope, e)]


def in_scope(scope: Scope, event: Event) -> bool:
    """The event's work item lives where the scope allows (reconcile's reads are screened by it too). An
    event naming no item (a Jira Server comment by issue id) was screened with its delivery's origin."""
    if event.item is not None:
        return scope.allows_container(event.tracker, event.item.container)
    if event.removed_key:
        return scope.allows_container(event.tracker, WorkItemKey.parse(event.removed_key).container)
    return True


def _is_work_event(event: Event) -> bool:
    """About a work item the body shows (or one that left): a Jira comment event may name none."""
    return event.item is not None or bool(event.removed_key)


def apply_parsed(rt, session, parsed: Parsed, delivery_pk: int | None) -> Applied:
    """One delivery's events applied (see `apply_batch`)."""
    return apply_batch(rt, session, [(delivery_pk, parsed)])


def apply_batch(rt, session, batch: list[tuple[int | None, Parsed]], now: datetime | None = None) -> Applied:
    """Work items first (newest wins), then what they mean for key results, then check-ins, then the outbox.

    Returns what is to be scheduled once this transaction commits: the outbox entries that became
    pending, the key results that appeared (backfill), the check-in answers. `now` (default: the clock)
    is the time history is recorded at; only `apply_stored` passes another.
    """
    pks = [pk for pk, _parsed in batch if pk]
    cause = "replay" if not pks else f"delivery:{pks[0]}" if len(pks) == 1 else f"deliveries:{pks[0]}..{pks[-1]}"
    ctx = rt.domain.context(session, now=now, cause=cause)
    note_installations(session, [parsed for _pk, parsed in batch], ctx.now)
    released = note_installation_events(session, ctx.scope, batch, ctx.now)
    events = [(event, pk) for pk, parsed in batch for event in _events(parsed, ctx.scope)]
    apply_events(ctx, [(event, pk) for event, pk in events if _is_work_event(event)])
    answers, checked_in = apply_checkins(session, events, ctx.now)
    pending = note_changes(session, ctx.changed | checked_in, ctx.now, rt.settings.write_delay)
    return Applied(sorted(set(pending) | set(released)), set(ctx.created), answers)


def apply_events(ctx, events: list[tuple[Event, int | None]]) -> None:
    """The one apply path, for webhook events and for what reconcile reads: work items, key results."""
    newest = reduce_events(events)
    items = store_events(ctx.session, newest)
    attribution: Attribution = {}
    for key, want in newest.items():
        if want.event is not None:
            cause = f"delivery:{want.delivery_pk}" if want.delivery_pk else ctx.cause
            attribution[key] = (_display(want.event), cause)
    apply_items(ctx, items, attribution)


def note_installations(session, batch: list[Parsed], now: datetime) -> None:
    """Remember which App installation covers each repository, writing only what changed.

    Every App delivery names its installation; writing that row each time would make it the one row
    all workers queue behind, so it is read first (no lock) and written only when it differs.
    """
    wanted: dict[str, int] = {}
    for parsed in batch:
        if parsed.tracker == "github" and parsed.installation_id is not None:
            for e in parsed.events:
                if isinstance(e, Event) and e.item is not None:
                    wanted[e.item.container.lower()] = parsed.installation_id
    if not wanted:
        return
    known = dict(session.execute(select(GithubInstallation.repo, GithubInstallation.installation_id)
                                 .where(GithubInstallation.repo.in_(sorted(wanted)))).all())
    changed = [{"repo": r, "installation_id": i, "updated_at": now} for r, i in sorted(wanted.items())
               if known.get(r) != i]
    if changed:
        check_bounds(GithubInstallation, changed)
        insert = upsert_insert(session.get_bind().dialect.name, GithubInstallation)
        session.execute(insert.values(changed).on_conflict_do_update(
            index_elements=["repo"], set_={"installation_id": insert.excluded.installation_id,
                                           "updated_at": insert.excluded.updated_at}))


def _display(event: Event) -> str | None:
    """Who did it, as the comment names them: GitHub login, Jira display name (Cloud ids are opaque)."""
    if event.actor is None:
        return None
    return event.actor.login if event.tracker == "github" else (event.actor.name or event.actor.login)


# --- claiming and running batches ---------------------------------------------------------------


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialisation failure: the transaction can simply run again."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _CONFLICT_STATES


def is_unavailable(exc: BaseException) -> bool:
    """The database is not answering (down, restarting, network): not the delivery's fault."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated or _no_connection(exc))


def _no_connection(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None) or ""
    return state.startswith("08") or state in ("57P01", "57P02", "57P03") or (
        state == "" and type(exc.orig).__name__ == "OperationalError" and "connect" in str(exc.orig).lower())


# Built once (Core, on the table): what nobody else holds, then what was applied marked processed.
_DELIVERIES = Delivery.__table__
_CLAIM = (select(_DELIVERIES.c.id, _DELIVERIES.c.tracker, _DELIVERIES.c.event, _DELIVERIES.c.headers,
                 _DELIVERIES.c.body, _DELIVERIES.c.received_at)
          .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)), _DELIVERIES.c.status == RECEIVED)
          .order_by(_DELIVERIES.c.id).with_for_update(skip_locked=True))
_MARK_PROCESSED = (_DELIVERIES.update().where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
                   .values(status=PROCESSED, processed_at=bindparam("now"), last_error=None, next_attempt_at=None))
_MARK_IGNORED = (_DELIVERIES.update().where(_DELIVERIES.c.id == bindparam("pk"))
                 .values(status=IGNORED, processed_at=bindparam("now"), last_error=bindparam("reason"),
                         next_attempt_at=None))


def _claim_and_apply(rt, ids: list[int], now: datetime | None = None) -> BatchResult:
    """One transaction: claim what nobody else holds, parse, apply, mark processed (or failed)."""
    result = BatchResult()
    with unit_of_work(rt.sessions) as session:
        rows = session.execute(_CLAIM, {"ids": ids}).all()
        if not rows:
            return result
        batch, unparseable = [], []
        for row in rows:
            try:
                batch.append((row.id, parse_delivery(rt, row)))
            except PayloadError as exc:
                unparseable.append((row.id, f"unparseable body: {exc.message}"))
            except Exception as exc:  # the parsers are pure: the same bytes would fail again
                log.error("the parser failed on delivery %s", row.id, exc_info=exc)
                unparseable.append((row.id, f"unparseable body: {type(exc).__name__}: {exc}"))
            result.received_at[row.id] = (row.tracker, row.received_at)
        batch, result.ignored = screen(session, rt.settings.scope, batch)
        if batch:
            applied = apply_batch(rt, session, batch, now)
            result.pending, result.created, result.answers = applied.pending, applied.created, applied.answers
        now = datetime.now(UTC)
        result.processed = [pk for pk, _parsed in batch]
        if result.processed:
            session.execute(_MARK_PROCESSED, {"ids": result.processed, "now": now})
        if result.ignored:  # stored, acknowledged, never applied: the reason is what `okrbot deliveries` shows
            session.execute(_MARK_IGNORED, [{"pk": pk, "reason": why, "now": now} for pk, why in result.ignored])
        for pk, error in unparseable:
            session.execute(update(Delivery).where(Delivery.id == pk)
                            .values(status=FAILED, attempts=Delivery.attempts + 1, last_error=error[:2000],
                                    next_attempt_at=None).execution_options(synchronize_session=False))
            log.error("delivery %s failed for good: %s", pk, error)
    for pk, _error in unparseable:
        rt.metrics.processed(result.received_at[pk][0], "failed", None)
    return result


def apply_stored(rt, ids: list[int], now: datetime) -> BatchResult:
    """Apply stored deliveries as if processed at `now`, in one transaction, and schedule nothing after it.

    For `okrbot demo`, whose sample has weeks of history: the same claim, parse and apply as the worker's,
    with the history dated `now`; no write-back and no backfill follow (the sample's issues exist nowhere).
    """
    return _claim_and_apply(rt, ids, now)


def _run(rt, ids: list[int]) -> BatchResult:
    """`_claim_and_apply`, run again on a deadlock or serialisation failure; DatabaseUnavailable if down."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return _claim_and_apply(rt, ids)
        except DBAPIError as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(str(exc.orig).splitlines()[0] if exc.orig else str(exc)) from exc
            if not is_conflict(exc) or attempt == CONFLICT_RETRIES:
                raise
            log.info("batch of %d deliveries met a lock conflict (%s); running it again", len(ids),
                     exc.orig.sqlstate)
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise AssertionError("unreachable")


def process_deliveries(rt, ids: list[int]) -> dict[int, float]:
    """Apply these deliveries in batches; return the retry delay of each that failed for now.

    Raises DatabaseUnavailable when the database stops answering: what was not applied stays
    `received`, and the caller runs the ids again once the database is back.
    """
    retries: dict[int, float] = {}
    ids = sorted(set(ids))
    size = rt.settings.apply_batch_size
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        try:
            _after_commit(rt, _run(rt, chunk))
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            if is_conflict(exc):  # still meeting lock conflicts: later, and not counted as an attempt
                log.warning("batch of %d deliveries still meets lock conflicts; it runs again later", len(chunk))
                retries |= dict.fromkeys(chunk, rt.settings.retry_base_seconds)
                continue
            if len(chunk) == 1:
                retries |= _failed(rt, chunk[0], exc)
                continue
            log.warning("a batch of %d deliveries failed; applying them one by one", len(chunk), exc_info=True)
            for pk in chunk:
                retries |= process_deliveries(rt, [pk])
    return retries


def wait_for_database(rt, timeout: float, every: float = 0.2) -> bool:
    """Return as soon as the database answers (True), or after `timeout` seconds (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ping(rt.engine)
            return True
        except DBAPIError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(every)


def process_delivery(rt, delivery_pk: int) -> float | None:
    """Process one delivery; return a delay in seconds when it should be retried, else None."""
    return process_deliveries(rt, [delivery_pk]).get(delivery_pk)


def is_permanent(exc: BaseException) -> bool:
    """Whether applying the same body again must fail the same way: a value the domain refuses, or
    one the database cannot store (SQLSTATE class 22: too long, out of range, bad text)."""
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) is not None and exc.orig.sqlstate.startswith("22")
    return isinstance(exc, PayloadError | ValueError)


def _failed(rt, delivery_pk: int, exc: Exception) -> dict[int, float]:
    log.error("delivery %s failed", delivery_pk, exc_info=exc)
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    delay = _record_failure(rt, delivery_pk, reason, permanent=is_permanent(exc))
    return {} if delay is None else {delivery_pk: delay}


def _after_commit(rt, result: BatchResult) -> None:
    schedule_sends(rt, result.pending)
    schedule_answers(rt, result.answers)
    schedule_backfills(rt, result.created)
    now = datetime.now(UTC)
    for pk in result.processed:
        tracker, received_at = result.received_at[pk]
        rt.metrics.processed(tracker, "processed", (now - received_at).total_seconds())
    for pk, reason in result.ignored:
        rt.metrics.processed(result.received_at[pk][0], "ignored", None)
        log.info("delivery %s ignored: %s", pk, reason)


def schedule_sends(rt, entry_ids: list[int]) -> None:
    """Ring for each comment at the end of its quiet period; lossy: the outbox sweep catches misses."""
    for entry_id in entry_ids:
        try:
            rt.tasks.send_comment.schedule(args=(entry_id,), delay=rt.settings.write_delay)
        except Exception as exc:
            log.warning("queue unreachable, comment %s left to the sweep: %s", entry_id, exc)


def schedule_answers(rt, answer_ids: list[int]) -> None:
    """Ring for each check-in answer now; lossy: the outbox sweep sends what was missed."""
    for answer_id in answer_ids:
        try:
            rt.tasks.send_checkin_answer(answer_id)
        except Exception as exc:
            log.warning("queue unreachable, check-in answer %s left to the sweep: %s", answer_id, exc)


def schedule_backfills(rt, kr_ids: set[str]) -> None:
    """A key result that appears is read whole through the API (never inside the webhook request)."""
    for kr_id in sorted(kr_ids):
        try:
            rt.tasks.sync_key_result(kr_id)
        except Exception as exc:  # the hourly reconcile reads it anyway
            log.warning("queue unreachable, backfill of %s left to the next reconcile: %s", kr_id, exc)


def _record_failure(rt, delivery_pk: int, error: str, permanent: bool = False) -> float | None:
    """Note a failed attempt; retry later, unless it is permanent or the attempts are used up."""
    with unit_of_work(rt.sessions) as session:
        delivery = session.get(Delivery, delivery_pk, with_for_update=True)
        if delivery is None or delivery.status != RECEIVED:
            return None
        delivery.attempts += 1
        delivery.last_error = error[:2000]
        delay = None if permanent else rt.settings.retry.delay(delivery.attempts)
        if delay is None:
            delivery.status, delivery.next_attempt_at = FAILED, None
            log.error("delivery %s (%s %s) failed for good after %d attempt(s): %s", delivery_pk,
                      delivery.tracker, delivery.event, delivery.attempts, error)
            rt.metrics.processed(delivery.tracker, "failed", None)
            return None
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
