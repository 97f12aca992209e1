"""One key result (its burn-up, work items, history, living comment) and one person, for the pages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Text, select
from sqlalchemy.orm import Session

from mappings.checkins import Checkin, checkin_history, current_checkins
from mappings.forecast import LATE, ON_PACE, Forecast, forecast
from mappings.keys import GITHUB, WorkItemKey
from mappings.models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from mappings.views import contributors, progress_of, work_items

from ...summaries.build import History, last_moves
from ...trackers.access import source_states
from ...writeback.models import OutboxEntry
from .query import ATTENTION_HEALTH, ATTENTION_OWNERSHIP, KRRow, Period, period_rows, row

HISTORY_KINDS = ("created", "ended", "owner", "added", "removed", "state")
HISTORY_SHOWN = 200
COMMENT_KIND = "progress_comment"


@dataclass(frozen=True)
class BurnupDay:
    day: date
    done: float
    scope: float


@dataclass(frozen=True)
class KeyResultPage:
    row: KRRow
    objective: Objective | None
    period: Period
    items: list[WorkItem]
    contributors: list[dict]
    history: list[KeyResultEvent]  # newest first
    burnup: tuple[BurnupDay, ...]  # one per day of history, oldest first
    forecast: Forecast
    goal: float  # the target, else the current scope: where the ideal line ends
    comment_url: str | None
    checkins: list[Checkin]  # every standing check-in, newest first (the current one is `row.checkin`)


def key_result_page(rt, session: Session, kr_id: str, now: datetime) -> KeyResultPage | None:
    kr = session.get(KeyResult, kr_id)
    if kr is None:
        return None
    first = max(kr.period_start, kr.created_at.date())
    weeks = math.ceil(max((now.date() - first).days, 0) / 7) + 1
    history = History.load(session, [kr.id], now, weeks=weeks)
    moved = last_moves(session, [kr.id]).get(kr.id)
    progress = progress_of(kr)
    return KeyResultPage(
        row=row(rt, kr, moved, now, current_checkins(session, [kr.id]).get(kr.id), source_states(session)),
        objective=session.get(Objective, kr.objective_id) if kr.objective_id else None,
        period=Period(kr.period_start, kr.period_end),
        items=(items := work_items(session, kr.id)), contributors=contributors(items),
        history=list(session.scalars(select(KeyResultEvent).where(
            KeyResultEvent.kr_id == kr.id, KeyResultEvent.kind.in_(HISTORY_KINDS))
            .order_by(KeyResultEvent.id.desc()).limit(HISTORY_SHOWN))),
        burnup=burnup_days(kr, history, now),
        forecast=forecast(history.points(kr, now), now, kr.period_end),
        goal=kr.target or progress.total,
        comment_url=comment_url(session, kr), checkins=checkin_history(session, kr.id))


def burnup_days(kr: KeyResult, history: History, now: datetime) -> tuple[BurnupDay, ...]:
    """Done and scope at the end of each day from the key result's first day in the period to today."""
    first, last = max(kr.period_start, kr.created_at.date()), min(now.date(), kr.period_end)
    out = []
    day = first
    while day <= last:
        if day == now.date():
            p = progress_of(kr)
            out.append(BurnupDay(day, p.done, p.total))
        else:
            end_of_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(microseconds=1)
            e = history.as_of(kr.id, end_of_day)
            out.append(BurnupDay(day, (e.data.get("done") or 0) if e else 0, (e.data.get("total") or 0) if e else 0))
        day += timedelta(days=1)
    return tuple(out)


def forecast_line(page: KeyResultPage, now: datetime) -> tuple[tuple[date, float], ...]:
    """From today's done toward the goal at the fitted pace, ending where it meets the goal or the period ends."""
    f = page.forecast
    if f.status not in (ON_PACE, LATE) or f.slope_per_day is None or not page.burnup:
        return ()
    today = page.burnup[-1]
    per_day = f.slope_per_day * page.goal / 100.0
    end = min(f.reaches_100_on or page.period.end, page.period.end)
    if end <= today.day or per_day <= 0:
        return ()
    value = min(page.goal, today.done + per_day * (end - today.day).days)
    return ((today.day, today.done), (end, value))


def comment_url(session: Session, kr: KeyResult) -> str | None:
    """The living comment on the anchor, once written (GitHub: its anchor; Jira: focusedCommentId)."""
    if not kr.anchor_url or not kr.anchor_key:
        return None
    comment_id = session.scalar(select(OutboxEntry.comment_id).where(
        OutboxEntry.kr_id == kr.id, OutboxEntry.kind == COMMENT_KIND))
    if not comment_id:
        return None
    if WorkItemKey.parse(kr.anchor_key).tracker == GITHUB:
        return f"{kr.anchor_url}#issuecomment-{comment_id}"
    return f"{kr.anchor_url}?focusedCommentId={comment_id}"


# --- people and attention ------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    kr: KRRow
    items: tuple[WorkItem, ...]


@dataclass(frozen=True)
class PersonPage:
    login: str
    name: str | None
    owns: tuple[KRRow, ...]  # the one owner, or the provisional owner of a shared key result
    shares: tuple[KRRow, ...]  # among the other assignees of a shared key result
    contributes: tuple[Contribution, ...]


def person_page(rt, session: Session, login: str, period: Period, now: datetime) -> PersonPage:
    rows = {r.id: r for r in period_rows(rt, session, period, now)}
    wanted = login.lower()
    owns = tuple(r for r in rows.values() if (r.owner_login or "").lower() == wanted)
    shares = tuple(r for r in rows.values() if any(p.login.lower() == wanted for p in r.ownership.others))
    name = next((r.ownership.owner.name for r in owns if r.ownership.owner.name), None)
    # a coarse text match narrows the rows in SQL on every database; the exact login is checked here
    found = session.execute(
        select(Membership.kr_id, WorkItem).join(WorkItem, WorkItem.key == Membership.work_item_key)
        .where(Membership.kr_id.in_(list(rows)), WorkItem.assignees.cast(Text).ilike(f"%{_like(login)}%"))
        .order_by(Membership.kr_id, WorkItem.key)) if rows else ()
    by: dict[str, list[WorkItem]] = {}
    for kr_id, item in found:
        for person in item.assignees:
            if person.get("login", "").lower() == wanted:
                by.setdefault(kr_id, []).append(item)
                name = name or person.get("name")
                break
    contributes = tuple(Contribution(rows[kr_id], tuple(items)) for kr_id, items in by.items())
    return PersonPage(login, name, owns, shares, contributes)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Attention:
    period: Period
    stale_days: int
    ownership: tuple[KRRow, ...]  # no owner, shared, team
    stale: tuple[KRRow, ...]  # no movement for OKRBOT_STALE_DAYS
    health: tuple[KRRow, ...]  # off track first, then at risk
    disagree: tuple[KRRow, ...] = ()  # the owner's check-in says otherwise than the computed health


def needs_attention(rt, session: Session, period: Period, now: datetime) -> Attention:
    rows = period_rows(rt, session, period, now)
    order = {h: i for i, h in enumerate(ATTENTION_HEALTH)}
    return Attention(
        period=period, stale_days=rt.settings.stale_days,
        ownership=tuple(r for r in rows if r.ownership.status in ATTENTION_OWNERSHIP),
        stale=tuple(sorted((r for r in rows if r.stale), key=lambda r: r.last_move)),
        health=tuple(sorted((r for r in rows if r.health in ATTENTION_HEALTH), key=lambda r: order[r.health])),
        disagree=tuple(r for r in rows if r.disagrees))
