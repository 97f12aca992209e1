"""The OKR domain's tables (SQLAlchemy 2, typed): work items, objectives, key results, their members and history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime


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
    """A measurable outcome with one owner; its counters are kept incrementally (see mappings.kr_context)."""

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


class CheckinRow(Base):
    """One `/checkin` comment on a key result's anchor, as last seen (the comment's updated time wins).

    Every `/checkin` comment gets a row, accepted or not: `verdict` says which ("accepted", "not_owner",
    "bad_input"), so that okrbot answers a refused one once, and only accepted, not withdrawn rows are
    check-ins. A deleted comment keeps its row with `withdrawn` set, so that a late redelivery of an
    older version cannot bring it back. Read through `mappings.checkins`.
    """

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_kr_id_written_at", "kr_id", "written_at"),)

    comment_key: Mapped[str] = mapped_column(String(400), primary_key=True)  # "<anchor key>@<comment id>"
    kr_id: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))  # accepted | not_owner | bad_input
    status: Mapped[str | None] = mapped_column(String(16))  # on_track | at_risk | off_track (accepted only)
    confidence: Mapped[int | None] = mapped_column(Integer)  # 0..10, or none given
    note: Mapped[str] = mapped_column(Text, default="")  # as written, cut to 1,000 characters; never markup
    author_login: Mapped[str | None] = mapped_column(String(200))  # GitHub login / Jira Server name
    author_account_id: Mapped[str | None] = mapped_column(String(200))  # Jira Cloud accountId
    author_name: Mapped[str | None] = mapped_column(Text)  # the display name
    url: Mapped[str | None] = mapped_column(Text)  # the comment's own link
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the comment's created time
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the comment's updated time: the version
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)  # the comment was deleted
    last_delivery_id: Mapped[int | None] = mapped_column(Integer)  # with updated_at: the row's version
