"""The check-in reads: the current one is the newest accepted, not withdrawn comment; history is newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mappings.checkins import ACCEPTED, BAD_INPUT, NOT_OWNER, CheckinStatus, checkin_history, current_checkins
from mappings.models import CheckinRow

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _row(n: int, kr: str, verdict: str = ACCEPTED, status: str | None = "on_track", withdrawn: bool = False,
         **kw) -> CheckinRow:
    at = T0 + timedelta(hours=n)
    return CheckinRow(comment_key=f"github:o/r#1@{n}", kr_id=kr, verdict=verdict, status=status, confidence=kw.get(
        "confidence"), note=kw.get("note", ""), author_login=kw.get("by", "alice"), url=f"https://x/{n}",
        written_at=at, updated_at=at, withdrawn=withdrawn)


def test_current_and_history_follow_accepted_not_withdrawn_newest_first(rt):
    with rt.sessions.begin() as s:
        s.add_all([_row(1, "a", status="on_track", confidence=8, note="fine"),
                   _row(2, "a", status="at_risk", confidence=6, note="vendor slipped"),
                   _row(3, "a", withdrawn=True, status="off_track"),  # deleted: the one before is current
                   _row(4, "a", verdict=NOT_OWNER, status=None, by="mallory"),
                   _row(5, "a", verdict=BAD_INPUT, status=None),
                   _row(6, "b", status="off_track")])
    with rt.sessions() as s:
        current = current_checkins(s, ["a", "b", "c"])
        assert set(current) == {"a", "b"}
        a = current["a"]
        assert (a.status, a.confidence, a.note, a.by, a.url) == (CheckinStatus.AT_RISK, 6, "vendor slipped", "alice",
                                                                "https://x/2")
        assert a.as_json() == {"status": "at_risk", "confidence": 6, "note": "vendor slipped", "by": "alice",
                               "at": (T0 + timedelta(hours=2)).isoformat(), "url": "https://x/2"}
        assert [c.status for c in checkin_history(s, "a")] == [CheckinStatus.AT_RISK, CheckinStatus.ON_TRACK]
        assert current_checkins(s, []) == {}
        assert set(current_checkins(s)) == {"a", "b"}
