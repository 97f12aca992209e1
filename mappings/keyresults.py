"""Applying changed work items to key results: discovery, ownership, membership and kept counters.

One event touches only the key results its work item belongs to, and the database work per event
does not grow with the size of a key result: each membership row remembers the state it was counted
in, so a change is a subtraction and an addition on the key result's counters.
Domain functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, partial

from sqlalchemy import Text, bindparam, inspect, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

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
from .scope import Scope, label_may_attach

COUNTERS = ("n_open", "n_done", "n_dropped", "points_open", "points_done", "points_dropped", "n_unestimated")


@dataclass
class Context:
    """One unit of work's view of the domain: the session, the mapping and why things change.

    Key-result rows are written by many workers at once, so they are never written back from Python
    objects: counters move by deltas and other columns are queued, and `finish` writes each key result
    once, in id order (the lock order after the work items), with `SET n_done = n_done + :d`.
    """

    session: Session
    index: MappingIndex
    conventions: Conventions
    now: datetime
    default_period: tuple[date, date]
    cause: str | None = None  # "delivery:<id>", "mapping", "recount"
    scope: Scope = field(default_factory=Scope)  # whose work counts (OKRBOT_GITHUB_ALLOWED, ..._JIRA_ALLOWED_SITES)
    actor: str | None = None  # who did it, when the event says
    changed: set[str] = field(default_factory=set)  # key results whose comment may need rewriting
    created: set[str] = field(default_factory=set)  # key results that appeared: to be backfilled
    _before: dict[str, tuple] = field(default_factory=dict)  # (measure, target, anchor_state) at first touch
    _sets: dict[str, dict] = field(default_factory=lambda: defaultdict(dict))  # columns to write, per kr
    _deltas: dict[str, list[float]] = field(default_factory=dict)  # counter deltas, per kr (COUNTERS order)
    _anchor_krs: dict[str, list[str]] = field(default_factory=dict)  # anchor key → kr ids (prefetched)
    # held here: the session's identity map is weak, and a key result read once is read many times
    _krs: dict[str, KeyResult | None] = field(default_factory=dict)
    _members: dict[str, dict[str, Membership]] = field(default_factory=dict)  # item key → kr id → row
    _objectives: dict[str, Objective | None] = field(default_factory=dict)
    _history: list[dict] = field(default_factory=list)

    def period(self) -> tuple[date, date]:
        return self.index.period() or self.default_period

    def record(self, kr_id: str, kind: str, **data) -> None:
        """History, written by `finish` in one statement for the whole unit of work."""
        self.changed.add(kr_id)
        self._history.append({"kr_id": kr_id, "at": self.now, "kind": kind, "cause": self.cause, "data": data})


def set_columns(ctx: Context, kr: KeyResult, **values) -> None:
    """Change a key result's columns: in memory now, in the database in `finish` (never by the ORM)."""
    if inspect(kr).pending:  # not inserted yet: the INSERT carries them
        for name, value in values.items():
            setattr(kr, name, value)
        return
    for name, value in values.items():
        set_committed_value(kr, name, value)
    ctx._sets[kr.id].update(values)


def counters_of(kr: KeyResult) -> Counters:
    return Counters(kr.n_open, kr.n_done, kr.n_dropped, kr.points_open, kr.points_done, kr.points_dropped,
                    kr.n_unestimated)


def _progress(measure: str, target: float | None, anchor_state: str | None, counters: list[float]) -> tuple:
    p = compute_progress(measure, Counters(*counters), target, anchor_state)
    return p.done, p.total, p.percent


def _touch(ctx: Context, kr: KeyResult) -> None:
    ctx.changed.add(kr.id)
    ctx._before.setdefault(kr.id, (kr.measure, kr.target, kr.anchor_state))
    set_columns(ctx, kr, updated_at=ctx.now)


# Core, one INSERT for the unit's rows (RETURNING lets SQLAlchemy send them as one multi-row statement)
_HISTORY_INSERT = KeyResultEvent.__table__.insert().returning(KeyResultEvent.__table__.c.id)


