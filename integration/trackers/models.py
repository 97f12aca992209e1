"""GitHub App installations: which one covers a repository, and whether okrbot may act there.

Learnt from the deliveries themselves: each App delivery names its installation; `installation` and
`installation_repositories` events say when an installation is suspended, deleted, or loses a repository.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime

# Installation states (AppInstallation.state)
ACTIVE, SUSPENDED, DELETED = "active", "suspended", "deleted"


class GithubInstallation(Base):
    """Which GitHub App installation covers a repository, and whether it was removed from it."""

    __tablename__ = "github_installations"

    repo: Mapped[str] = mapped_column(String(300), primary_key=True)  # "owner/repo", lower case
    installation_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # installation_repositories.removed: okrbot no longer sees it nor writes there (added back: false again)
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    changed_by: Mapped[int | None] = mapped_column(Integer)  # the delivery that last set `removed`: newest wins


class AppInstallation(Base):
    """One GitHub App installation's state: active, suspended or deleted (newest delivery wins)."""

    __tablename__ = "app_installations"

    installation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[int] = mapped_column(Integer)  # delivery id that set the state
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
