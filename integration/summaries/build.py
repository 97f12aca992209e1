"""Weekly summaries: which targets, what they say (from the database), and posting exactly once a week.

The decision to post is a row in `summary_posts`, unique on (target, ISO week): two workers, a
restarted scheduler or a late clock all try to insert it, one succeeds, and only that one posts.
A post carries a hidden marker, so a post that timed out but happened is found, not repeated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Text, func, select
from sqlalchemy.orm import Session

from mappings.checkin_health import disagrees
from mappings.checkins import Checkin, current_checkins
from mappings.forecast import forecast
from mappings.keys import GITHUB, WorkItemKey
from mappings.models import KeyResult, KeyResultEvent, Objective, WorkItem
from mappings.okrs_schedule import EMAIL, SummaryTargetSpec
from mappings.progress import objective_percent
from mappings.views import health_of, ownership_of, progress_of
from mappings.workitems import find_work_item

from ..markup import MARKUPS
from ..trackers.access import repos_of, source_of, source_states
from ..writeback.comment_view import item_ref
from .models import SummaryPost
from .render import (
    BurnupWeek,
    DoneItem,
    SummaryKR,
    SummaryObjective,
    SummaryView,
    mention,
    render_summary,
)

SUMMARY_LABEL = "okr-summary"
BURNUP_WEEKS = 8


@dataclass(frozen=True)
class SummaryTarget:
    id: str  # "github:acme/web#1" / "jira:OPS-100" (SummaryTargetSpec.id), or the labelled item's key
    anchor: str | None  # the work item key it is posted on (None: a Jira issue not seen yet)
    tracker: str
    objectives: tuple[str, ...] | None  # None = all
    container: str | None  # a label-found target covers the key results of its repository / project
    weekday: str = "monday"
    hour: int = 9
    timezone: str = "UTC"
    recipients: tuple[str, ...] = ()  # an e-mail target's addresses (tracker "email")


def targets(rt, session: Session) -> list[SummaryTarget]:
    """okrs.yml `summaries:`, else every issue labelled okr-summary (covering its repository)."""
    mapping = rt.domain.index.mapping
    if mapping is not None and getattr(mapping, "summaries", ()):
        return [_file_target(session, t) for t in mapping.summaries]
    labelled = session.scalars(select(WorkItem).where(WorkItem.removed.is_(False),
                                                      WorkItem.labels.cast(Text).ilike(f'%"{SUMMARY_LABEL}"%')))
    return [SummaryTarget(id=item.key, anchor=item.key, tracker=item.tracker, objectives=None,
                          container=item.container) for item in labelled]


def _file_target(session: Session, t: SummaryTargetSpec) -> SummaryTarget:
    """Posted on the stored issue, as the tracker spells it; a GitHub issue not seen yet as the file does."""
    if t.anchor is None:  # e-mail: the target's id ("email:<addresses>") is where it goes
        return SummaryTarget(id=t.id, anchor=t.id, tracker=t.tracker, objectives=t.objectives, container=None,
                             weekday=t.weekday, hour=t.hour, timezone=t.timezone, recipients=t.recipients)
    stored = find_work_item(session, t.anchor)
    anchor = stored.key if stored is not None else (str(t.anchor) if t.tracker == GITHUB else None)
    return SummaryTarget(id=t.id, anchor=anchor, tracker=t.tracker, objectives=t.objectives, container=None,
                         weekday=t.weekday, hour=t.hour, timezone=t.timezone)


def covers(target: SummaryTarget, kr: KeyResult) -> bool:
    """Whether the target's summary lists this (active) key result."""
    if target.objectives is not None and kr.objective_id not in target.objectives:
        return False
    if target.container is not None:
        return bool(kr.anchor_key) and WorkItemKey.parse(kr.anchor_key).container == target.container.lower()
    return True


def covered(session: Session, target: SummaryTarget) -> list[KeyResult]:
    query = select(KeyResult).where(KeyResult.active.is_(True)).order_by(KeyResult.id)
    return [kr for kr in session.scalars(query) if covers(target, kr)]


# --- what it says: the history of every covered key result, read in a fixed number of queries ------


# History is read as rows of these columns, not as ORM objects: a summary reads thousands of events,
# only to read them, and building an ORM object for each took a third of a 100-key-result summary.
EVENT_FIELDS = (KeyResultEvent.id, KeyResultEvent.kr_id, KeyResultEvent.at, KeyResultEvent.kind, KeyResultEvent.data)
EventRow = Row[tuple[int, str, datetime, str, dict]]  # one history event: `.id`, `.kr_id`, `.at`, `.kind`, `.data`


