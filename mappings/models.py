"""SQLAlchemy 2 typed models. The database is the source of truth; the queue is only the doorbell."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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
    parent_delivery_id: Mapped[int | None] = mapped_column(Integer)  # with parent_changed_at: the link's version
    milestone: Mapped[str | None] = mapped_column(String(300))
    issue_type: Mapped[str | None] = mapped_column(String(100))
    estimate: Mapped[float | None] = mapped_column(Float)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)  # deleted or transferred away
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_delivery_id: Mapped[int | None] = mapped_column(Integer)  # with updated_at: the fields' version


class Objective(Base):
    """A qualitative goal for a period: declared in okrs.yml, or an issue labelled `objective`."""

    __tablename__ = "objectives"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    # where it is declared: "file" (okrs.yml) | "tracker" (a label or type); the column keeps its first name
    origin: Mapped[str] = mapped_column("source", String(16))
    anchor_key: Mapped[str | None] = mapped_column(String(300), index=True)
    anchor_url: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyResult(Base):
    """A measurable outcome with one owner; its counters are kept incrementally (see mappings.keyresults)."""

    __tablename__ = "key_results"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    objective_id: Mapped[str | None] = mapped_column(String(200), index=True)
    # where it is declared: "file" (okrs.yml) | "tracker" (a label or type); the column keeps its first name
    origin: Mapped[str] = mapped_column("source", String(16))
    anchor_key: Mapped[str | None] = mapped_column(String(300), index=True)
    anchor_url: Mapped[str | None] = mapped_column(Text)
    anchor_state: Mapped[str | None] = mapped_column(String(16))
    anchor_assignees: Mapped[list] = mapped_column(JSON, default=list)
    owner_override: Mapped[str | None] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(String(16), default="count")
    target: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    n_open: Mapped[int] = mapped_column(Integer, default=0)
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    n_dropped: Mapped[int] = mapped_column(Integer, default=0)
    points_open: Mapped[float] = mapped_column(Float, default=0.0)
    points_done: Mapped[float] = mapped_column(Float, default=0.0)
    points_dropped: Mapped[float] = mapped_column(Float, default=0.0)
    n_unestimated: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Membership(Base):
    """A work item counted toward a key result, with the state it was last counted in."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_work_item_key", "work_item_key"),)

    kr_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    work_item_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    via: Mapped[str] = mapped_column(String(32))  # why it counts: parent, label, milestone, ...
    state: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    estimated: Mapped[bool] = mapped_column(Boolean)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyResultEvent(Base):
    """History: every change of progress, owner or membership, with time and cause."""

    __tablename__ = "key_result_history"
    __table_args__ = (Index("ix_key_result_history_kr_id_at", "kr_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kr_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # created, ended, progress, owner, added, removed, state
    cause: Mapped[str | None] = mapped_column(String(200))  # "delivery:<id>", "mapping", "recount"
    data: Mapped[dict] = mapped_column(JSON, default=dict)


# Outbox states
PENDING, SENDING, SENT, WRITE_FAILED, DRY_RUN, SKIPPED = "pending", "sending", "sent", "failed", "dry_run", "skipped"


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


class GithubInstallation(Base):
    """Which GitHub App installation covers a repository (from the deliveries themselves)."""

    __tablename__ = "github_installations"

    repo: Mapped[str] = mapped_column(String(300), primary_key=True)  # "owner/repo", lower case
    installation_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncState(Base):
    """What the last reconcile of one source of a key result saw: page URLs, their ETags and item keys."""

    __tablename__ = "sync_state"

    kr_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), primary_key=True)  # e.g. "sub_issues:github:acme/web#12"
    pages: Mapped[list] = mapped_column(JSON, default=list)  # [{"url", "etag", "keys"}] of the last full listing
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # start of the last complete sync
    calls: Mapped[int] = mapped_column(Integer, default=0)  # API calls of the last sync


class SummaryPost(Base):
    """One weekly summary per target and ISO week: the unique key decides, not luck."""

    __tablename__ = "summary_posts"
    __table_args__ = (UniqueConstraint("target", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "summary" | "reminder"
    target: Mapped[str] = mapped_column(String(300))  # summary target id, or "reminder:<kr id>"
    anchor: Mapped[str] = mapped_column(String(300))  # where it is posted
    week: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. "2026-W49" (or a manual post's stamp)
    state: Mapped[str] = mapped_column(String(16))  # pending | sending | sent | failed
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # percent per key result, for next week's delta
    comment_id: Mapped[str | None] = mapped_column(String(100))
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
