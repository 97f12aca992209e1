"""The queue (Huey) and the doorbell that rings it after a delivery is committed.

The stored delivery row is the durable record of work to do; the queue only says "look now". So the
doorbell may be cheap and lossy: it gathers the ids committed in the last few milliseconds into one
task (one queue write for many deliveries), and if the queue is unreachable it logs and moves on —
the periodic sweep (integration.jobs.tasks) finds every stored delivery that was never processed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from huey import Huey, RedisHuey, SqliteHuey

log = logging.getLogger("okrbot.queue")


def make_huey(url: str) -> Huey:
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        return RedisHuey("okrbot", url=url)
    if parts.scheme == "sqlite":
        path = Path(parts.path[1:] or "okrbot-queue.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("okrbot", filename=str(path), timeout=30)
    raise ValueError(f"unsupported queue URL scheme {parts.scheme!r}")


def queue_ping(huey: Huey) -> None:
    """Raise if the queue's storage cannot be reached."""
    huey.pending_count()


class Doorbell:
    """Coalesces "process these delivery ids" rings into one enqueue every `window` seconds
    (OKRBOT_DOORBELL_WINDOW_MS; its default lives with the settings).

    The sender thread starts lazily, in the process that rings (gunicorn forks workers after import).
    """

    def __init__(self, send: Callable[[list[int]], None], window: float):
        self._send = send
        self._window = window
        self._cond = threading.Condition()
        self._ids: list[int] = []
        self._pid: int | None = None
        self._inflight = 0

    def ring(self, delivery_id: int) -> None:
        with self._cond:
            self._ids.append(delivery_id)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="okrbot-doorbell", daemon=True).start()
            self._cond.notify()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every ring so far has been sent (or dropped): for tests and shutdown."""
        with self._cond:
            self._cond.wait_for(lambda: not self._ids and not self._inflight, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._ids)
            threading.Event().wait(self._window)  # let a burst gather
            with self._cond:
                ids, self._ids = self._ids, []
                self._inflight = len(ids)
            self._deliver(ids)
            with self._cond:
                self._inflight = 0
                self._cond.notify_all()

    def _deliver(self, ids: list[int]) -> None:
        try:
            self._send(ids)
        except Exception as exc:  # lossy by design: the sweep re-queues what this misses
            log.warning("queue unreachable, %d deliveries left to the sweep: %s", len(ids), exc)
