"""`okrbot recount`: every active key result's members and counters rebuilt from the work items.

The kept counters must always agree with this; what it finds different it reports and repairs.
It may run while workers apply: it takes the locks in the apply path's order — every work item
(in key order), then each key result (in id order) — so workers wait for it instead of racing it,
and each key result's counters are set from its membership rows as committed.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from .keyresults import memberships_for
from .kr_context import COUNTERS, Context, counter_delta, points_of
from .models import KeyResult, Membership, WorkItem


def _lock_work_items(ctx: Context) -> None:
    ctx.session.execute(select(WorkItem.key).order_by(WorkItem.key).with_for_update())


def expected_members(ctx: Context) -> dict[str, dict[str, tuple]]:
    """kr id → {work item key: (state, points, estimated, via)}, from the rules alone."""
    expected: dict[str, dict[str, tuple]] = defaultdict(dict)
    items = ctx.session.scalars(select(WorkItem).where(WorkItem.removed.is_(False))
                                .execution_options(yield_per=500, populate_existing=True))
    for item in items:
        points, estimated = points_of(item)
        for kr_id, via in memberships_for(ctx, item).items():
            expected[kr_id][item.key] = (item.state, points, estimated, via)
    return expected


def recount(ctx: Context) -> list[str]:
    """Rebuild; return one line per difference found (empty when the kept counters were right)."""
    _lock_work_items(ctx)
    expected = expected_members(ctx)
    differences: list[str] = []
    ids = ctx.session.scalars(select(KeyResult.id).where(KeyResult.active.is_(True)).order_by(KeyResult.id))
    for kr_id in list(ids):
        kr = ctx.session.get(KeyResult, kr_id, with_for_update=True, populate_existing=True)
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
    totals = [0, 0, 0, 0.0, 0.0, 0.0, 0]
    for state, points, estimated, _via in wanted.values():
        totals = [t + d for t, d in zip(totals, counter_delta(state, points, estimated, +1), strict=True)]
    for name, total in zip(COUNTERS, totals, strict=True):
        if abs(getattr(kr, name) - total) > 1e-9:
            found.append(f"{kr.id}: {name} was {getattr(kr, name)}, is {total}")
            setattr(kr, name, total)  # the row is locked (FOR UPDATE above) and every item with it
    return found
