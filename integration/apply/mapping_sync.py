"""okrs.yml into the database, as an explicit step (a read never does it).

It runs at a worker's start, on the worker's periodic check (`okrbot.mappings`, every minute: a stat of
the file, no database work unless it changed), and for `okrbot mappings sync`. The periodic check runs
in whichever worker process takes it, so each process also checks before the tasks that use the
mapping (processing, summaries, reconcile): every process applies the file it synced. What the file
changed is written back and backfilled like any other change: outbox entries in the same transaction, the
sends and backfills queued once it commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..db import unit_of_work
from ..writeback.outbox import note_changes
from .processing import schedule_backfills, schedule_sends

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("okrbot.mapping")


@dataclass(frozen=True)
class MappingSync:
    """What one sync changed: key results rewritten (their comments) and key results that appeared."""

    changed: frozenset[str]
    created: frozenset[str]


def sync_mapping_file(rt: Runtime, now: datetime | None = None, force: bool = False) -> MappingSync | None:
    """Sync when okrs.yml changed since this process last synced it (or always, with `force`).

    Returns None when there was nothing to do (no file, or unchanged).
    """
    now = now or datetime.now(UTC)
    if rt.domain.path is None or not (rt.domain.needs_sync(now) or force):
        return None
    with unit_of_work(rt.sessions) as session:
        ctx = rt.domain.sync(session, now)
        pending = note_changes(session, ctx.changed, ctx.now, rt.settings.write_delay)
        result = MappingSync(changed=frozenset(ctx.changed), created=frozenset(ctx.created))
    schedule_sends(rt, pending)
    schedule_backfills(rt, set(result.created))
    log.info("synced %s: %d key result(s) changed, %d new", rt.domain.path, len(result.changed), len(result.created))
    return result
