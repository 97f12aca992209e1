"""The weekly summaries' and reminders' table: one post per target and ISO week."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime


class SummaryPost(Base):
    """One weekly summary per target and ISO week: the unique key decides, not luck."""

    __tablename__ = "summary_posts"
    __table_args__ = (UniqueConstraint("target", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "summary" | "reminder"
    target: Mapped[str] = mapped_column(String(300))  # summary target id, or "reminder:<kr id>"
    anchor: Mapped[str] = mapped_column(String(300))  # where it is posted
    week: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. "2026-W49" (or a manual post's stamp)
    state: Mapped[str] = mapped_column(String(16))  # pending | sending | sent | failed | held
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # percent per key result, for next week's delta
    comment_id: Mapped[str | None] = mapped_column(String(100))
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