@cache
def _kr_update(sets: tuple[str, ...], moves: tuple[str, ...]):
    """`UPDATE key_results SET col = :set_col, counter = counter + :add_counter … RETURNING` the counters.

    Built once per shape of change: a statement built per key result and unit of work cost more CPU than
    the database spent on it. Counters still move only by SQL deltas.
    """
    table = KeyResult.__table__
    values = {n: bindparam(f"set_{n}", type_=table.c[n].type) for n in sets}
    values |= {n: table.c[n] + bindparam(f"add_{n}", type_=table.c[n].type) for n in moves}
    return (table.update().where(table.c.id == bindparam("kr_id")).values(values)
            .returning(*(table.c[n] for n in COUNTERS), table.c.measure, table.c.target, table.c.anchor_state))


def finish(ctx: Context) -> None:
    """Write every key result this unit of work changed, in id order; record progress that moved."""
    ctx.session.flush()  # new key results and memberships first
    moved = []
    for kr_id in sorted(set(ctx._sets) | set(ctx._deltas)):
        sets = ctx._sets.get(kr_id, {})
        delta = ctx._deltas.get(kr_id, [0] * len(COUNTERS))
        moves = {name: d for name, d in zip(COUNTERS, delta, strict=True) if d}
        if not sets and not moves:
            continue
        params = {"kr_id": kr_id} | {f"set_{n}": v for n, v in sets.items()} | {f"add_{n}": d for n, d in moves.items()}
        returned = ctx.session.connection().execute(_kr_update(tuple(sorted(sets)), tuple(moves)), params).one()
        after_counters = list(returned[:len(COUNTERS)])
        before = ctx._before.get(kr_id)
        if before is None:
            continue
        after = _progress(returned.measure, returned.target, returned.anchor_state, after_counters)
        was = _progress(*before, [a - d for a, d in zip(after_counters, delta, strict=True)])
        if after != was:
            moved.append((kr_id, after, was))
    for kr_id, after, was in moved:
        ctx.record(kr_id, "progress", done=after[0], total=after[1], percent=after[2],
                   was_done=was[0], was_total=was[1])
    if ctx._history:
        ctx.session.execute(_HISTORY_INSERT, ctx._history)
        ctx._history = []
    ctx._sets.clear()
    ctx._deltas.clear()
    ctx._before.clear()


# --- membership ---------------------------------------------------------------------------------


def get_kr(ctx: Context, kr_id: str) -> KeyResult | None:
    if kr_id not in ctx._krs:
        ctx._krs[kr_id] = ctx.session.get(KeyResult, kr_id)
    return ctx._krs[kr_id]


def _active_kr(ctx: Context, kr_id: str) -> KeyResult | None:
    kr = get_kr(ctx, kr_id)
    return kr if kr is not None and kr.active else None


def _members_of(ctx: Context, key: str) -> dict[str, Membership]:
    if key not in ctx._members:
        ctx._members[key] = {m.kr_id: m for m in ctx.session.scalars(
            select(Membership).where(Membership.work_item_key == key))}
    return ctx._members[key]


def _anchor_kr(ctx: Context, anchor_key: str) -> KeyResult | None:
    kr_id = ctx.index.file_kr_for_anchor(anchor_key)
    if kr_id is not None:
        return _active_kr(ctx, kr_id)
    ids = ctx._anchor_krs.get(anchor_key)
    if ids is None:
        ids = list(ctx.session.scalars(select(KeyResult.id).where(KeyResult.anchor_key == anchor_key)))
    # active as this unit of work has it: `finish` writes a (re)activation only at the end
    return next((kr for kr in map(partial(_active_kr, ctx), ids) if kr is not None), None)


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
        if _active_kr(ctx, kr_id) is not None and label_may_attach(ctx.scope, item.tracker, item.container,
                                                                   ctx.index.homes.get(kr_id)):
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


_INDEX = {"open": (0, 3), "done": (1, 4), "dropped": (2, 5)}  # state → (count, points) in COUNTERS


