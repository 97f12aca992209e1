"""The weekly summary, rendered by pure functions: GitHub Markdown and Jira wiki markup.

This is the one place okrbot calls people: each key result's owner, by the mention the caller
passes in (see `mention`). Everyone else is written by name: the other assignees of a shared key
result, contributors, teams (without their "@"). An "@name" (GitHub) or "[~name]" (Jira) inside a
title or a name is defused, so text people typed never notifies anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.events import Person
from mappings.checkins import Checkin
from mappings.forecast import DONE, FLAT, LATE, NO_HISTORY, ON_PACE, Forecast

from ..checkin_words import checkin_line
from ..markup import Markup, bar

UNASSIGNED_TITLE = "Key results without an objective"


@dataclass(frozen=True)
class SummaryKR:
    id: str
    title: str
    url: str | None
    owner: str | None  # how to call the owner, already in the target's syntax (see mention()); None: nobody
    ownership: str  # ok | none | shared | team
    team: str | None  # team/group name, for ownership == "team"
    others: tuple[str, ...]  # shared: the other assignees (display names, not mentions)
    percent: float | None  # raw; shown capped at 100
    delta_points: float | None  # percentage points since the last summary (None: first summary)
    done_this_week: int
    health: str  # on_track | at_risk | off_track | not_started | unknown
    forecast: Forecast
    stale_days: int | None  # days without movement, when ≥ the threshold (else None)
    checkin: Checkin | None = None  # the owner's current check-in (mappings.checkins.current_checkins)
    disagrees: bool = False  # the owner's status is not the computed health (mappings.checkin_health)
    owner_person: Person | None = None  # who the check-in's author is shown as (display name off GitHub)
    source: str = "ok"  # "source removed" / "installation suspended" (integration.trackers.access)


@dataclass(frozen=True)
class BurnupWeek:
    label: str  # "W45"
    done: float
    scope: float


@dataclass(frozen=True)
class SummaryObjective:
    id: str
    title: str
    percent: float | None
    key_results: tuple[SummaryKR, ...]
    burnup: tuple[BurnupWeek, ...]


@dataclass(frozen=True)
class DoneItem:
    ref: str  # "#12", "acme/api#3", "PROJ-7"
    title: str
    url: str | None


@dataclass(frozen=True, kw_only=True)
class SummaryView:
    """Keyword-only: `unassigned` has a default and sits among fields that have none."""

    period: tuple[date, date]
    week: str  # "2026-W48"
    days_left: int
    overall_percent: float | None
    objectives: tuple[SummaryObjective, ...]
    unassigned: tuple[SummaryObjective, ...] = ()  # key results without an objective (title UNASSIGNED_TITLE)
    needs_owner: tuple[SummaryKR, ...]
    no_movement: tuple[SummaryKR, ...]
    stale_threshold_days: int
    done_by_contributor: tuple[tuple[str, tuple[DoneItem, ...]], ...]  # (display name, not a mention; items)
    generated_at: datetime


# --- mentions ---------------------------------------------------------------------------------

_CLOUD_ACCOUNT_ID = re.compile(r"[0-9a-f]{24}|\d+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def mention(tracker: str, login: str, flavour: str | None = None) -> str:
    """How to call a person: GitHub `@login`; Jira Cloud `[~accountid:<id>]`; Jira Server/DC `[~<name>]`.

    `login` is what okrbot keeps (GitHub login, Jira Cloud accountId, Jira Server name). Without a
    flavour, a Jira login shaped like an accountId is taken for Cloud, anything else for Server.
    """
    login = login.strip()
    if tracker == "github":
        login = login.lstrip("@")
        if not login:
            raise ValueError("empty GitHub login")
        return f"@{login}"
    if tracker != "jira":
        raise ValueError(f"unknown tracker {tracker!r} (github or jira)")
    if login.lower().startswith("accountid:"):
        login, flavour = login[len("accountid:"):], flavour or "cloud"
    if not login:
        raise ValueError("empty Jira login")
    if flavour is None:
        flavour = "cloud" if _CLOUD_ACCOUNT_ID.fullmatch(login) else "server"
    if flavour == "cloud":
        return f"[~accountid:{login}]"
    if flavour in ("server", "datacenter", "data_center"):
        return f"[~{login}]"
    raise ValueError(f"unknown Jira flavour {flavour!r} (cloud or server)")


# --- words shared by both renderings ----------------------------------------------------------

def _percent(value: float | None) -> str:
    return "no work linked" if value is None else f"{min(value, 100.0):.0f}%"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def days_left_text(days_left: int) -> str:
    if days_left < 0:
        return "period ended"
    if days_left == 0:
        return "last day"
    return f"{_days(days_left)} left"


def change_text(kr: SummaryKR) -> str:
    """`+12 pts, 3 done this week`; `first summary`; `no change since the last summary`."""
    done = f"{kr.done_this_week} done this week" if kr.done_this_week else ""
    if kr.delta_points is None:
        return ", ".join(filter(None, ["first summary", done]))
    points = f"{kr.delta_points:+.0f} pts".replace("-", "−")  # a minus sign: Jira reads "-…-" as strike-through
    if points in ("+0 pts", "−0 pts"):
        if not done:
            return "no change since the last summary"
        points = "±0 pts"
    return ", ".join(filter(None, [points, done]))


def _window(days: int) -> str:
    if days % 7 == 0:
        weeks = days // 7
        return "1 week" if weeks == 1 else f"{weeks} weeks"
    return _days(days)


def forecast_text(f: Forecast) -> str:
    if f.status == DONE:
        return "done"
    if f.status == NO_HISTORY:
        return "not enough history yet"
    if f.status == FLAT:
        if f.slope_per_day is not None and f.slope_per_day < 0:
            return f"losing ground over the last {_window(f.window_days)}"
        return f"no movement in {_window(f.window_days)}"
    if f.status == ON_PACE and f.reaches_100_on is not None and f.days_before_end is not None:
        when = "on the last day" if f.days_before_end == 0 else f"{_days(f.days_before_end)} before the end"
        return f"on pace: 100% by {f.reaches_100_on.isoformat()}, {when}"
    if f.status == LATE:
        if f.reaches_100_on is None or f.days_before_end is None:
            return "at this pace 100% is more than 100 years away"
        return f"at this pace 100% on {f.reaches_100_on.isoformat()}, {_days(-f.days_before_end)} late"
    return f.status.replace("_", " ")


def _team(kr: SummaryKR) -> str:
    return (kr.team or "?").lstrip("@")


def _needs_owner_text(kr: SummaryKR, defuse) -> str:
    if kr.ownership == "shared":
        others = ", ".join(defuse(name) for name in kr.others) or "others"
        return (f"shared with {others}: assign exactly one person "
                "(the first assignee counts as the owner until then)")
    if kr.ownership == "team":
        return f"owned by the team {defuse(_team(kr))}: name exactly one person as the owner in okrs.yml"
    return "no owner: assign exactly one person to the issue (or set `owner:` in okrs.yml)"


def _owner_text(kr: SummaryKR, defuse) -> str:
    """The one place a person is called: the owner's mention, passed in as is."""
    if kr.ownership == "team":
        return f"team {defuse(_team(kr))}, no single owner"
    if kr.owner is None:
        return "no owner"
    if kr.ownership == "shared" and kr.others:
        return f"{kr.owner} (provisional; also assigned: {', '.join(defuse(n) for n in kr.others)})"
    return kr.owner


