"""How every text okrbot writes tells an owner's check-in: the living comment, the weekly summary, e-mail.

"Check-in by @alice, 2 Dec: at risk (6/10): vendor API slipped a week" (issue 13). Pure, in the tracker's
markup (`integration.markup`). Nobody is notified: on GitHub the author's "@" carries a zero-width space
(the living comment is edited often, and the summary already calls the owner by name); on Jira the author
is the display name, never a `[~mention]`. The note is someone's free text: `Markup.literal` keeps it on
one line and every markup character a character.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.events import Person
from mappings.checkins import Checkin

from .markup import Markup


def said(c: Checkin, m: Markup) -> str:
    """`at risk (6/10): note`; without a confidence `at risk: note`; without a note no trailing colon."""
    text = c.status.words + (f" ({c.confidence}/10)" if c.confidence is not None else "")
    note = m.literal(c.note) if c.note.strip() else ""
    return f"{text}: {note}" if note else text


def day_text(at: datetime, now: datetime) -> str:
    """`2 Dec` (UTC); `2 Dec 2025` when not of the current year."""
    at, now = at.astimezone(UTC), now.astimezone(UTC)
    return f"{at.day} {at:%b}" + (f" {at.year}" if at.year != now.year else "")


def author(c: Checkin, m: Markup, owner: Person | None = None) -> str:
    """GitHub: `@alice` that pings no one; Jira: the owner's display name when the owner wrote it."""
    if m.tracker == "github":
        return m.literal(f"@{c.by.lstrip('@')}")
    name = c.by
    if owner is not None and owner.name and c.by in (owner.login, owner.name):
        name = owner.name
    return m.literal(name)


def checkin_line(c: Checkin, m: Markup, now: datetime, owner: Person | None = None) -> str:
    return f"Check-in by {author(c, m, owner)}, {day_text(c.at, now)}: {said(c, m)}"
