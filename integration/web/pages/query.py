"""What the pages show, read in a fixed number of statements: the domain's own read functions
(`mappings.views`: progress, ownership, health) and the summaries' history reads, never the API's code.

`/` costs five statements whatever the number of key results: the periods, the key results of the period,
their objectives, when each last moved, and their owners' current check-ins (`current_checkins`). Work items
are never read for it (the counters are kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from mappings.checkin_health import disagrees
from mappings.checkins import Checkin, current_checkins
from mappings.keys import WorkItemKey
from mappings.models import KeyResult, Objective
from mappings.okrs_file import current_quarter
from mappings.progress import AT_RISK, NONE, OFF_TRACK, SHARED, TEAM, Ownership, Progress, objective_percent
from mappings.views import health_of, ownership_of, progress_of

from ...summaries.build import idle_days, last_moves
from ...trackers.access import SOURCE_OK, repos_of, source_of, source_states

ATTENTION_OWNERSHIP = (NONE, SHARED, TEAM)
ATTENTION_HEALTH = (OFF_TRACK, AT_RISK)
NO_OBJECTIVE = "Key results without an objective"
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A `?period=` the pages cannot read."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def name(self) -> str:
        """`2026-Q3` for a calendar quarter, else `2026-10-01..2026-12-31`: what `?period=` takes."""
        if current_quarter(self.start) == (self.start, self.end):
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def parse(cls, text: str) -> Period:
        if m := _QUARTER.match(text):
            start, end = current_quarter(date(int(m[1]), 3 * int(m[2]) - 2, 1))
            return cls(start, end)
        if m := _RANGE.match(text):
            try:
                start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            except ValueError as exc:
                raise PeriodError(f"{text!r}: {exc}") from exc
            if end < start:
                raise PeriodError(f"{text!r}: the period ends before it starts")
            return cls(start, end)
        raise PeriodError(f"{text!r} is no period: use 2026-Q3 or 2026-10-01..2026-12-31")


def default_period(rt, today: date) -> Period:
    """The okrs.yml period when there is a file, else the current calendar quarter."""
    return Period(*(rt.domain.index.period() or current_quarter(today)))


@dataclass(frozen=True)
class KRRow:
    """One key result as every page lists it."""

    id: str
    title: str
    url: str | None
    objective_id: str | None
    trackers: tuple[str, ...]
    ownership: Ownership
    progress: Progress
    health: str
    last_move: datetime  # "no movement since"
    idle_days: int
    updated_at: datetime  # the last update of any kind
    active: bool
    weight: float | None
    stale: bool  # no movement for OKRBOT_STALE_DAYS
    checkin: Checkin | None = None  # the owner's current check-in
    source: str = SOURCE_OK  # "source removed" / "installation suspended" (integration.trackers.access)

    @property
    def disagrees(self) -> bool:
        """The owner's status is not the computed health (mappings.checkin_health)."""
        return disagrees(self.checkin, self.health)

    @property
    def owner_login(self) -> str | None:
        return self.ownership.owner.login if self.ownership.owner else None

    @property
    def owner_display(self) -> str | None:
        """The owner's name, else login (a Jira Cloud login is an account id: the name reads better)."""
        owner = self.ownership.owner
        return (owner.name or owner.login) if owner else None



@dataclass(frozen=True)
class ObjectiveGroup:
    id: str | None
    title: str
    url: str | None
    percent: float | None  # weighted, over the key results of the objective in the period
    key_results: tuple[KRRow, ...]


def trackers_of(rt, kr: KeyResult) -> tuple[str, ...]:
    """The anchor's tracker; for a file key result without one, its sources' (no statement)."""
    if kr.anchor_key:
        return (WorkItemKey.parse(kr.anchor_key).tracker,)
    spec = rt.domain.index.spec(kr.id)
    return tuple(sorted({s.tracker for s in spec.sources})) if spec else ()


def row(rt, kr: KeyResult, last_move: datetime | None, now: datetime, checkin: Checkin | None = None,
        sources: dict[str, str] | None = None) -> KRRow:
    """`sources`: `source_states`, read once for all the rows."""
    idle = idle_days(kr, last_move, now)
    spec = rt.domain.index.spec(kr.id) if kr.origin == "file" else None
    return KRRow(
        id=kr.id, title=kr.title, url=kr.anchor_url, objective_id=kr.objective_id, trackers=trackers_of(rt, kr),
        ownership=ownership_of(kr), progress=progress_of(kr), health=health_of(kr, now, rt.settings.thresholds),
        last_move=last_move or kr.created_at, idle_days=idle, updated_at=kr.updated_at,
        active=kr.active, weight=kr.weight, stale=idle >= rt.settings.stale_days, checkin=checkin,
        source=source_of(sources or {}, repos_of(kr.anchor_key, spec.sources if spec else ())))


