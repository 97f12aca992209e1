"""The living progress comment, rendered by pure functions: GitHub Markdown and Jira wiki markup.

No @-mentions here: the comment is edited often and an edit must not notify anyone (the weekly
summary is where owners are called by name). Logins are written bare, teams without their "@"; the
check-in line's "@alice" carries a zero-width space (integration.checkin_words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.events import Person
from mappings.checkins import Checkin

from ..checkin_words import checkin_line
from ..markup import Markup, bar


@dataclass(frozen=True)
class Change:
    """One line of "latest changes": what happened to which item, by whom."""

    ref: str  # "#12", "acme/api#3", "PROJ-7"
    what: str  # "closed", "dropped (not planned)", "reopened", "added", "removed (...)", "owner is now ..."
    by: str | None = None


@dataclass(frozen=True)
class CommentView:
    kr_id: str
    title: str
    objective: str | None
    period: tuple[str, str]
    measure: str
    done: float
    dropped: float
    total: float
    target: float | None
    percent: float | None  # raw
    unestimated: int
    health: str
    ownership: str  # ok | none | shared | team
    owner: str | None  # display name of the owner (provisional one when shared)
    others: tuple[str, ...]  # shared: the other assignees
    team: str | None
    contributors: tuple[tuple[str, int, int], ...]  # (name, done, open)
    changes: tuple[Change, ...]
    updated_at: datetime
    checkin: Checkin | None = None  # the owner's current check-in (mappings.checkins.current_checkins)
    owner_person: Person | None = None  # who the check-in's author is shown as on Jira (display name)


OWN_COMMENT = re.compile(r"okrbot:(?:kr|summary|reminder|answer)=")


def marker(tracker: str, ident: str, kind: str = "kr") -> str:
    """The hidden (GitHub) or quiet (Jira) text okrbot finds its own comment by.

    kind: "kr" (the living comment of key result `ident`), "summary" (`<target>:<ISO week>`),
    "reminder" (`<kr id>:<ISO week>`), "answer" (a reply to the
    `/checkin` comment `<anchor key>@<id>`). The closing " -->" or ";" keeps "x-1" from matching "x-12".
    """
    return f"<!-- okrbot:{kind}={ident} -->" if tracker == "github" else f"okrbot:{kind}={ident};"


def is_own_comment(body: str) -> bool:
    """Whether a comment is one of okrbot's own (living comment, summary, reminder or check-in answer)."""
    return OWN_COMMENT.search(body) is not None


def _number(value: float) -> str:
    return f"{value:g}"


def numbers_line(v: CommentView) -> str:
    """`60% · 6 of 10 done · 1 dropped`, or against the target, or in points."""
    if v.percent is None:
        return "no work linked yet" if v.total == 0 and v.dropped == 0 else "all work dropped"
    shown = f"{min(v.percent, 100.0):.0f}%"
    unit = " points" if v.measure == "points" else ""
    if v.target:
        text = f"{shown} · {_number(v.done)}{unit} done of a target of {_number(v.target)}"
        if v.percent > 100:
            text += f" ({v.percent:.0f}%)"
    else:
        text = f"{shown} · {_number(v.done)} of {_number(v.total)}{unit} done"
    if v.dropped:
        text += f" · {_number(v.dropped)}{unit} dropped"
    if v.unestimated:
        text += f" · {v.unestimated} without an estimate, counted as 1"
    return text


def ownership_warning(v: CommentView) -> str | None:
    if v.ownership == "none":
        return ("No owner. Assign exactly one person to this issue (or set `owner:` in okrs.yml): "
                "a key result that everyone owns is owned by no one.")
    if v.ownership == "shared":
        names = ", ".join((v.owner or "?",) + v.others)
        return (f"Shared by {names}. Assign exactly one person; {v.owner} counts as the owner until then.")
    if v.ownership == "team":
        return f"Owned by the team {v.team.lstrip('@')}. Name exactly one person as the owner in okrs.yml."
    return None


def change_text(c: Change) -> str:
    return f"{c.ref} {c.what}" + (f" by {c.by}" if c.by else "")


def _when(v: CommentView) -> str:
    return v.updated_at.strftime("%Y-%m-%d %H:%M UTC")


def render_comment(v: CommentView, m: Markup) -> str:
    """The living comment in the anchor tracker's markup (integration.markup.MARKUPS[tracker])."""
    lines = [marker("github", v.kr_id)] if m.tracker == "github" else []
    context = f"Objective: {m.bold(v.objective)} · " if v.objective else ""
    lines += [m.heading(3, f"Key result: {v.title}", "🎯"), f"{context}Period {v.period[0]} – {v.period[1]}", "",
              f"{m.code(bar(v.percent))} {m.plain(numbers_line(v))}", f"Health: {m.health(v.health)}"]
    if v.checkin is not None:
        # the year is written when it is not that of the comment's latest news (a check-in is news too)
        lines.append(checkin_line(v.checkin, m, max(v.updated_at, v.checkin.at), v.owner_person))
    lines += ["", f"{m.bold('Owner:')} {v.owner or 'nobody'}"]
    warning = ownership_warning(v)
    if warning:
        lines += ["", m.warning(m.plain(warning))]
    if v.contributors:
        people = ", ".join(f"{name} ({done} done, {open_} open)" for name, done, open_ in v.contributors)
        lines += ["", f"{m.bold('Contributors:')} {people}"]
    if v.changes:
        lines += ["", m.bold("Latest changes")] + [m.bullet(change_text(c)) for c in v.changes]
    return "\n".join(lines + ["", *_footer(v, m)]) + "\n"


def _footer(v: CommentView, m: Markup) -> list[str]:
    updated = f"Updated {_when(v)} by okrbot from the state of the work"
    if m.tracker == "github":  # the marker is the hidden first line
        return m.footer(f"{updated} · key result `{v.kr_id}` · edits to this comment are overwritten")
    # Jira wiki markup has no hidden comment; the marker is the quiet last line, kept as plain text
    return m.footer(f"{updated} · {marker('jira', v.kr_id)}")
