"""Applying changed work items to key results: discovery, ownership, membership and kept counters.

One event touches only the key results its work item belongs to, and the database work per event
does not grow with the size of a key result: each membership row remembers the state it was counted
in, so a change is a subtraction and an addition on the key result's counters.
Domain functions take the caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Text, or_, select
from sqlalchemy.orm import Session

from .keys import WorkItemKey
from .models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from .progress import Counters, compute_ownership, compute_progress
from .rules import (
    Conventions,
    MappingIndex,
    is_convention_kr,
    is_convention_objective,
    okr_label_for,
    okr_label_ids,
)


@dataclass
class Context:
    """One unit of work's view of the domain: the session, the mapping and why things change."""

    session: Session
    index: MappingIndex
    conventions: Conventions
    now: datetime
    default_period: tuple[date, date]
    cause: str | None = None  # "delivery:<id>", "mapping", "recount"
    actor: str | None = None  # who did it, when the event says
    changed: set[str] = field(default_factory=set)  # key results whose comment may need rewriting
    created: set[str] = field(default_factory=set)  # key results that appeared: to be backfilled
    _before: dict[str, tuple] = field(default_factory=dict)

    def period(self) -> tuple[date, date]:
        return self.index.period() or self.default_period

    def record(self, kr_id: str, kind: str, **data) -> None:
        self.changed.add(kr_id)
        self.session.add(KeyResultEvent(kr_id=kr_id, at=self.now, kind=kind, cause=self.cause, data=data))


def counters_of(kr: KeyResult) -> Counters:
    return Counters(kr.n_open, kr.n_done, kr.n_dropped, kr.points_open, kr.points_done, kr.points_dropped,
                    kr.n_unestimated)


def _snapshot(kr: KeyResult) -> tuple:
    p = compute_progress(kr.measure, counters_of(kr), kr.target, kr.anchor_state)
    return p.done, p.total, p.percent


def _touch(ctx: Context, kr: KeyResult) -> None:
    ctx.changed.add(kr.id)
    ctx._before.setdefault(kr.id, _snapshot(kr))
    kr.updated_at = ctx.now


def finish(ctx: Context) -> None:
    """Record a progress event for every key result whose numbers changed in this unit of work."""
    for kr_id, before in ctx._before.items():
        kr = ctx.session.get(KeyResult, kr_id)
        after = _snapshot(kr)
        if after != before:
            ctx.record(kr_id, "progress", done=after[0], total=after[1], percent=after[2],
                       was_done=before[0], was_total=before[1])
    ctx._before.clear()


# --- membership ---------------------------------------------------------------------------------


def _active_kr(ctx: Context, kr_id: str) -> KeyResult | None:
    kr = ctx.session.get(KeyResult, kr_id)
    return kr if kr is not None and kr.active else None


def _anchor_kr(ctx: Context, anchor_key: str) -> KeyResult | None:
    kr_id = ctx.index.file_kr_for_anchor(anchor_key)
    if kr_id is None:
        kr_id = ctx.session.scalar(select(KeyResult.id).where(KeyResult.anchor_key == anchor_key,
                                                               KeyResult.active.is_(True)))
    return _active_kr(ctx, kr_id) if kr_id else None


def memberships_for(ctx: Context, item: WorkItem) -> dict[str, str]:
    """The key results this work item counts toward, each with why (kr id → via)."""
    if item.removed:
        return {}
    found: dict[str, str] = {}
    if item.parent_key:
        parent_kr = _anchor_kr(ctx, item.parent_key)
        if parent_kr is not None:
            found[parent_kr.id] = "parent"
    for kr_id in okr_label_ids(item.tracker, item.labels):
        if _active_kr(ctx, kr_id) is not None:
            found.setdefault(kr_id, "okr label")
    for kr_id, via in ctx.index.source_memberships(item.tracker, item.container, item.milestone,
                                                    item.labels).items():
        if _active_kr(ctx, kr_id) is not None:
            found.setdefault(kr_id, via)
    own = _own_kr_id(ctx, item)
    found.pop(own, None)  # a key result's anchor is not a work item of itself
    return found


def _own_kr_id(ctx: Context, item: WorkItem) -> str | None:
    return ctx.index.file_kr_for_anchor(item.key) or WorkItemKey.parse(item.key).kr_id


def _points(item: WorkItem) -> tuple[float, bool]:
    return (item.estimate, True) if item.estimate is not None else (1.0, False)


