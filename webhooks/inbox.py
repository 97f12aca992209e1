"""The inbox: deliveries are committed here before they are acknowledged.

Group commit: requests that arrive while a commit is in flight wait, and the next commit carries
them all. Each request is still answered only after the commit that holds its row, so durability is
that of one commit per delivery (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`), while
the fsync cost is shared. De-duplication is the unique key (tracker, delivery_id) in the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .models import RECEIVED, Delivery

MAX_BATCH = 64


class InboxUnavailable(Exception):
    """The database could not store the delivery (unreachable, locked too long, disk full...)."""


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
        self._statement = _InsertIgnoringDuplicates(engine)
        self._writers = _WriterLock(engine)
        self._lock = threading.Lock()
        self._pending: list[_Slot] = []
        self._writing = False

    def store(self, delivery: IncomingDelivery) -> int | None:
        """Commit the delivery; return its row id, or None when it was stored before (duplicate).

        Raises InboxUnavailable when it cannot be stored (the receiver answers 503).
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

    def close(self) -> None:
        self._statement.close()

    def _write_batch(self) -> None:
        batch: list[_Slot] = []
        try:
            with self._writers.hold():  # taken before the batch, so the batch grows while waiting
                with self._lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                ids = self._statement.insert_all([slot.delivery.row() for slot in batch])
            for slot, stored_id in zip(batch, ids, strict=True):
                slot.stored_id = stored_id
        except BaseException as exc:  # every waiter of this commit gets the error: none is acknowledged
            if not batch:
                with self._lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
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