@dataclass
class History:
    """Per key result: progress events of the window (oldest first), the last one before it, this
    week's completed items, and when it last moved. Four queries, however many key results."""

    progress: dict[str, list[EventRow]]
    before: dict[str, EventRow]
    done: dict[str, list[EventRow]]
    last_move: dict[str, datetime]

    @classmethod
    def load(cls, session: Session, kr_ids: list[str], now: datetime, weeks: int = BURNUP_WEEKS) -> History:
        since = now - timedelta(weeks=weeks)
        progress = defaultdict(list)
        rows = session.execute(select(*EVENT_FIELDS).where(
            KeyResultEvent.kr_id.in_(kr_ids), KeyResultEvent.kind.in_(("progress", "state")),
            KeyResultEvent.at >= since).order_by(KeyResultEvent.id))
        week: dict[str, list[EventRow]] = defaultdict(list)
        for e in rows:
            if e.kind == "progress":
                progress[e.kr_id].append(e)
            elif e.at >= now - timedelta(days=7):
                week[e.kr_id].append(e)
        done = {kr_id: net_done(events) for kr_id, events in week.items()}
        last_before = (select(func.max(KeyResultEvent.id)).where(
            KeyResultEvent.kr_id.in_(kr_ids), KeyResultEvent.kind == "progress", KeyResultEvent.at < since)
            .group_by(KeyResultEvent.kr_id))
        before = {e.kr_id: e for e in session.execute(select(*EVENT_FIELDS).where(KeyResultEvent.id.in_(last_before)))}
        return cls(dict(progress), before, {k: v for k, v in done.items() if v}, last_moves(session, kr_ids))

    def points(self, kr: KeyResult, now: datetime, days: int = 28) -> list[tuple[datetime, float]]:
        window = now - timedelta(days=days)
        points = [(e.at, e.data.get("percent")) for e in self.progress.get(kr.id, ()) if e.at >= window]
        points = [(t, p) for t, p in points if p is not None]
        current = progress_of(kr).percent
        # no work linked now: no forecast (an older 100% once said "done" beside "no work linked")
        return points + [(now, current)] if current is not None else []

    def as_of(self, kr_id: str, moment: datetime) -> EventRow | None:
        """The last progress event at or before `moment` (for the burn-up)."""
        last = self.before.get(kr_id)
        for e in self.progress.get(kr_id, ()):
            if e.at > moment:
                break
            last = e
        return last


def net_done(state_events: list[EventRow]) -> list[EventRow]:
    """The items that are done now and were not a week ago, item by item (oldest first): the net change.

    Closed then reopened in the week is not done; closed, reopened and closed again counts once
    (issue 13). Each item is shown by its last state change of the week.
    """
    first: dict[str, EventRow] = {}
    last: dict[str, EventRow] = {}
    for e in state_events:
        first.setdefault(e.data["item"], e)
        last[e.data["item"]] = e
    done = [e for item, e in last.items() if e.data.get("now") == "done" and first[item].data.get("was") != "done"]
    return sorted(done, key=lambda e: e.id)


def last_moves(session: Session, kr_ids) -> dict[str, datetime]:
    """When each key result last moved (progress changed, or it appeared): one query.

    `kr_ids` is a list of ids or a SELECT of them (the pages pass the query of a period's key results).
    """
    moves = session.execute(select(KeyResultEvent.kr_id, func.max(KeyResultEvent.at)).where(
        KeyResultEvent.kr_id.in_(kr_ids), KeyResultEvent.kind.in_(("progress", "created")))
        .group_by(KeyResultEvent.kr_id))
    return {kr_id: at for kr_id, at in moves}


def idle_days(kr: KeyResult, last_move: datetime | None, now: datetime) -> int:
    """Whole days since the later of the key result's creation and its last move (issue 13: history of an
    earlier key result with the same id, or of an item before it became one, is not its own)."""
    return (now - max(kr.created_at, last_move or kr.created_at)).days


def owner_call(rt, kr: KeyResult, tracker: str) -> str | None:
    ownership = ownership_of(kr)
    if ownership.owner is None:
        return None
    if tracker == EMAIL:  # an e-mail notifies no one: the owner by login, as the trackers show it
        return ownership.owner.login
    flavour = "server" if rt.settings.jira_pat else "cloud"
    return mention(tracker, ownership.owner.login, flavour if tracker == "jira" else None)


def summary_kr(rt, kr: KeyResult, tracker: str, now: datetime, previous: dict, history: History,
               checkin: Checkin | None = None, sources: dict[str, str] | None = None) -> SummaryKR:
    """`sources`: `trackers.access.source_states`, read once for the whole summary."""
    progress, ownership = progress_of(kr), ownership_of(kr)
    was = previous.get(kr.id)
    delta = None if was is None or progress.percent is None else progress.percent - was
    idle = idle_days(kr, history.last_move.get(kr.id), now)
    t = rt.settings.thresholds
    health = health_of(kr, now, t)
    return SummaryKR(
        id=kr.id, title=kr.title, url=kr.anchor_url, owner=owner_call(rt, kr, tracker), ownership=ownership.status,
        team=ownership.team.lstrip("@") if ownership.team else None,
        others=tuple(o.name or o.login for o in ownership.others), percent=progress.percent, delta_points=delta,
        done_this_week=len(history.done.get(kr.id, ())), health=health,
        forecast=forecast(history.points(kr, now), now, kr.period_end),
        stale_days=idle if idle >= rt.settings.stale_days else None,
        checkin=checkin, disagrees=disagrees(checkin, health), owner_person=ownership.owner,
        source=_source(rt, kr, sources or {}))


