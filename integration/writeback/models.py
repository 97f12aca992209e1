"""Write-back's tables: the outbox (one entry per key result's living comment) and the per-credential write budget."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime

# Outbox states
PENDING, SENDING, SENT, WRITE_FAILED, DRY_RUN, SKIPPED = "pending", "sending", "sent", "failed", "dry_run", "skipped"
# refused for now (integration.trackers.access.write_refusal): kept, and pending again when writing may resume
HELD = "held"


class OutboxEntry(Base):
    """An intended write to a tracker, committed with the change that caused it (write-back)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kr_id", "kind"), Index("ix_outbox_state_due_at", "state", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kr_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # "progress_comment"
    target: Mapped[str | None] = mapped_column(String(300))  # the anchor key written to
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # end of the quiet period
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    body_hash: Mapped[str | None] = mapped_column(String(64))  # of the body last rendered for it
    sent_hash: Mapped[str | None] = mapped_column(String(64))  # of the body on the tracker
    comment_id: Mapped[str | None] = mapped_column(String(100))
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)  # a create may have happened: look first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    writes: Mapped[int] = mapped_column(Integer, default=0)  # creates + edits done, for the benchmark
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CredentialBudget(Base):
    """When a credential may write next: at most one content-creating request per second."""

    __tablename__ = "credential_budget"

    credential: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_write_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckinAnswer(Base):
    """okrbot's one answer to one `/checkin` comment: a 👍 reaction, or a reply (not the owner, bad input).

    Unique per comment: inserted with the check-in in the apply transaction (ON CONFLICT DO NOTHING), so
    a redelivery or an edit of the comment never answers again. Sent like every write (the write budget,
    the one retry policy); `body` is what is written ("+1" for a reaction).
    """

    __tablename__ = "checkin_answers"
    __table_args__ = (UniqueConstraint("comment_key"), Index("ix_checkin_answers_state_due_at", "state", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_key: Mapped[str] = mapped_column(String(400))  # as in `checkins`: "<anchor key>@<comment id>"
    kr_id: Mapped[str] = mapped_column(String(200))
    anchor: Mapped[str] = mapped_column(String(300))  # the issue the comment is on
    comment_id: Mapped[str] = mapped_column(String(100))  # the comment answered
    kind: Mapped[str] = mapped_column(String(16))  # "reaction" | "reply"
    verdict: Mapped[str] = mapped_column(String(16))  # the check-in's verdict when it was answered
    state: Mapped[str] = mapped_column(String(16))  # pending | sending | sent | failed | skipped | dry_run | held
    body: Mapped[str] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(100))  # the reaction's or reply's id
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)  # a reply may have been made: look first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