class _WriterLock:
    """Serialises SQLite writers of all web processes on one machine with a file lock.

    SQLite admits one writer at a time; without this, a process that finds the database locked
    sleeps in SQLite's busy handler (1, 2, 5, 10... ms) even when the lock is free again a moment
    later. A waiter on flock is woken the instant the lock is released. No-op for PostgreSQL.
    """

    def __init__(self, engine: Engine):
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._path = f"{database}-inbox.lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid: int | None = None

    @contextmanager
    def hold(self):
        if self._path is None:
            yield
            return
        try:
            if self._fd is None or self._pid != os.getpid():
                self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as exc:  # the database's folder is missing or read-only: the database is too
            raise InboxUnavailable(f"cannot lock {self._path}: {exc.strerror}") from exc
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class _InsertIgnoringDuplicates:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING id`, compiled once, run on one held DBAPI connection.

    This is the receiver's hot path: going below the SQLAlchemy Connection saves about half the CPU a
    delivery costs. Values still pass through the columns' own bind processors, so what is stored is
    exactly what the ORM would store.
    """

    def __init__(self, engine: Engine):
        table = Delivery.__table__
        columns = [c.name for c in table.columns if c.name != "id"]
        make = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        stmt = (make(table).values({name: bindparam(name) for name in columns})
                .on_conflict_do_nothing(index_elements=[table.c.tracker, table.c.delivery_id])
                .returning(table.c.id))
        compiled = stmt.compile(dialect=engine.dialect)
        self._engine = engine
        self._sql = str(compiled)
        self._positional = compiled.positiontup
        dialect = engine.dialect
        self._processors = {n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in columns}
        self._explicit_begin = engine.dialect.name == "sqlite"  # the driver is in autocommit mode (db.py)
        # PostgreSQL: a round trip per statement, so a batch is one multi-row INSERT, written in the
        # server's own `$n` placeholders and run on psycopg's raw cursor (a `%s` query with over 50
        # parameters, 7 rows, would be parsed again on every call). SQLite runs in-process: a
        # statement per row costs nothing extra.
        self._multirow = None
        if engine.dialect.name == "postgresql":
            self._positional = columns
            self._multirow = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {{values}} "
                              "ON CONFLICT (tracker, delivery_id) DO NOTHING RETURNING id, tracker, delivery_id")
            self._by_size: dict[int, str] = {}
            from psycopg import RawCursor  # the PostgreSQL driver: not loaded by a SQLite-only process

            self._raw_cursor = RawCursor
        self._dbapi_error = engine.dialect.loaded_dbapi.Error
        self._conn, self._conn_pid = None, None
        self._errors = (SQLAlchemyError, self._dbapi_error)

    def _params(self, row: dict):
        values = {n: (p(row.get(n)) if p else row.get(n)) for n, p in self._processors.items()}
        return [values[n] for n in self._positional] if self._positional else values

    def _connection(self):
        # Group commit: one DBAPI connection per process, held, since only one batch writes at a
        # time and a pool checkout per batch costs as much as the insert. Re-made after a fork.
        if self._conn is None or self._conn_pid != os.getpid():
            conn = self._engine.raw_connection()
            if self._multirow:
                # PostgreSQL: the batch is one INSERT, its own transaction in autocommit (atomic, and
                # answered only once its commit is flushed): one round trip instead of BEGIN, INSERT
                # and COMMIT. The connection leaves the pool, so no other user inherits the mode.
                conn.detach()
                conn.dbapi_connection.autocommit = True
            self._conn, self._conn_pid = conn, os.getpid()
        return self._conn

    def _release(self, conn, broken: bool) -> None:
        if broken:
            self._conn = None
            conn.invalidate()

    def insert_all(self, rows: list[dict]) -> list[int | None]:
        """Insert the rows in one transaction; their ids in order, None for a duplicate."""
        for attempt in (1, 2):
            try:
                return self._insert_all(rows)
            except _Disconnected as exc:
                if attempt == 2:
                    raise InboxUnavailable(f"database connection lost: {exc.__cause__}") from exc
            except self._errors as exc:
                raise InboxUnavailable(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _insert_all(self, rows: list[dict]) -> list[int | None]:
        conn = self._connection()
        broken = False
        try:
            cursor = self._raw_cursor(conn.dbapi_connection) if self._multirow else conn.cursor()
            if self._explicit_begin:
                cursor.execute("BEGIN IMMEDIATE")
            ids = self._insert_many(cursor, rows) if self._multirow else self._insert_each(cursor, rows)
            conn.commit()
            return ids
        except self._dbapi_error as exc:
            if self._engine.dialect.is_disconnect(exc, conn.dbapi_connection, None):
                broken = True  # the server closed it while it was idle: retry once on a new one
                raise _Disconnected() from exc
            broken = not _rollback_quietly(conn)
            raise
        except BaseException:
            broken = not _rollback_quietly(conn)
            raise
        finally:
            self._release(conn, broken)

    def _insert_each(self, cursor, rows: list[dict]) -> list[int | None]:
        ids = []
        for row in rows:
            cursor.execute(self._sql, self._params(row))
            found = cursor.fetchone()
            ids.append(found[0] if found else None)
        return ids

    def _insert_many(self, cursor, rows: list[dict]) -> list[int | None]:
        """One statement for the whole batch: one round trip to a database server."""
        params = [value for row in rows for value in self._params(row)]
        cursor.execute(self._statement_for(len(rows)), params)
        new = {(tracker, delivery_id): pk for pk, tracker, delivery_id in cursor.fetchall()}
        # RETURNING gives only the rows inserted, in no promised order; a key twice in one batch
        # is inserted once, and the second slot is then a duplicate
        return [new.pop((row["tracker"], row["delivery_id"]), None) for row in rows]

    def _statement_for(self, size: int) -> str:
        sql = self._by_size.get(size)
        if sql is None:
            width = len(self._positional)
            values = ", ".join("(" + ", ".join(f"${row * width + i + 1}" for i in range(width)) + ")"
                               for row in range(size))
            sql = self._by_size[size] = self._multirow.format(values=values)
        return sql

    def close(self) -> None:
        if self._conn is not None:
            _close_quietly(self._conn)
            self._conn = None


class _Disconnected(Exception):
    pass


def _rollback_quietly(conn) -> bool:
    try:
        conn.rollback()
        return True
    except Exception:  # the connection is broken: the caller discards it, the original error is raised
        return False


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:  # closing a broken connection can fail; it is being dropped anyway
        pass