def _source(rt, kr: KeyResult, sources: dict[str, str]) -> str:
    spec = rt.domain.index.spec(kr.id) if kr.origin == "file" else None
    return source_of(sources, repos_of(kr.anchor_key, spec.sources if spec else ()))


def burnup(krs: list[KeyResult], now: datetime, history: History, weeks: int = BURNUP_WEEKS) -> tuple[BurnupWeek, ...]:
    """Done and scope summed over the key results at the end of each of the last weeks."""
    out = []
    for back in range(weeks - 1, -1, -1):
        end = now - timedelta(weeks=back)
        done = scope = 0.0
        for kr in krs:
            if back == 0:
                p = progress_of(kr)
                done, scope = done + p.done, scope + p.total
            elif (last := history.as_of(kr.id, end)) is not None:
                done, scope = done + (last.data.get("done") or 0), scope + (last.data.get("total") or 0)
        out.append(BurnupWeek(f"W{end.isocalendar().week:02d}", done, scope))
    return tuple(out)


def done_by_contributor(krs: list[KeyResult], history: History) -> tuple:
    grouped: dict[str, list[DoneItem]] = defaultdict(list)
    for kr in krs:
        for e in history.done.get(kr.id, ()):
            grouped[e.data.get("actor") or "someone"].append(
                DoneItem(item_ref(e.data["item"], kr.anchor_key), e.data.get("title") or "", e.data.get("url")))
    return tuple((who, tuple(items)) for who, items in sorted(grouped.items()))


def build_view(rt, session: Session, target: SummaryTarget, now: datetime, previous: dict) -> SummaryView:
    krs = covered(session, target)
    tracker = target.tracker
    history = History.load(session, [kr.id for kr in krs], now)
    checkins = current_checkins(session, [kr.id for kr in krs])
    sources = source_states(session) if krs else {}
    items = {kr.id: summary_kr(rt, kr, tracker, now, previous, history, checkins.get(kr.id), sources)
             for kr in krs}
    groups, loose = defaultdict(list), []
    for kr in krs:
        (groups[kr.objective_id] if kr.objective_id else loose).append(kr)
    titles = dict(session.execute(select(Objective.id, Objective.title).where(Objective.id.in_(list(groups)))).all())
    objectives = [_objective(objective_id, titles.get(objective_id, objective_id), members, items, now, history)
                  for objective_id, members in groups.items()]
    unassigned = (_objective("-", "Key results without an objective", loose, items, now, history),) if loose else ()
    start, end = _period(rt, krs, now)
    percents = [(items[kr.id].percent, kr.weight) for kr in krs]
    return SummaryView(
        period=(start, end), week=_week(now, target), days_left=max((end - now.date()).days, 0),
        overall_percent=objective_percent(percents), objectives=tuple(objectives), unassigned=unassigned,
        needs_owner=tuple(v for v in items.values() if v.ownership in ("none", "shared", "team")),
        no_movement=tuple(v for v in items.values() if v.stale_days is not None),
        stale_threshold_days=rt.settings.stale_days, done_by_contributor=done_by_contributor(krs, history),
        generated_at=now)


def _objective(objective_id, title, members, items, now, history: History) -> SummaryObjective:
    percent = objective_percent((items[kr.id].percent, kr.weight) for kr in members)
    return SummaryObjective(objective_id, title, percent, tuple(items[kr.id] for kr in members),
                            burnup(members, now, history))


def _period(rt, krs: list[KeyResult], now: datetime) -> tuple[date, date]:
    period = rt.domain.index.period()
    if period:
        return period
    if krs:
        return min(kr.period_start for kr in krs), max(kr.period_end for kr in krs)
    from mappings.okrs_file import current_quarter

    return current_quarter(now.date())


def _week(now: datetime, target: SummaryTarget) -> str:
    from .schedule import iso_week

    return iso_week(now, ZoneInfo(target.timezone))


def render(tracker: str, view: SummaryView) -> str:
    return render_summary(view, MARKUPS[tracker])


def previous_percents(session: Session, target_id: str) -> dict:
    last = session.scalars(select(SummaryPost).where(SummaryPost.target == target_id, SummaryPost.kind == "summary",
                                                     SummaryPost.state == "sent")
                           .order_by(SummaryPost.created_at.desc())).first()
    return dict(last.data.get("percent", {})) if last else {}


