"""Key results and objectives as the read API shows them (and later the comments and summaries)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .kr_context import counters_of
from .models import KeyResult, Membership, Objective, WorkItem
from .progress import (
    Ownership,
    Progress,
    Thresholds,
    compute_health,
    compute_ownership,
    compute_progress,
    objective_percent,
)


def progress_of(kr: KeyResult) -> Progress:
    return compute_progress(kr.measure, counters_of(kr), kr.target, kr.anchor_state)


def ownership_of(kr: KeyResult) -> Ownership:
    return compute_ownership(kr.anchor_assignees or [], kr.owner_override)


def health_of(kr: KeyResult, now: datetime, t: Thresholds) -> str:
    return compute_health(progress_of(kr).percent, kr.period_start, kr.period_end, now, t)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _progress_json(p: Progress) -> dict:
    out = {"measure": p.measure, "done": p.done, "dropped": p.dropped, "total": p.total, "target": p.target,
           "percent": _round(p.display_percent), "raw_percent": _round(p.percent)}
    if p.note:
        out["note"] = p.note
    if p.measure == "points":
        out["unestimated"] = p.unestimated
    return out


def _owner_json(o: Ownership) -> dict | None:
    return {"login": o.owner.login, "name": o.owner.name} if o.owner else None


def _ownership_json(o: Ownership) -> dict:
    out: dict = {"status": o.status}
    if o.others:
        out["others"] = [{"login": p.login, "name": p.name} for p in o.others]
    if o.team:
        out["team"] = o.team
    return out


def work_items(session: Session, kr_id: str) -> list[WorkItem]:
    query = (select(WorkItem).join(Membership, Membership.work_item_key == WorkItem.key)
             .where(Membership.kr_id == kr_id).order_by(WorkItem.key))
    return list(session.scalars(query))


def contributors(items: list[WorkItem]) -> list[dict]:
    """The distinct assignees of the work items, each with items done and open (dropped left out)."""
    tally: dict[str, dict] = defaultdict(lambda: {"done": 0, "open": 0})
    for item in items:
        for person in item.assignees:
            if item.state in ("done", "open"):
                tally[person["login"]][item.state] += 1
            else:
                tally[person["login"]]  # noqa: B018 - listed, with nothing counted
    return [{"login": login, **counts} for login, counts in sorted(tally.items())]


def key_result_json(session: Session, kr: KeyResult, now: datetime, t: Thresholds) -> dict:
    objective = session.get(Objective, kr.objective_id) if kr.objective_id else None
    items = work_items(session, kr.id)
    ownership = ownership_of(kr)
    return {
        "id": kr.id, "title": kr.title, "status": "active" if kr.active else "ended",
        "objective": {"id": objective.id, "title": objective.title} if objective else None,
        "period": {"start": kr.period_start.isoformat(), "end": kr.period_end.isoformat()},
        "anchor": {"key": kr.anchor_key, "url": kr.anchor_url} if kr.anchor_key else None,
        "owner": _owner_json(ownership), "ownership": ownership.status,
        "ownership_detail": _ownership_json(ownership),
        "contributors": contributors(items),
        "progress": _progress_json(progress_of(kr)),
        "health": health_of(kr, now, t),
        "work_items": [{"key": i.key, "title": i.title, "url": i.url, "state": i.state,
                        "assignees": [a["login"] for a in i.assignees]} for i in items],
        "updated_at": kr.updated_at.isoformat(),
    }


def objective_json(session: Session, objective: Objective) -> dict:
    krs = list(session.scalars(select(KeyResult).where(KeyResult.objective_id == objective.id,
                                                       KeyResult.active.is_(True)).order_by(KeyResult.id)))
    percent = objective_percent((progress_of(kr).percent, kr.weight) for kr in krs)
    return {"id": objective.id, "title": objective.title,
            "period": {"start": objective.period_start.isoformat(), "end": objective.period_end.isoformat()},
            "progress": {"percent": _round(percent)}, "key_results": [kr.id for kr in krs]}
