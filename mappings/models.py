"""SQLAlchemy 2 typed models. The database is the source of truth; the queue is only the doorbell."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


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


# Delivery states
RECEIVED, PROCESSED, FAILED = "received", "processed", "failed"


class Delivery(Base):
    """One webhook delivery as received: committed before it is acknowledged (the inbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("tracker", "delivery_id"),
        Index("ix_deliveries_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracker: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    action: Mapped[str | None] = mapped_column(String(100))
    headers: Mapped[dict] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkItem(Base):
    """The newest known state of one tracker issue (newest `updated_at` wins)."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_tracker_ref", "tracker", "ref"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tracker: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(200))  # numeric id, qualified by site for Jira
    container: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(String(100))
    assignees: Mapped[list] = mapped_column(JSON, default=list)
    labels: Mapped[list] = mapped_column(JSON, default=list)
    parent_key: Mapped[str | None] = mapped_column(String(300), index=True)
    parent_ref: Mapped[str | None] = mapped_column(String(200))
    parent_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    milestone: Mapped[str | None] = mapped_column(String(300))
    issue_type: Mapped[str | None] = mapped_column(String(100))
    estimate: Mapped[float | None] = mapped_column(Float)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)  # deleted or transferred away
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_delivery_id: Mapped[int | None] = mapped_column(Integer)
