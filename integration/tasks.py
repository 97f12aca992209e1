"""Queue tasks and schedules, registered on the app's own Huey instance (no import-time globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from huey import Huey, crontab

from .processing import process_delivery, stuck_deliveries
from .sender import due_entries, send

log = logging.getLogger("okrbot.tasks")
SWEEP_CHUNK = 100


@dataclass(frozen=True)
class Tasks:
    process_deliveries: object  # huey TaskWrapper
    sweep: object
    send_comment: object
    sweep_outbox: object


def register_tasks(huey: Huey, rt) -> Tasks:
    @huey.task(name="okrbot.process_deliveries")
    def process_deliveries(ids: list[int]) -> None:
        for delivery_pk in ids:
            delay = process_delivery(rt, delivery_pk)
            if delay is not None:
                process_deliveries.schedule(args=([delivery_pk],), delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.sweep")
    def sweep() -> int:
        """Re-queue stored deliveries that were never processed (queue down, crash, lost doorbell)."""
        ids = stuck_deliveries(rt)
        for start in range(0, len(ids), SWEEP_CHUNK):
            process_deliveries(ids[start:start + SWEEP_CHUNK])
        if ids:
            log.warning("sweep re-queued %d stored deliveries that had not been processed", len(ids))
        return len(ids)

    @huey.task(name="okrbot.send_comment")
    def send_comment(entry_id: int) -> None:
        delay = send(rt, entry_id)
        if delay is not None:
            send_comment.schedule(args=(entry_id,), delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="okrbot.sweep_outbox")
    def sweep_outbox() -> int:
        """Send due comments whose doorbell was lost, and those a crashed worker left claimed."""
        ids = due_entries(rt)
        for entry_id in ids:
            send_comment(entry_id)
        return len(ids)

    return Tasks(process_deliveries=process_deliveries, sweep=sweep, send_comment=send_comment,
                 sweep_outbox=sweep_outbox)