def _stale_text(kr: SummaryKR, threshold: int) -> str:
    return f"unchanged for {_days(kr.stale_days)}" if kr.stale_days is not None \
        else f"unchanged for at least {_days(threshold)}"


def _groups(view: SummaryView) -> list[tuple[SummaryObjective, bool]]:
    """(group, is a real objective): the objectives, then the key results without one."""
    return [(o, True) for o in view.objectives] + [(o, False) for o in view.unassigned if o.key_results]


def _has_key_results(view: SummaryView) -> bool:
    return any(o.key_results for o, _ in _groups(view))


def _when(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _period(view: SummaryView) -> str:
    return f"{view.period[0].isoformat()} – {view.period[1].isoformat()}"


def _number(value: float) -> str:
    return f"{value:g}"


EMPTY = ("No key results in this period yet: label an issue `key-result` (or give it that issue type), "
         "or list key results in okrs.yml.")
NOTHING_DONE = "Nothing was finished this week."
FOOTER = "by okrbot from the state of the work · only key result owners are called by name"


# --- burn-up charts: Mermaid on GitHub, a table on Jira (which renders no Mermaid) -----------------

def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def burnup_mermaid(title: str, weeks: tuple[BurnupWeek, ...]) -> str:
    """A Mermaid xychart: x the week labels, two lines (done, then scope)."""
    labels = ", ".join(f'"{_mermaid_text(w.label)}"' for w in weeks)
    top = max([w.scope for w in weeks] + [w.done for w in weeks])
    lines = ["```mermaid", "xychart-beta", f'    title "{_mermaid_text(title)}: burn-up"',
             f"    x-axis [{labels}]",
             f'    y-axis "done / scope" 0 --> {_number(top)}' if top > 0 else '    y-axis "done / scope"',
             f"    line [{', '.join(_number(w.done) for w in weeks)}]",
             f"    line [{', '.join(_number(w.scope) for w in weeks)}]", "```"]
    return "\n".join(lines)


def burnup_table_jira(weeks: tuple[BurnupWeek, ...]) -> str:
    rows = ["||Week||Done||Scope||"] + [f"|{w.label}|{_number(w.done)}|{_number(w.scope)}|" for w in weeks]
    return "\n".join(rows)


def burnup_table_text(weeks: tuple[BurnupWeek, ...]) -> str:
    """Plain text columns (e-mail): week, done, scope."""
    rows = [("Week", "Done", "Scope")] + [(w.label, _number(w.done), _number(w.scope)) for w in weeks]
    return "\n".join(f"{a:<6}{b:>8}{c:>8}" for a, b, c in rows)


def _burnup(o: SummaryObjective, m: Markup) -> list[str]:
    if m.tracker == "email":  # integration.summaries.mail.EmailMarkup: a text table or a chart
        return m.burnup(o)
    if m.tracker == "github":
        return [burnup_mermaid(o.title, o.burnup),
                m.small("Burn-up: the first line is the work done, the second the whole scope.")]
    return [m.bold("Burn-up"), burnup_table_jira(o.burnup)]


# --- one layout, two markups ------------------------------------------------------------------------

def owner_says(kr: SummaryKR, m: Markup) -> str | None:
    """Beside the computed health: `owner says at risk`, flagged when they disagree; None without an owner."""
    if kr.checkin is None:
        return "no check-in yet" if kr.owner is not None and kr.ownership != "team" else None
    text = f"owner says {kr.checkin.status.words}"
    return f"{text} {m.flag(DISAGREES)}" if kr.disagrees else text


DISAGREES = "disagrees with the computed health"


def _kr_lines(kr: SummaryKR, m: Markup, now: datetime) -> list[str]:
    says = owner_says(kr, m)
    source = "" if kr.source == "ok" else f" ({kr.source})"
    lines = [m.bullet(f"{m.link(kr.title, kr.url, bold=True)}{source} — {_owner_text(kr, m.defuse)}"),
             m.continuation(f"{m.code(bar(kr.percent))} {_percent(kr.percent)} · {change_text(kr)} · "
                            f"{m.health(kr.health, strong=False)}{f' · {says}' if says else ''} · "
                            f"{forecast_text(kr.forecast)}")]
    if kr.checkin is not None:
        lines.append(m.continuation(checkin_line(kr.checkin, m, now, kr.owner_person)))
    return lines


def _objective_lines(o: SummaryObjective, real: bool, m: Markup, now: datetime) -> list[str]:
    lines = ["", m.heading(3, f"{'Objective: ' if real else ''}{m.defuse(o.title)}", "🏁")]
    if o.percent is not None:
        lines.append(f"{m.code(bar(o.percent))} {_percent(o.percent)}")
    lines.append("")
    if not o.key_results:
        lines.append("_No key results under this objective yet._")
    for kr in o.key_results:
        lines += _kr_lines(kr, m, now)
    if o.burnup:
        lines += ["", *_burnup(o, m)]
    return lines


def _attention_lines(view: SummaryView, m: Markup) -> list[str]:
    """The key results that need an owner, then those with no movement."""
    lines = []
    if view.needs_owner:
        lines += ["", m.heading(3, "Needs an owner", "🙋"),
                  "A key result that everyone owns is owned by no one: give each of these exactly one person.", ""]
        lines += [m.bullet(f"{m.link(kr.title, kr.url, bold=True)} — {m.plain(_needs_owner_text(kr, m.defuse))}")
                  for kr in view.needs_owner]
    if view.no_movement:
        lines += ["", m.heading(3, "No movement", "💤"), f"Unchanged for {_days(view.stale_threshold_days)} or more:",
                  ""]
        lines += [m.bullet(f"{m.link(kr.title, kr.url, bold=True)} — {_stale_text(kr, view.stale_threshold_days)}")
                  for kr in view.no_movement]
    return lines


def _done_lines(view: SummaryView, m: Markup) -> list[str]:
    if not _has_key_results(view) and not view.done_by_contributor:
        return []
    lines = ["", m.heading(3, "Done this week", "✅"), ""]
    if not any(items for _, items in view.done_by_contributor):
        lines.append(NOTHING_DONE)
    for name, items in view.done_by_contributor:
        if items:
            lines.append(m.bullet(f"{m.bold(m.defuse(name))} ({len(items)})"))
            lines += [m.bullet(f"{m.link(i.ref, i.url)} {m.defuse(i.title)}", 2) for i in items]
    return lines


def render_summary(view: SummaryView, m: Markup) -> str:
    """The weekly summary in the target tracker's markup (integration.markup.MARKUPS[tracker])."""
    overall = f" · overall {m.code(bar(view.overall_percent))} {m.bold(_percent(view.overall_percent))}" \
        if view.overall_percent is not None else ""
    lines = [m.heading(2, f"OKR summary · {view.week}", "📊"),
             f"Period {_period(view)} · {days_left_text(view.days_left)}{overall}"]
    if not _has_key_results(view):
        lines += ["", m.plain(EMPTY)]
    for o, real in _groups(view):
        lines += _objective_lines(o, real, m, view.generated_at)
    lines += _attention_lines(view, m) + _done_lines(view, m)
    lines += ["", *m.footer(f"Generated {_when(view.generated_at)} {FOOTER}")]
    return "\n".join(lines) + "\n"
