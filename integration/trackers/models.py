"""Which GitHub App installation covers a repository, learnt from the deliveries themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.schema import Base, UTCDateTime


class GithubInstallation(Base):
    """Which GitHub App installation covers a repository (from the deliveries themselves)."""

    __tablename__ = "github_installations"

    repo: Mapped[str] = mapped_column(String(300), primary_key=True)  # "owner/repo", lower case
    installation_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
