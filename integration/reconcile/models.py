"""Reconcile's table: what the last sync of each source of a key result saw (pages, ETags, keys)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime


class SyncState(Base):
    """What the last reconcile of one source of a key result saw: page URLs, their ETags and item keys."""

    __tablename__ = "sync_state"

    kr_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), primary_key=True)  # e.g. "sub_issues:github:acme/web#12"
    pages: Mapped[list] = mapped_column(JSON, default=list)  # [{"url", "etag", "keys"}] of the last full listing
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # start of the last complete sync
    calls: Mapped[int] = mapped_column(Integer, default=0)  # API calls of the last sync