def counter_delta(state: str, points: float, estimated: bool, sign: int) -> list[float]:
    """What counting (sign +1) or uncounting (-1) one work item does to the COUNTERS."""
    delta = [0, 0, 0, 0.0, 0.0, 0.0, 0]
    n, p = _INDEX.get(state, _INDEX["open"])
    delta[n], delta[p] = sign, sign * points
    if not estimated:
        delta[6] = sign
    return delta


def _count(ctx: Context, kr_id: str, state: str, points: float, estimated: bool, sign: int) -> None:
    delta = counter_delta(state, points, estimated, sign)
    kept = ctx._deltas.setdefault(kr_id, [0, 0, 0, 0.0, 0.0, 0.0, 0])
    for i, d in enumerate(delta):
        kept[i] += d


def sync_memberships(ctx: Context, item: WorkItem) -> None:
    """Bring the item's memberships and their counted state in line with the item as stored now."""
    wanted = memberships_for(ctx, item)
    current = dict(_members_of(ctx, item.key))
    points, estimated = _points(item)
    for kr_id, member in current.items():
        kr = get_kr(ctx, kr_id)
        if kr_id not in wanted:
            _leave(ctx, kr, member, item)
        elif (member.state, member.points, member.estimated) != (item.state, points, estimated):
            _touch(ctx, kr)
            _count(ctx, kr_id, member.state, member.points, member.estimated, -1)
            _count(ctx, kr_id, item.state, points, estimated, +1)
            if member.state != item.state:
                ctx.record(kr_id, "state", item=item.key, title=item.title, url=item.url,
                           was=member.state, now=item.state, reason=item.state_reason, actor=ctx.actor)
            member.state, member.points, member.estimated = item.state, points, estimated
    for kr_id, via in wanted.items():
        if kr_id not in current:
            _join(ctx, get_kr(ctx, kr_id), item, via, points, estimated)


def _join(ctx: Context, kr: KeyResult, item: WorkItem, via: str, points: float, estimated: bool) -> None:
    _touch(ctx, kr)
    _count(ctx, kr.id, item.state, points, estimated, +1)
    member = Membership(kr_id=kr.id, work_item_key=item.key, via=via, state=item.state, points=points,
                        estimated=estimated, added_at=ctx.now)
    ctx.session.add(member)
    _members_of(ctx, item.key)[kr.id] = member
    ctx.record(kr.id, "added", item=item.key, title=item.title, url=item.url, state=item.state, via=via,
               actor=ctx.actor)


def _leave(ctx: Context, kr: KeyResult, member: Membership, item: WorkItem) -> None:
    if kr.active:
        _touch(ctx, kr)
        _count(ctx, kr.id, member.state, member.points, member.estimated, -1)
        ctx.session.delete(member)
        _members_of(ctx, item.key).pop(kr.id, None)
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
        kr = get_kr(ctx, file_kr_id)
        if kr is not None and kr.active:
            if kr.anchor_key is None or kr.anchor_key == item.key:
                _update_anchor(ctx, kr, item)
        return []
    kr = get_kr(ctx, WorkItemKey.parse(item.key).kr_id)
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
                       period_end=end, active=True, created_at=ctx.now, updated_at=ctx.now, title=item.title,
                       anchor_key=item.key, anchor_assignees=[], n_open=0, n_done=0, n_dropped=0,
                       points_open=0.0, points_done=0.0, points_dropped=0.0, n_unestimated=0)
        ctx.session.add(kr)
        ctx._krs[kr.id] = kr
    if created:
        set_columns(ctx, kr, active=True, ended_at=None)
        ctx.created.add(kr.id)
        ctx.record(kr.id, "created", anchor=item.key, title=item.title)
    if kr.title != item.title:
        set_columns(ctx, kr, updated_at=ctx.now)
        ctx.changed.add(kr.id)
    set_columns(ctx, kr, title=item.title, anchor_key=item.key, objective_id=_objective_of(ctx, item))
    _update_anchor(ctx, kr, item)
    return [kr] if created else []


