"""`okrbot recount`: every active key result's members and counters rebuilt from the work items.

The kept counters must always agree with this; what it finds different it reports and repairs.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from .keyresults import Context, _count, _points, memberships_for
from .models import KeyResult, Membership, WorkItem

_COUNTERS = ("n_open", "n_done", "n_dropped", "points_open", "points_done", "points_dropped", "n_unestimated")


def expected_members(ctx: Context) -> dict[str, dict[str, tuple]]:
    """kr id → {work item key: (state, points, estimated, via)}, from the rules alone."""
    expected: dict[str, dict[str, tuple]] = defaultdict(dict)
    items = ctx.session.scalars(select(WorkItem).where(WorkItem.removed.is_(False)).execution_options(yield_per=500))
    for item in items:
        points, estimated = _points(item)
        for kr_id, via in memberships_for(ctx, item).items():
            expected[kr_id][item.key] = (item.state, points, estimated, via)
    return expected


def recount(ctx: Context) -> list[str]:
    """Rebuild; return one line per difference found (empty when the kept counters were right)."""
    expected = expected_members(ctx)
    differences: list[str] = []
    for kr in ctx.session.scalars(select(KeyResult).where(KeyResult.active.is_(True)).order_by(KeyResult.id)):
        differences += _recount_one(ctx, kr, expected.get(kr.id, {}))
    return differences


def _recount_one(ctx: Context, kr: KeyResult, wanted: dict[str, tuple]) -> list[str]:
    found: list[str] = []
    stored = {m.work_item_key: m for m in ctx.session.scalars(select(Membership).where(Membership.kr_id == kr.id))}
    for key in sorted(set(stored) - set(wanted)):
        found.append(f"{kr.id}: {key} counted but does not belong")
        ctx.session.delete(stored.pop(key))
    for key, (state, points, estimated, via) in sorted(wanted.items()):
        member = stored.get(key)
        if member is None:
            found.append(f"{kr.id}: {key} belongs but was not counted")
            ctx.session.add(Membership(kr_id=kr.id, work_item_key=key, via=via, state=state, points=points,
                                       estimated=estimated, added_at=ctx.now))
        elif (member.state, member.points, member.estimated) != (state, points, estimated):
            found.append(f"{kr.id}: {key} counted as {member.state}, is {state}")
            member.state, member.points, member.estimated = state, points, estimated
    before = {name: getattr(kr, name) for name in _COUNTERS}
    for name in _COUNTERS:
        setattr(kr, name, 0 if name.startswith("n_") else 0.0)
    for state, points, estimated, _via in wanted.values():
        _count(kr, state, points, estimated, +1)
    for name in _COUNTERS:
        if abs(getattr(kr, name) - before[name]) > 1e-9:
            found.append(f"{kr.id}: {name} was {before[name]}, is {getattr(kr, name)}")
    return found
