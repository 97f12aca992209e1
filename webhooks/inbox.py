"""The inbox: deliveries are committed here before they are acknowledged.

Group commit: requests that arrive while a commit is in flight wait, and the next commit carries
them all. Each request is still answered only after the commit that holds its row, so durability is
that of one commit per delivery (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`), while
the fsync cost is shared. De-duplication is the unique key (tracker, delivery_id) in the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from mappings.models import RECEIVED, Delivery

MAX_BATCH = 64


@dataclass(frozen=True)
class IncomingDelivery:
    tracker: str
    delivery_id: str
    event: str
    action: str | None
    headers: dict
    body: bytes
    received_at: datetime

    def row(self) -> dict:
        return {"tracker": self.tracker, "delivery_id": self.delivery_id, "event": self.event,
                "action": self.action, "headers": self.headers, "body": self.body,
                "received_at": self.received_at, "status": RECEIVED, "attempts": 0}


@dataclass
class _Slot:
    delivery: IncomingDelivery
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    stored_id: int | None = None
    error: BaseException | None = None


class Inbox:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._statement = _insert_ignoring_duplicates(engine)
        self._lock = threading.Lock()
        self._pending: list[_Slot] = []
        self._writing = False

    def store(self, delivery: IncomingDelivery) -> int | None:
        """Commit the delivery; return its row id, or None when it was stored before (duplicate).

        Raises the database's error when it cannot be stored (the receiver answers 503).
        """
        slot = _Slot(delivery)
        with self._lock:
            self._pending.append(slot)
            slot.lead = not self._writing
            self._writing = True
        if not slot.lead:
            slot.done.wait()
        if slot.lead:  # first in, or handed the lead by the previous writer
            self._write_batch()
        if slot.error is not None:
            raise slot.error
        return slot.stored_id

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        try:
            with self._engine.begin() as conn:
                for slot in batch:
                    slot.stored_id = conn.execute(self._statement, slot.delivery.row()).scalar()
        except BaseException as exc:  # every waiter of this commit gets the error: none is acknowledged
            for slot in batch:
                slot.error, slot.stored_id = exc, None
        finally:
            with self._lock:
                if self._pending:
                    nxt = self._pending[0]
                    nxt.lead = True
                    nxt.done.set()
                else:
                    self._writing = False
            for slot in batch:
                slot.lead = False
                slot.done.set()


def _insert_ignoring_duplicates(engine: Engine):
    table = Delivery.__table__
    keys = [table.c.tracker, table.c.delivery_id]
    dialect = engine.dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        stmt = insert(table)
    return stmt.returning(table.c.id)