def _update_anchor(ctx: Context, kr: KeyResult, item: WorkItem) -> None:
    before = compute_ownership(kr.anchor_assignees or [], kr.owner_override)
    if (kr.anchor_state, kr.anchor_key, kr.anchor_url) != (item.state, item.key, item.url):
        _touch(ctx, kr)
    set_columns(ctx, kr, anchor_key=item.key, anchor_url=item.url, anchor_state=item.state,
                anchor_assignees=list(item.assignees))
    after = compute_ownership(kr.anchor_assignees, kr.owner_override)
    if after != before:
        set_columns(ctx, kr, updated_at=ctx.now)
        ctx.record(kr.id, "owner", status=after.status, owner=after.owner.login if after.owner else None,
                   was_status=before.status, was_owner=before.owner.login if before.owner else None,
                   others=[o.login for o in after.others])


def end_key_result(ctx: Context, kr: KeyResult, reason: str) -> None:
    set_columns(ctx, kr, active=False, ended_at=ctx.now, updated_at=ctx.now)
    ctx.record(kr.id, "ended", reason=reason)


def _objective_of(ctx: Context, item: WorkItem) -> str | None:
    if not item.parent_key:
        return None
    objective = ctx.session.scalar(select(Objective).where(Objective.anchor_key == item.parent_key))
    return objective.id if objective is not None and objective.active else None


def _sync_objective(ctx: Context, item: WorkItem) -> None:
    objective_id = WorkItemKey.parse(item.key).kr_id
    if objective_id not in ctx._objectives:
        ctx._objectives[objective_id] = ctx.session.get(Objective, objective_id)
    objective = ctx._objectives[objective_id]
    qualifies = not item.removed and is_convention_objective(item.labels, item.issue_type, ctx.conventions)
    if not qualifies:
        if objective is not None and objective.active and objective.origin == "tracker":
            objective.active, objective.updated_at = False, ctx.now
            _set_objective_of_children(ctx, item.key, None)
        return
    if objective is None:
        start, end = ctx.period()
        objective = Objective(id=objective_id, origin="tracker", period_start=start, period_end=end)
        ctx.session.add(objective)
        ctx._objectives[objective_id] = objective
    objective.title, objective.anchor_key, objective.anchor_url = item.title, item.key, item.url
    objective.active, objective.updated_at = True, ctx.now
    _set_objective_of_children(ctx, item.key, objective.id)


def _set_objective_of_children(ctx: Context, objective_key: str, objective_id: str | None) -> None:
    # the key-result sub-issues (epics) of an objective belong to it; found through their anchors
    child_keys = select(WorkItem.key).where(WorkItem.parent_key == objective_key)
    for kr in ctx.session.scalars(select(KeyResult).where(KeyResult.anchor_key.in_(child_keys),
                                                          KeyResult.origin == "tracker")):
        if kr.objective_id != objective_id:
            set_columns(ctx, kr, objective_id=objective_id)


# --- entry points -------------------------------------------------------------------------------


Attribution = dict[str, tuple[str | None, str | None]]  # work item key → (actor, cause) of its change


def apply_items(ctx: Context, items: list[WorkItem], attribution: Attribution | None = None) -> None:
    """What changed work items mean for key results: anchors first, then memberships.

    The items are locked by the caller (the work-item upsert), in key order; key-result rows are
    written last, by `finish`, in id order.
    """
    attribution = attribution or {}
    default = (ctx.actor, ctx.cause)

    def attribute(item: WorkItem) -> None:
        ctx.actor, ctx.cause = attribution.get(item.key, default)

    new_krs: list[KeyResult] = []
    _prefetch_anchored(ctx, items)
    for item in items:
        attribute(item)
        new_krs += sync_anchor(ctx, item)
    ctx.session.flush()
    _prefetch(ctx, items)
    with ctx.session.no_autoflush:  # one flush for the whole batch's rows, not one per query
        for item in items:
            attribute(item)
            sync_memberships(ctx, item)
    ctx.actor, ctx.cause = default
    for kr in new_krs:
        attach_existing_work(ctx, kr)
    finish(ctx)