def _count(kr: KeyResult, state: str, points: float, estimated: bool, sign: int) -> None:
    if state == "done":
        kr.n_done += sign
        kr.points_done += sign * points
    elif state == "dropped":
        kr.n_dropped += sign
        kr.points_dropped += sign * points
    else:
        kr.n_open += sign
        kr.points_open += sign * points
    if not estimated:
        kr.n_unestimated += sign


def sync_memberships(ctx: Context, item: WorkItem) -> None:
    """Bring the item's memberships and their counted state in line with the item as stored now."""
    wanted = memberships_for(ctx, item)
    current = {m.kr_id: m for m in ctx.session.scalars(
        select(Membership).where(Membership.work_item_key == item.key))}
    points, estimated = _points(item)
    for kr_id, member in current.items():
        kr = ctx.session.get(KeyResult, kr_id)
        if kr_id not in wanted:
            _leave(ctx, kr, member, item)
        elif (member.state, member.points, member.estimated) != (item.state, points, estimated):
            _touch(ctx, kr)
            _count(kr, member.state, member.points, member.estimated, -1)
            _count(kr, item.state, points, estimated, +1)
            if member.state != item.state:
                ctx.record(kr_id, "state", item=item.key, title=item.title, url=item.url,
                           was=member.state, now=item.state, reason=item.state_reason, actor=ctx.actor)
            member.state, member.points, member.estimated = item.state, points, estimated
    for kr_id, via in wanted.items():
        if kr_id not in current:
            _join(ctx, ctx.session.get(KeyResult, kr_id), item, via, points, estimated)


def _join(ctx: Context, kr: KeyResult, item: WorkItem, via: str, points: float, estimated: bool) -> None:
    _touch(ctx, kr)
    _count(kr, item.state, points, estimated, +1)
    ctx.session.add(Membership(kr_id=kr.id, work_item_key=item.key, via=via, state=item.state,
                               points=points, estimated=estimated, added_at=ctx.now))
    ctx.record(kr.id, "added", item=item.key, title=item.title, url=item.url, state=item.state, via=via,
               actor=ctx.actor)


def _leave(ctx: Context, kr: KeyResult, member: Membership, item: WorkItem) -> None:
    if kr.active:
        _touch(ctx, kr)
        _count(kr, member.state, member.points, member.estimated, -1)
        ctx.session.delete(member)
        reason = "removed from the tracker" if item.removed else "no longer linked"
        ctx.record(kr.id, "removed", item=item.key, title=item.title, url=item.url, reason=reason,
                   actor=ctx.actor)
    # an ended key result keeps its members as they were: its history stays readable


# --- anchors: discovery, ownership, objectives ------------------------------------------------


def sync_anchor(ctx: Context, item: WorkItem) -> list[KeyResult]:
    """Create, update or end the key result / objective this item anchors; return new key results."""
    _sync_objective(ctx, item)
    file_kr_id = ctx.index.file_kr_for_anchor(item.key)
    if file_kr_id is not None:
        kr = ctx.session.get(KeyResult, file_kr_id)
        if kr is not None and kr.active:
            if kr.anchor_key is None or kr.anchor_key == item.key:
                _update_anchor(ctx, kr, item)
        return []
    kr = ctx.session.get(KeyResult, WorkItemKey.parse(item.key).kr_id)
    qualifies = not item.removed and is_convention_kr(item.tracker, item.labels, item.issue_type, ctx.conventions)
    if qualifies:
        return _upsert_convention_kr(ctx, kr, item)
    if kr is not None and kr.active and kr.origin == "tracker":
        end_key_result(ctx, kr, "anchor removed" if item.removed else "label or type removed")
    return []


def _upsert_convention_kr(ctx: Context, kr: KeyResult | None, item: WorkItem) -> list[KeyResult]:
    created = kr is None or not kr.active
    if kr is None:
        start, end = ctx.period()
        kr = KeyResult(id=WorkItemKey.parse(item.key).kr_id, origin="tracker", measure="count", period_start=start,
                       period_end=end, active=True, created_at=ctx.now, updated_at=ctx.now,
                       anchor_assignees=[], n_open=0, n_done=0, n_dropped=0, points_open=0.0,
                       points_done=0.0, points_dropped=0.0, n_unestimated=0)
        ctx.session.add(kr)
    if created:
        kr.active, kr.ended_at = True, None
        ctx.created.add(kr.id)
        ctx.record(kr.id, "created", anchor=item.key, title=item.title)
    if kr.title != item.title:
        kr.updated_at = ctx.now
        ctx.changed.add(kr.id)
    kr.title, kr.anchor_key = item.title, item.key
    kr.objective_id = _objective_of(ctx, item)
    _update_anchor(ctx, kr, item)
    return [kr] if created else []


