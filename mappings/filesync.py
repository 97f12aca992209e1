"""okrs.yml into the database: objectives and key results declared in the file, kept in step with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from .keyresults import _update_anchor, attach_existing_work, end_key_result
from .kr_context import Context, finish
from .models import KeyResult, Objective, WorkItem
from .workitems import find_work_item

if TYPE_CHECKING:
    from .okrs_file import KeyResultSpec, MappingFile


def sync_mapping(ctx: Context, mapping: MappingFile | None) -> list[str]:
    """Create, update or end the file's objectives and key results; return the ids of those ended."""
    specs = {kr.id: kr for kr in mapping.key_results()} if mapping else {}
    objectives = {o.id: o for o in mapping.objectives} if mapping else {}
    for objective_id, spec in objectives.items():
        objective = ctx.session.get(Objective, objective_id) or Objective(id=objective_id, origin="file")
        objective.title, objective.active, objective.updated_at = spec.title, True, ctx.now
        objective.period_start, objective.period_end = mapping.period_start, mapping.period_end
        ctx.session.add(objective)
    for objective in ctx.session.scalars(select(Objective).where(Objective.origin == "file",
                                                                 Objective.active.is_(True))):
        if objective.id not in objectives:
            objective.active, objective.updated_at = False, ctx.now
    for spec in specs.values():
        _sync_key_result(ctx, spec, mapping)
    ended = []
    for kr in ctx.session.scalars(select(KeyResult).where(KeyResult.origin == "file", KeyResult.active.is_(True))):
        if kr.id not in specs:
            end_key_result(ctx, kr, "removed from okrs.yml")
            ended.append(kr.id)
    finish(ctx)
    return ended


def _sync_key_result(ctx: Context, spec: KeyResultSpec, mapping: MappingFile) -> None:
    kr = ctx.session.get(KeyResult, spec.id)
    if kr is None:
        kr = KeyResult(id=spec.id, origin="file", created_at=ctx.now, anchor_assignees=[], n_open=0, n_done=0,
                       n_dropped=0, points_open=0.0, points_done=0.0, points_dropped=0.0, n_unestimated=0)
        ctx.session.add(kr)
        ctx.created.add(spec.id)
        ctx.record(spec.id, "created", anchor=None, title=spec.title)
    elif not kr.active:
        ctx.created.add(spec.id)
        ctx.record(spec.id, "created", anchor=kr.anchor_key, title=spec.title)
    kr.origin, kr.active, kr.ended_at, kr.updated_at = "file", True, None, ctx.now
    kr.title, kr.objective_id, kr.owner_override = spec.title, spec.objective_id, spec.owner
    kr.measure, kr.target, kr.weight = spec.measure, spec.target, spec.weight
    kr.period_start, kr.period_end = mapping.period_start, mapping.period_end
    anchor = _anchor_item(ctx, spec)
    if anchor is not None:
        _update_anchor(ctx, kr, anchor)
    else:
        kr.anchor_key = kr.anchor_url = kr.anchor_state = None
        kr.anchor_assignees = []
    ctx.session.flush()
    attach_existing_work(ctx, kr)


def _anchor_item(ctx: Context, spec: KeyResultSpec) -> WorkItem | None:
    """The stored issue / epic of the first issue or epic source (milestone and label sources have none)."""
    anchor = next((source.anchor for source in spec.sources if source.anchor is not None), None)
    return find_work_item(ctx.session, anchor) if anchor is not None else None
