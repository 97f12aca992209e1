"""What every room's tables share: one declarative base (one metadata, one naming convention for
constraints, so Alembic's names stay stable) and aware UTC datetimes.

The tables themselves live with the room that owns them: deliveries in webhooks/, the OKR domain in
mappings/, the outbox, write budget, sync state and summary posts in integration/.
"""

from __future__ import annotations

from datetime import UTC
from functools import cache

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; SQLite hands back naive ones, which this makes aware again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; okrbot stores aware UTC datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def upsert_insert(dialect_name: str, model):
    """`INSERT` with `ON CONFLICT` for the database at hand (PostgreSQL, or SQLite with its own dialect).

    A Core statement on the model's table: executing it skips the ORM's bulk-persistence layer, which
    costs more per statement than SQLite spends running it (the apply path writes rows, not objects).
    """
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(getattr(model, "__table__", model))



INT32_MAX = 2**31 - 1  # an Integer column is 32 bits on PostgreSQL


class OutOfBounds(ValueError):
    """A value its column cannot hold (too long, too large): refused before the insert, the same on
    SQLite (which would store it) and PostgreSQL (which would fail the statement)."""


@cache
def column_bounds(table) -> tuple[dict[str, int], tuple[str, ...]]:
    """A table's length-limited string columns with their lengths, and its 32-bit integer columns."""
    lengths = {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length}
    ints = tuple(c.name for c in table.columns if type(c.type) is Integer)
    return lengths, ints


def check_bounds(model, rows: list[dict]) -> None:
    """OutOfBounds for the first value in `rows` that its column of `model`'s table cannot hold."""
    table = getattr(model, "__table__", model)
    lengths, ints = column_bounds(table)
    for row in rows:
        for name, limit in lengths.items():
            value = row.get(name)
            if isinstance(value, str) and len(value) > limit:
                raise OutOfBounds(f"{table.name}.{name} would hold {len(value)} characters; it holds at most {limit}")
        for name in ints:
            value = row.get(name)
            if isinstance(value, int) and not -INT32_MAX - 1 <= value <= INT32_MAX:
                raise OutOfBounds(f"{table.name}.{name} would hold {value}; it holds at most {INT32_MAX}")
