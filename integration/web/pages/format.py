"""How the pages write numbers, health and times: one place, so that a test can read them back."""

from __future__ import annotations

from datetime import datetime

from mappings.progress import AT_RISK, NO_WORK, NOT_STARTED, OFF_TRACK, ON_TRACK, UNKNOWN, Progress

HEALTH_TEXT = {ON_TRACK: "on track", AT_RISK: "at risk", OFF_TRACK: "off track", NOT_STARTED: "not started",
               UNKNOWN: "unknown"}


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def percent(value: float | None) -> str:
    """To one decimal, as the API rounds it (`50%`, `33.3%`); a dash when there is none."""
    return "–" if value is None else f"{round(value, 1):g}%"


def done_of_total(p: Progress) -> str:
    if p.note == NO_WORK:
        return "0 of 0, no work linked"
    unit = " points" if p.measure == "points" else ""
    if p.target:
        return f"{number(p.done)} of {number(p.target)}{unit} (target)"
    return f"{number(p.done)} of {number(p.total)}{unit} done"


def health(value: str) -> str:
    return HEALTH_TEXT.get(value, value.replace("_", " "))


def day(value: datetime) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def ago(value: datetime, now: datetime) -> str:
    days = (now - value).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


FILTERS = {"number": number, "percent": percent, "done_of_total": done_of_total, "health": health,
           "day": day, "moment": moment}
