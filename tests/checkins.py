"""Check-ins as the inbound half stores them (rows of `checkins`, mappings.models.CheckinRow): the contract
the living comment, summaries, reminders and pages read through `mappings.checkins`."""

from __future__ import annotations

from datetime import datetime

from integration.db import unit_of_work
from mappings.models import CheckinRow


def store_checkin(rt, kr_id: str, at: datetime, n: int, status: str = "at_risk", confidence: int | None = 6,
                  note: str = "vendor API slipped a week", by: str = "alice", withdrawn: bool = False,
                  anchor: str = "github:codertocat/hello-world#10") -> str:
    """One accepted check-in (comment `n` on `anchor`); returns its comment link."""
    url = f"https://github.com/{anchor.split(':', 1)[1].split('#')[0]}/issues/{anchor.rsplit('#', 1)[1]}" \
          f"#issuecomment-{n}"
    with unit_of_work(rt.sessions) as s:
        s.add(CheckinRow(comment_key=f"{anchor}@{n}", kr_id=kr_id, verdict="accepted", status=status,
                         confidence=confidence, note=note, author_login=by, url=url, written_at=at, updated_at=at,
                         withdrawn=withdrawn))
    return url
