"""A key result as its progress comment shows it: read from the database, handed to the renderers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings.checkins import current_checkins
from mappings.keys import GITHUB, WorkItemKey
from mappings.models import KeyResult, KeyResultEvent, Objective
from mappings.views import Thresholds, contributors, health_of, ownership_of, progress_of, work_items

from .render import Change, CommentView

CHANGE_KINDS = ("state", "added", "removed", "owner")
LATEST = 5


def item_ref(item_key: str, anchor_key: str | None) -> str:
    """#12 in the anchor's own repository, acme/api#3 elsewhere, PROJ-7 on Jira."""
    item = WorkItemKey.parse(item_key)
    anchor = WorkItemKey.parse(anchor_key) if anchor_key else None
    if item.tracker == GITHUB and anchor is not None and anchor.container == item.container:
        return f"#{item.number}"
    return item.short


def _state_words(data: dict, tracker: str) -> str:
    now, reason = data.get("now"), data.get("reason")
    if now == "done":
        return "closed" if tracker == "github" else "done"
    if now == "dropped":
        return f"dropped ({(reason or 'dropped').replace('_', ' ')})"
    return "reopened"


def change_of(event: KeyResultEvent, anchor_key: str | None) -> Change:
    data = event.data
    if event.kind == "owner":
        return Change("Owner", f"is now {data.get('owner') or 'nobody'} ({data.get('status')})")
    ref = item_ref(data["item"], anchor_key)
    tracker = WorkItemKey.parse(data["item"]).tracker
    if event.kind == "state":
        return Change(ref, _state_words(data, tracker), data.get("actor"))
    if event.kind == "added":
        return Change(ref, "added")
    return Change(ref, f"removed ({data.get('reason', 'no longer linked')})")


def latest_changes(session: Session, kr: KeyResult) -> tuple[Change, ...]:
    rows = session.scalars(select(KeyResultEvent).where(KeyResultEvent.kr_id == kr.id,
                                                        KeyResultEvent.kind.in_(CHANGE_KINDS))
                           .order_by(KeyResultEvent.id.desc()).limit(LATEST))
    return tuple(change_of(e, kr.anchor_key) for e in rows)


def _display(person, tracker: str) -> str | None:
    if person is None:
        return None
    return person.login if tracker == "github" else (person.name or person.login)


def comment_view(session: Session, kr: KeyResult, now: datetime, thresholds: Thresholds) -> CommentView:
    tracker = WorkItemKey.parse(kr.anchor_key).tracker if kr.anchor_key else GITHUB
    progress, ownership = progress_of(kr), ownership_of(kr)
    objective = session.get(Objective, kr.objective_id) if kr.objective_id else None
    items = work_items(session, kr.id)
    names = {a["login"]: a.get("name") for i in items for a in i.assignees}
    people = tuple((names.get(c["login"]) or c["login"] if tracker == "jira" else c["login"], c["done"], c["open"])
                   for c in contributors(items))
    return CommentView(
        kr_id=kr.id, title=kr.title, objective=objective.title if objective else None,
        period=(kr.period_start.isoformat(), kr.period_end.isoformat()), measure=progress.measure,
        done=progress.done, dropped=progress.dropped, total=progress.total, target=progress.target,
        percent=progress.percent, unestimated=progress.unestimated, health=health_of(kr, now, thresholds),
        ownership=ownership.status, owner=_display(ownership.owner, tracker),
        others=tuple(_display(o, tracker) for o in ownership.others), team=ownership.team,
        contributors=people, changes=latest_changes(session, kr), updated_at=kr.updated_at,
        checkin=current_checkins(session, [kr.id]).get(kr.id), owner_person=ownership.owner)