def _update_anchor(ctx: Context, kr: KeyResult, item: WorkItem) -> None:
    before = compute_ownership(kr.anchor_assignees or [], kr.owner_override)
    if (kr.anchor_state, kr.anchor_key, kr.anchor_url) != (item.state, item.key, item.url):
        _touch(ctx, kr)
    kr.anchor_key, kr.anchor_url, kr.anchor_state = item.key, item.url, item.state
    kr.anchor_assignees = list(item.assignees)
    after = compute_ownership(kr.anchor_assignees, kr.owner_override)
    if after != before:
        kr.updated_at = ctx.now
        ctx.record(kr.id, "owner", status=after.status, owner=after.owner.login if after.owner else None,
                   was_status=before.status, was_owner=before.owner.login if before.owner else None,
                   others=[o.login for o in after.others])


def end_key_result(ctx: Context, kr: KeyResult, reason: str) -> None:
    kr.active, kr.ended_at, kr.updated_at = False, ctx.now, ctx.now
    ctx.record(kr.id, "ended", reason=reason)


def _objective_of(ctx: Context, item: WorkItem) -> str | None:
    if not item.parent_key:
        return None
    objective = ctx.session.scalar(select(Objective).where(Objective.anchor_key == item.parent_key))
    return objective.id if objective is not None and objective.active else None


def _sync_objective(ctx: Context, item: WorkItem) -> None:
    objective = ctx.session.get(Objective, WorkItemKey.parse(item.key).kr_id)
    qualifies = not item.removed and is_convention_objective(item.labels, item.issue_type, ctx.conventions)
    if not qualifies:
        if objective is not None and objective.active and objective.origin == "tracker":
            objective.active, objective.updated_at = False, ctx.now
            _set_objective_of_children(ctx, item.key, None)
        return
    if objective is None:
        start, end = ctx.period()
        objective = Objective(id=WorkItemKey.parse(item.key).kr_id, origin="tracker", period_start=start,
                              period_end=end)
        ctx.session.add(objective)
    objective.title, objective.anchor_key, objective.anchor_url = item.title, item.key, item.url
    objective.active, objective.updated_at = True, ctx.now
    _set_objective_of_children(ctx, item.key, objective.id)


def _set_objective_of_children(ctx: Context, objective_key: str, objective_id: str | None) -> None:
    # the key-result sub-issues (epics) of an objective belong to it; found through their anchors
    child_keys = select(WorkItem.key).where(WorkItem.parent_key == objective_key)
    for kr in ctx.session.scalars(select(KeyResult).where(KeyResult.anchor_key.in_(child_keys),
                                                          KeyResult.origin == "tracker")):
        kr.objective_id = objective_id


# --- entry points -------------------------------------------------------------------------------


def apply_items(ctx: Context, items: list[WorkItem]) -> None:
    """What changed work items mean for key results: anchors first, then memberships."""
    new_krs: list[KeyResult] = []
    for item in items:
        new_krs += sync_anchor(ctx, item)
    ctx.session.flush()
    for item in items:
        sync_memberships(ctx, item)
    for kr in new_krs:
        attach_existing_work(ctx, kr)
    finish(ctx)


def candidates(ctx: Context, kr: KeyResult) -> list[WorkItem]:
    """Stored work items that may count toward this key result (on discovery, reload, recount)."""
    session = ctx.session
    spec = ctx.index.spec(kr.id) if kr.origin == "file" else None
    conditions = [source.counted() for source in spec.sources] if spec else []
    if kr.anchor_key:  # stored as the tracker spells it, as the children's parent_key is
        conditions.append(WorkItem.parent_key == kr.anchor_key)
    labels = WorkItem.labels.cast(Text)  # JSON text: '["okr:signups", ...]'
    conditions += [labels.ilike(f'%"{okr_label_for(t, kr.id)}"%') for t in ("github", "jira")]
    items = list(session.scalars(select(WorkItem).where(or_(*conditions))))
    members = select(Membership.work_item_key).where(Membership.kr_id == kr.id)
    items += list(session.scalars(select(WorkItem).where(WorkItem.key.in_(members))))
    return list({i.key: i for i in items}.values())


def attach_existing_work(ctx: Context, kr: KeyResult) -> None:
    """A key result that appears already has work stored (children that arrived first, labels)."""
    for item in candidates(ctx, kr):
        if item.key != kr.anchor_key:
            sync_memberships(ctx, item)
