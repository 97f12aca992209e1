"""Check-ins: a key result owner's own word on it, written as a `/checkin` comment on its anchor.

The contract the rest of okrbot reads (the API, the living comment, summaries, reminders, pages):

- `Checkin`, one accepted check-in: status, confidence (0–10 or none), note, who, when, the comment's link;
- `current_checkins(session, kr_ids)`: the current check-in of each key result (the newest accepted,
  not withdrawn `/checkin` comment, by the comment's created time), for any number of key results in
  one statement;
- `checkin_history(session, kr_id)`: every accepted, not withdrawn check-in of one key result, newest first.

The note is kept as written (cut to `NOTE_LIMIT`); whoever shows it escapes it for its medium.
The rows (`mappings.models.CheckinRow`) are written by the apply path; see there for the columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CheckinRow

NOTE_LIMIT = 1000  # characters; a longer note is cut and ends with "…"
ACCEPTED, NOT_OWNER, BAD_INPUT = "accepted", "not_owner", "bad_input"  # CheckinRow.verdict

# How to write one, as every text that tells people (reminders, the bad-input answer, the README) says it.
COMMAND = "/checkin"
USAGE = "/checkin on-track|at-risk|off-track [confidence/10] [note]"
EXAMPLE = "/checkin at-risk 6/10 vendor API slipped a week"


class CheckinStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def words(self) -> str:
        """As people write it: "on track", "at risk", "off track"."""
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Checkin:
    kr_id: str
    status: CheckinStatus
    confidence: int | None  # 0..10, None when not given
    note: str  # as written (cut to NOTE_LIMIT); not escaped
    by: str  # the author's login (GitHub, Jira Server) or display name (Jira Cloud)
    at: datetime  # the comment's created time
    updated_at: datetime  # the comment's last edit
    url: str | None  # the comment's link

    def as_json(self) -> dict:
        return {"status": self.status.value, "confidence": self.confidence, "note": self.note, "by": self.by,
                "at": self.at.isoformat(), "url": self.url}


def _checkin(row: CheckinRow) -> Checkin:
    return Checkin(kr_id=row.kr_id, status=CheckinStatus(row.status), confidence=row.confidence, note=row.note,
                   by=row.author_login or row.author_name or row.author_account_id or "?", at=row.written_at,
                   updated_at=row.updated_at, url=row.url)


def _accepted():
    return select(CheckinRow).where(CheckinRow.verdict == ACCEPTED, CheckinRow.withdrawn.is_(False))


def checkin_history(session: Session, kr_id: str) -> list[Checkin]:
    rows = session.scalars(_accepted().where(CheckinRow.kr_id == kr_id)
                           .order_by(CheckinRow.written_at.desc(), CheckinRow.comment_key.desc()))
    return [_checkin(r) for r in rows]


def current_checkins(session: Session, kr_ids: Iterable[str] | None = None) -> dict[str, Checkin]:
    """kr_id → its current check-in; key results without one are absent. None: every key result."""
    query = _accepted().order_by(CheckinRow.kr_id, CheckinRow.written_at.desc(), CheckinRow.comment_key.desc())
    if kr_ids is not None:
        ids = list(kr_ids)
        if not ids:
            return {}
        query = query.where(CheckinRow.kr_id.in_(ids))
    out: dict[str, Checkin] = {}
    for row in session.scalars(query):
        out.setdefault(row.kr_id, _checkin(row))
    return out
