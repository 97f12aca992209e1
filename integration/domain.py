"""The OKR domain's wiring: which okrs.yml, reloaded when it changes, and a Context per unit of work.

Reading never writes: `context` only builds a Context from the mapping as last loaded. Bringing the
database in line with okrs.yml is the explicit step `sync` (integration.apply.mapping_sync runs it at a
worker's start, on its periodic check, and for `okrbot mappings sync`).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event

from mappings.filesync import sync_mapping
from mappings.keyresults import Context
from mappings.okrs_file import MappingFile, MappingFileError, current_quarter, load_mapping
from mappings.rules import Conventions, MappingIndex

from .config import Settings

log = logging.getLogger("okrbot.mapping")


def configured_trackers(settings: Settings) -> frozenset[str]:
    trackers = set()
    if settings.github_webhook_secrets or settings.insecure_accept_unsigned:
        trackers.add("github")
    if settings.jira_webhook_secrets or settings.insecure_accept_unsigned:
        trackers.add("jira")
    return frozenset(trackers)


def mapping_path(settings: Settings) -> Path | None:
    """OKRBOT_MAPPINGS, else ./okrs.yml when present, else none (conventions only)."""
    if settings.mappings:
        return Path(settings.mappings)
    default = Path("okrs.yml")
    return default if default.exists() else None


class Domain:
    """Holds the current mapping. A file that breaks on reload keeps the last good one (logged)."""

    def __init__(self, settings: Settings, today: date | None = None):
        self.settings = settings
        self.conventions = Conventions(kr_label=settings.kr_label, objective_label=settings.objective_label,
                                       kr_type=settings.kr_type, objective_type=settings.objective_type)
        self.path = mapping_path(settings)
        self._lock = threading.Lock()
        self._mtime: float | None = None  # of the mapping in use
        self._seen_mtime: float | None = None  # of the file as last read, good or not
        self._synced_mtime: float | None = None
        self.index = MappingIndex.build(None)
        if self.path is not None:  # a bad file at start stops the start (MappingFileError)
            self._load(today or datetime.now(UTC).date())

    def _load(self, today: date) -> MappingFile:
        mtime = os.stat(self.path).st_mtime
        mapping = load_mapping(self.path, configured_trackers(self.settings), today)
        self.index, self._mtime, self._seen_mtime = MappingIndex.build(mapping), mtime, mtime
        return mapping

    def refresh(self, now: datetime) -> bool:
        """Reload okrs.yml if it changed since it was read; True when a new mapping was taken."""
        if self.path is None:
            return False
        with self._lock:
            try:
                mtime = os.stat(self.path).st_mtime
            except OSError as exc:
                log.error("cannot read %s (%s): keeping the last good mapping", self.path, exc.strerror)
                return False
            if mtime == self._seen_mtime:
                return False
            try:
                self._load(now.date())
            except MappingFileError as exc:
                self._seen_mtime = mtime  # do not re-read until it changes again
                log.error("%s is invalid, keeping the last good mapping:\n%s", self.path, exc)
                return False
            log.info("reloaded %s: %d key results", self.path, len(self.index.mapping.key_results()))
            return True

    def needs_sync(self, now: datetime) -> bool:
        """Whether the database lags the mapping (a stat of the file; no database work)."""
        return self.refresh(now) or self._synced_mtime != self._mtime

    def context(self, session, now: datetime | None = None, cause: str | None = None) -> Context:
        now = now or datetime.now(UTC)
        return Context(session, self.index, self.conventions, now, current_quarter(now.date()), cause=cause,
                       scope=self.settings.scope)

    def sync(self, session, now: datetime) -> Context:
        """Bring the database's file-declared objectives and key results in line with the mapping."""
        ctx = self.context(session, now, cause="mapping")
        sync_mapping(ctx, self.index.mapping)
        mtime = self._mtime  # synced once this unit of work commits, not before
        event.listen(session, "after_commit", lambda _s: setattr(self, "_synced_mtime", mtime), once=True)
        return ctx