def _in_period(period: Period, today: date):
    overlaps = and_(KeyResult.period_start <= period.end, KeyResult.period_end >= period.start)
    # the current period lists what is a key result now; a past one also what has ended since
    return and_(overlaps, KeyResult.active.is_(True)) if period.contains(today) else overlaps


def known_periods(session: Session) -> list[Period]:
    rows = session.execute(select(KeyResult.period_start, KeyResult.period_end).distinct())
    return sorted({Period(s, e) for s, e in rows}, key=lambda p: (p.start, p.end), reverse=True)


def period_rows(rt, session: Session, period: Period, now: datetime) -> list[KRRow]:
    """Every key result of the period, as rows (three statements)."""
    condition = _in_period(period, now.date())
    krs = list(session.scalars(select(KeyResult).where(condition).order_by(KeyResult.id)))
    moved = last_moves(session, select(KeyResult.id).where(condition)) if krs else {}
    checkins = current_checkins(session, [kr.id for kr in krs])  # no statement when there are none
    sources = source_states(session) if krs else {}
    return [row(rt, kr, moved.get(kr.id), now, checkins.get(kr.id), sources) for kr in krs]


@dataclass(frozen=True)
class Filters:
    owner: str | None = None  # a login, or "-" for key results without an owner
    health: str | None = None
    tracker: str | None = None
    objective: str | None = None  # an objective id, or "-" for those without one

    def keep(self, r: KRRow) -> bool:
        if self.owner and (r.owner_login or "-").lower() != self.owner.lower():
            return False
        if self.health and r.health != self.health:
            return False
        if self.tracker and self.tracker not in r.trackers:
            return False
        return not self.objective or (r.objective_id or "-") == self.objective

    @property
    def active(self) -> bool:
        return any((self.owner, self.health, self.tracker, self.objective))


@dataclass(frozen=True)
class Dashboard:
    period: Period
    periods: tuple[Period, ...]
    objectives: tuple[ObjectiveGroup, ...]  # filtered; an objective with nothing left is not listed
    shown: int
    total: int
    owners: tuple[tuple[str, str], ...]  # (login, display) of every owner in the period, for the filter
    trackers: tuple[str, ...]
    objective_choices: tuple[tuple[str, str], ...]  # (id, title)


def dashboard(rt, session: Session, period: Period, filters: Filters, now: datetime) -> Dashboard:
    """The `/` page: five statements, whatever the number of key results."""
    periods = known_periods(session)
    if period not in periods:
        periods.append(period)
    rows = period_rows(rt, session, period, now)
    groups = group_by_objective(session, rows)
    kept = [ObjectiveGroup(g.id, g.title, g.url, g.percent, tuple(r for r in g.key_results if filters.keep(r)))
            for g in groups]
    owners = sorted({(r.owner_login, r.owner_display) for r in rows if r.owner_login}, key=lambda o: o[1].lower())
    return Dashboard(
        period=period, periods=tuple(sorted(periods, key=lambda p: p.start, reverse=True)),
        objectives=tuple(g for g in kept if g.key_results), shown=sum(len(g.key_results) for g in kept),
        total=len(rows), owners=tuple(owners), trackers=tuple(sorted({t for r in rows for t in r.trackers})),
        objective_choices=tuple((g.id or "-", g.title) for g in groups))


def group_by_objective(session: Session, rows: list[KRRow]) -> list[ObjectiveGroup]:
    """Rows under their objectives (one statement), objectives by title; those without one last.

    An objective's percentage is the weighted mean over its key results listed here, before any filter,
    as `objective_percent` makes it for the API.
    """
    ids = sorted({r.objective_id for r in rows if r.objective_id})
    objectives = {o.id: o for o in session.scalars(select(Objective).where(Objective.id.in_(ids)))} if ids else {}
    by: dict[str | None, list[KRRow]] = {}
    for r in rows:
        by.setdefault(r.objective_id, []).append(r)
    out = []
    for objective_id, members in by.items():
        o = objectives.get(objective_id) if objective_id else None
        percent = objective_percent((r.progress.percent, r.weight) for r in members)
        title = o.title if o else (objective_id or NO_OBJECTIVE)
        out.append(ObjectiveGroup(objective_id, title, o.anchor_url if o else None, percent, tuple(members)))
    return sorted(out, key=lambda g: (g.id is None, g.title.lower()))
