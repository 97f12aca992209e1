"""Queue tasks and schedules, registered on the app's own Huey instance (no import-time globals)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from huey import Huey, crontab
from huey.api import TaskWrapper

from ..apply.mapping_sync import sync_mapping_file
from ..apply.processing import DatabaseUnavailable, stuck_deliveries, wait_for_database
from ..apply.processing import process_deliveries as _process_deliveries
from ..config import Settings
from ..reconcile import sync as reconcile
from ..summaries import post as summary_post
from ..writeback.checkin_answers import due_answers, send_answer
from ..writeback.sender import due_entries, send

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("okrbot.tasks")
SWEEP_CHUNK = 100
DB_WAIT_SECONDS = 30.0  # a worker thread waits this long for a database that stopped answering
DB_RETRY_SECONDS = 5.0  # then hands its batch back to the queue, to come again after this


def apply_deliveries(rt, ids: list[int]) -> dict[int, float]:
    """Apply these deliveries; while the database is down, wait for it and go on the moment it answers."""
    waited = 0.0
    while True:
        try:
            return _process_deliveries(rt, ids)
        except DatabaseUnavailable as exc:
            if waited >= DB_WAIT_SECONDS:
                log.error("database still unreachable after %.0f s; %d deliveries go back to the queue",
                          waited, len(ids))
                raise
            log.warning("database unreachable (%s); waiting for it with %d deliveries", exc, len(ids))
            started = time.monotonic()
            wait_for_database(rt, DB_WAIT_SECONDS - waited)
            waited += time.monotonic() - started


@dataclass(frozen=True)
class Tasks:
    process_deliveries: TaskWrapper
    sweep: TaskWrapper
    send_comment: TaskWrapper
    sweep_outbox: TaskWrapper
    send_checkin_answer: TaskWrapper
    sync_key_result: TaskWrapper
    reconcile_all: TaskWrapper
    deliver_summary: TaskWrapper
    summaries: TaskWrapper
    sync_mappings: TaskWrapper


def register_tasks(huey: Huey, settings: Settings, runtime: Callable[[], Runtime]) -> Tasks:
    """The tasks run with `runtime()`: the runtime is built after them (it holds them), so it is looked up."""

    @huey.task(name="okrbot.process_deliveries")
    def process_deliveries(ids: list[int]) -> None:
        rt = runtime()
        sync_mapping_file(rt)  # this process applies with the current okrs.yml (a stat while unchanged)
        try:
            retries = apply_deliveries(rt, ids)
        except DatabaseUnavailable:
            # not applied, still `received`: this task's ids are its to finish, not the sweep's
            process_deliveries.schedule(args=(ids,), delay=DB_RETRY_SECONDS)
            return
        for delivery_pk, delay in sorted(retries.items()):
            process_deliveries.schedule(args=([delivery_pk],), delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.sweep")
    def sweep() -> int:
        """Re-queue stored deliveries that were never processed (queue down, crash, lost doorbell)."""
        rt = runtime()
        ids = stuck_deliveries(rt)
        for start in range(0, len(ids), SWEEP_CHUNK):
            process_deliveries(ids[start:start + SWEEP_CHUNK])
        if ids:
            log.warning("sweep re-queued %d stored deliveries that had not been processed", len(ids))
        return len(ids)

    @huey.task(name="okrbot.send_comment")
    def send_comment(entry_id: int) -> None:
        rt = runtime()
        delay = send(rt, entry_id)
        if delay is not None:
            send_comment.schedule(args=(entry_id,), delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.sweep_outbox")
    def sweep_outbox() -> int:
        """Send due comments and check-in answers whose doorbell was lost, and those a crashed worker left."""
        rt = runtime()
        ids = due_entries(rt)
        for entry_id in ids:
            send_comment(entry_id)
        answers = due_answers(rt)
        for answer_id in answers:
            send_checkin_answer(answer_id)
        return len(ids) + len(answers)

    @huey.task(name="okrbot.send_checkin_answer")
    def send_checkin_answer(answer_id: int) -> None:
        rt = runtime()
        delay = send_answer(rt, answer_id)
        if delay is not None:
            send_checkin_answer.schedule(args=(answer_id,), delay=delay)

    @huey.task(name="okrbot.sync_key_result")
    def sync_key_result(kr_id: str, full: bool = False) -> dict:
        """Backfill on discovery, and reconcile; a rate limit reschedules it (its place is kept by ETags)."""
        rt = runtime()
        report = reconcile.sync_key_result(rt, kr_id, full=full)
        if report.retry_after is not None:
            sync_key_result.schedule(args=(kr_id, full), delay=report.retry_after)
        return {"calls": report.calls, "items": report.items, "not_modified": report.not_modified}

    @huey.periodic_task(reconcile_schedule(settings.sync_interval_minutes), name="okrbot.reconcile")
    def reconcile_all() -> int:
        """Every active key result compared with the tracker; missed deliveries of an App redelivered."""
        rt = runtime()
        ids = reconcile.active_key_results(rt)
        for kr_id in ids:
            sync_key_result(kr_id)
        reconcile.redeliver_failed(rt)
        return len(ids)

    @huey.task(name="okrbot.deliver_summary")
    def deliver_summary(post_id: int) -> None:
        rt = runtime()
        delay = summary_post.deliver(rt, post_id)
        if delay is not None:
            deliver_summary.schedule(args=(post_id,), delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.summaries")
    def summaries() -> int:
        """Weekly summaries and check-in reminders that are due; retries of those that failed."""
        rt = runtime()
        sync_mapping_file(rt)  # the summary targets of the current okrs.yml
        claimed = summary_post.run_due(rt)
        for post_id in summary_post.retry_due(rt):
            deliver_summary(post_id)
        return len(claimed)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.mappings")
    def sync_mappings() -> bool:
        """okrs.yml into the database when the file changed (a stat; no database work otherwise)."""
        rt = runtime()
        return sync_mapping_file(rt) is not None

    return Tasks(process_deliveries=process_deliveries, sweep=sweep, send_comment=send_comment,
                 sweep_outbox=sweep_outbox,
                 send_checkin_answer=send_checkin_answer, sync_key_result=sync_key_result, reconcile_all=reconcile_all,
                 deliver_summary=deliver_summary, summaries=summaries, sync_mappings=sync_mappings)


def reconcile_schedule(minutes: int):
    """Every `minutes` (a divisor of 60 or a multiple of it), at minute 7 past to spread the load."""
    if minutes >= 60:
        return crontab(minute="7", hour=f"*/{max(1, minutes // 60)}")
    return crontab(minute=f"*/{minutes}")