# The prefetch queries, built once: the lists are parameters (a statement built per unit of work costs
# more CPU than SQLite spends running it).
_MEMBERS_OF = select(Membership).where(Membership.work_item_key.in_(bindparam("keys", expanding=True)))
_KRS_ANCHORED_AT = select(KeyResult).where(KeyResult.anchor_key.in_(bindparam("keys", expanding=True)))
_KRS = select(KeyResult).where(KeyResult.id.in_(bindparam("ids", expanding=True)))
_OBJECTIVES = select(Objective).where(Objective.id.in_(bindparam("ids", expanding=True)))


def _prefetch(ctx: Context, items: list[WorkItem]) -> None:
    """What the items' memberships need, in a few queries instead of several per item."""
    keys = [i.key for i in items if i.key not in ctx._members]
    parents = sorted({i.parent_key for i in items if i.parent_key} - set(ctx._anchor_krs))
    if keys:
        for key in keys:
            ctx._members[key] = {}
        for m in ctx.session.scalars(_MEMBERS_OF, {"keys": keys}):
            ctx._members[m.work_item_key][m.kr_id] = m
    if parents:
        found: dict[str, list[str]] = defaultdict(list)
        for kr in ctx.session.scalars(_KRS_ANCHORED_AT, {"keys": parents}):
            found[kr.anchor_key].append(kr.id)
            ctx._krs.setdefault(kr.id, kr)
        ctx._anchor_krs.update({key: found.get(key, []) for key in parents})
    wanted = sorted({kr_id for key in keys for kr_id in ctx._members[key]} - set(ctx._krs))
    if wanted:
        for kr in ctx.session.scalars(_KRS, {"ids": wanted}):
            ctx._krs[kr.id] = kr


def _prefetch_anchored(ctx: Context, items: list[WorkItem]) -> None:
    """The key results and objectives the items may anchor, in two queries."""
    ids = sorted({WorkItemKey.parse(i.key).kr_id for i in items}
                 | {ctx.index.file_kr_for_anchor(i.key) or "" for i in items})
    missing = [i for i in ids if i and i not in ctx._krs]
    if missing:
        ctx._krs.update(dict.fromkeys(missing))
        for kr in ctx.session.scalars(_KRS, {"ids": missing}):
            ctx._krs[kr.id] = kr
    missing = [i for i in ids if i and i not in ctx._objectives]
    if missing:
        ctx._objectives.update(dict.fromkeys(missing))
        for objective in ctx.session.scalars(_OBJECTIVES, {"ids": missing}):
            ctx._objectives[objective.id] = objective


def candidates(ctx: Context, kr: KeyResult) -> list[WorkItem]:
    """Stored work items that may count toward this key result (on discovery, reload, recount)."""
    session = ctx.session
    spec = ctx.index.spec(kr.id) if kr.origin == "file" else None
    conditions = [source.counted() for source in spec.sources] if spec else []
    if kr.anchor_key:  # stored as the tracker spells it, as the children's parent_key is
        conditions.append(WorkItem.parent_key == kr.anchor_key)
    labels = WorkItem.labels.cast(Text)  # JSON text: '["okr:signups", ...]'
    conditions += [labels.ilike(f'%"{okr_label_for(t, kr.id)}"%') for t in ("github", "jira")]
    members = select(Membership.work_item_key).where(Membership.kr_id == kr.id)
    # locked, in key order: their memberships are written as no other worker can change the items
    query = (select(WorkItem).where(or_(*conditions, WorkItem.key.in_(members))).order_by(WorkItem.key)
             .with_for_update().execution_options(populate_existing=True))
    return list(session.scalars(query))


def attach_existing_work(ctx: Context, kr: KeyResult) -> None:
    """A key result that appears already has work stored (children that arrived first, labels)."""
    for item in candidates(ctx, kr):
        if item.key != kr.anchor_key:
            sync_memberships(ctx, item)
