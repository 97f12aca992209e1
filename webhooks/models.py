"""The inbox's table: every webhook delivery as received, committed before it is acknowledged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime

from .bounds import ACTION_CHARS, DELIVERY_ID_CHARS, EVENT_CHARS

# Delivery states. IGNORED: stored and acknowledged, never applied (out of scope, or the App may not act
# there); `last_error` then holds the reason, as `okrbot deliveries` shows it.
RECEIVED, PROCESSED, FAILED, IGNORED = "received", "processed", "failed", "ignored"


class Delivery(Base):
    """One webhook delivery as received: committed before it is acknowledged (the inbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("tracker", "delivery_id"),
        Index("ix_deliveries_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracker: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(DELIVERY_ID_CHARS))
    event: Mapped[str] = mapped_column(String(EVENT_CHARS))
    action: Mapped[str | None] = mapped_column(String(ACTION_CHARS))
    headers: Mapped[dict] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
