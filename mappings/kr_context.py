"""A unit of work's Context, and how it writes key results: columns queued, counters moved by deltas.

Key-result rows are written by many workers at once, so they are never written back from Python
objects: `set_columns` queues columns, `count` adds a work item's delta to the counters, and `finish`
writes each changed key result once, in id order, with `SET n_done = n_done + :d … RETURNING`, and
records the progress that moved. Domain functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from .progress import Counters, compute_progress
from .rules import Conventions, MappingIndex
from .scope import Scope

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


def touch(ctx: Context, kr: KeyResult) -> None:
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


def points_of(item: WorkItem) -> tuple[float, bool]:
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


def count(ctx: Context, kr_id: str, state: str, points: float, estimated: bool, sign: int) -> None:
    delta = counter_delta(state, points, estimated, sign)
    kept = ctx._deltas.setdefault(kr_id, [0, 0, 0, 0.0, 0.0, 0.0, 0])
    for i, d in enumerate(delta):
        kept[i] += d
