"""Ownership, progress and health: pure functions of a key result's kept counters and the clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.events import Person

OK, NONE, SHARED, TEAM = "ok", "none", "shared", "team"
ON_TRACK, AT_RISK, OFF_TRACK, NOT_STARTED, UNKNOWN = "on_track", "at_risk", "off_track", "not_started", "unknown"
NO_WORK = "no work linked"


@dataclass(frozen=True)
class Counters:
    """What a key result keeps, changed by one event at a time (never recounted per event)."""

    open: int = 0
    done: int = 0
    dropped: int = 0
    points_open: float = 0.0
    points_done: float = 0.0
    points_dropped: float = 0.0
    unestimated: int = 0  # items counted as 1 point because they carry no estimate

    @property
    def items(self) -> int:
        return self.open + self.done + self.dropped


@dataclass(frozen=True)
class Progress:
    measure: str  # "count" | "points"
    done: float
    dropped: float
    total: float  # the denominator: all work but the dropped
    target: float | None
    percent: float | None  # raw: may pass 100 against a target
    display_percent: float | None  # capped at 100
    note: str | None = None  # NO_WORK when nothing is linked and the anchor has no state
    unestimated: int = 0


@dataclass(frozen=True)
class Ownership:
    status: str  # OK | NONE | SHARED | TEAM
    owner: Person | None  # the accountable person; for SHARED the provisional one (first assignee)
    others: tuple[Person, ...] = ()  # SHARED: the other assignees
    team: str | None = None  # TEAM: "@org/team" or "group:<name>"


def is_team(owner: str) -> bool:
    """A GitHub team ("@org/team") or a Jira group ("group:<name>"): not one person who answers for it."""
    return (owner.startswith("@") and "/" in owner) or owner.startswith("group:")


def compute_ownership(assignees: Iterable[dict], override: str | None) -> Ownership:
    """The anchor's assignee is the owner; `owner:` in okrs.yml overrides it."""
    if override:
        if is_team(override):
            return Ownership(TEAM, None, team=override)
        return Ownership(OK, Person(override.lstrip("@")))
    people = [Person(a["login"], a.get("name")) for a in assignees]
    if not people:
        return Ownership(NONE, None)
    if len(people) == 1:
        return Ownership(OK, people[0])
    return Ownership(SHARED, people[0], tuple(people[1:]))


def compute_progress(measure: str, counters: Counters, target: float | None,
                     anchor_state: str | None) -> Progress:
    """count: done / (all − dropped); points: the same in points; target: done / target."""
    if counters.items == 0:
        return _without_work(measure, target, anchor_state)
    if measure == "points":
        done, dropped = counters.points_done, counters.points_dropped
        total = counters.points_open + counters.points_done
    else:
        done, dropped, total = counters.done, counters.dropped, counters.open + counters.done
    denominator = target if target else total
    percent = 100.0 * done / denominator if denominator else None
    return Progress(measure, done, dropped, total, target, percent, _cap(percent),
                    unestimated=counters.unestimated if measure == "points" else 0)


def _without_work(measure: str, target: float | None, anchor_state: str | None) -> Progress:
    # A key result that is itself an issue and has no work under it: its own state is its progress.
    if anchor_state in ("open", "done"):
        done = 1 if anchor_state == "done" else 0
        percent = 100.0 * done / target if target else 100.0 * done
        return Progress(measure, done, 0, 1, target, percent, _cap(percent))
    return Progress(measure, 0, 0, 0, target, None, None, note=NO_WORK)


def _cap(percent: float | None) -> float | None:
    return None if percent is None else min(percent, 100.0)


def period_fraction(start: date, end: date, now: datetime) -> float:
    """How much of the period has passed at `now`: 0 before it, 1 after it (end date inclusive)."""
    begin = datetime.combine(start, time.min, tzinfo=UTC)
    finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)  # the end day counts whole
    if now <= begin:
        return 0.0
    if now >= finish:
        return 1.0
    return (now - begin) / (finish - begin)


@dataclass(frozen=True)
class Thresholds:
    """Percentage points below the expected progress where health turns at risk / off track.

    No defaults here: they live with the settings (OKRBOT_HEALTH_AT_RISK, OKRBOT_HEALTH_OFF_TRACK).
    """

    at_risk: float
    off_track: float


def compute_health(percent: float | None, start: date, end: date, now: datetime, thresholds: Thresholds) -> str:
    """on_track when progress ≥ expected − at_risk points, at_risk down to expected − off_track, else off_track.

    Expected progress is the fraction of the period elapsed; before the period: not_started; with
    no work linked: unknown.
    """
    if percent is None:
        return UNKNOWN
    if now < datetime.combine(start, time.min, tzinfo=UTC):
        return NOT_STARTED
    expected = 100.0 * period_fraction(start, end, now)
    if percent >= expected - thresholds.at_risk:
        return ON_TRACK
    if percent >= expected - thresholds.off_track:
        return AT_RISK
    return OFF_TRACK


def objective_percent(key_results: Iterable[tuple[float | None, float | None]]) -> float | None:
    """Mean of the key results' (capped) percentages, weighted by `weight:` where given (default 1)."""
    pairs = [(p, w if w is not None else 1.0) for p, w in key_results if p is not None]
    weight = sum(w for _, w in pairs)
    if not pairs or weight == 0:
        return None
    return sum(min(p, 100.0) * w for p, w in pairs) / weight
