"""One weekly summary over many key results, timed: `build_view` + `render` called directly, in one thread.

A benchmark, not a test: prints figures, on SQLite (a temp file, one fresh database per size).
  (1) the time to build and render the summary of a target covering every key result: 1,000 key results
      with 100 work items each (100,000 work items); target under 1 s;
  (2) the SQL statements it takes, at 100 and at 1,000 key results: the target is that the count does
      not grow with the number of key results (batched queries, not a few per key result).
Setup (not timed): 10 objectives, N key results (their anchors are issues labelled `key-result`, sub-issues of
the objectives' anchors), 100 sub-issues per key result (mixed open/done/dropped, assigned to dev<k>), their
memberships and kept counters, and the history processing would have written: per key result one "created"
event, ~10 "progress" events over the last 8 weeks (the last ones matching its ~5 "state" events of the last
7 days: open → done) and last week's sent summary (for the deltas). All inserted in bulk with SQLAlchemy Core;
the counters are checked against the memberships before anything is timed. The queue is a temp SQLite file
and is not exercised.

Run from the project root: `python3 bench/summary.py`.
  BENCH_SUMMARY_SIZES (default "100 1000": key results per database), BENCH_SUMMARY_ITEMS (100 per key result),
  BENCH_SUMMARY_RUNS (3: the median is reported)
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, select  # noqa: E402

from integration.config import Settings  # noqa: E402
from integration.db import unit_of_work, upgrade  # noqa: E402
from integration.runtime import build_runtime  # noqa: E402
from integration.summaries.build import SummaryTarget, build_view, previous_percents, render  # noqa: E402
from integration.summaries.models import SummaryPost  # noqa: E402
from integration.summaries.schedule import iso_week  # noqa: E402
from mappings.keys import WorkItemKey  # noqa: E402
from mappings.models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SUMMARY_SIZES", "100 1000").split()]
ITEMS = int(os.environ.get("BENCH_SUMMARY_ITEMS", "100"))  # work items per key result
RUNS = int(os.environ.get("BENCH_SUMMARY_RUNS", "3"))
OBJECTIVES, DEVELOPERS, TARGET_MS, CHUNK = 10, 50, 1000, 1000
REPO = "acme/web"
PERIOD = (date(2026, 10, 1), date(2026, 12, 31))
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday, 9:00: when the summary is due
CREATED = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # the key results and their work items appeared
LINKED = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)  # the work items' last change (but those done this week)
TARGET = SummaryTarget(id=f"github:{REPO}#1", anchor=f"github:{REPO}#1", tracker="github", objectives=None,
                container=None)  # the summary issue is key result 1's anchor; it covers every key result


def key(number: int) -> str:
    return f"github:{REPO}#{number}"


def url(number: int) -> str:
    return f"https://github.com/{REPO}/issues/{number}"


def issue(number: int, title: str, state: str, assignees: list, labels: list, parent: int | None,
          updated_at: datetime) -> dict:
    """A work_items row as store_snapshot writes it for a GitHub issue (id 900000 + number)."""
    return {"key": key(number), "tracker": "github", "ref": str(900000 + number), "container": REPO,
            "title": title, "url": url(number), "state": state,
            "state_reason": {"done": "completed", "dropped": "not_planned"}.get(state), "assignees": assignees,
            "labels": labels, "parent_key": key(parent) if parent else None,
            "parent_ref": str(900000 + parent) if parent else None, "parent_changed_at": LINKED if parent else None,
            "milestone": None, "issue_type": None, "estimate": None, "removed": False, "updated_at": updated_at,
            "last_delivery_id": None}


def percent(done: int, total: int) -> float | None:
    return 100.0 * done / total if total else None  # compute_progress, measure "count", no target


# --- setup (not timed) -------------------------------------------------------------------------


class Rows:
    """Every row of one database, in insertion order."""

    def __init__(self) -> None:
        self.objectives, self.key_results, self.items, self.members, self.history = [], [], [], [], []
        self.last_week: dict[str, float | None] = {}
        self.done_this_week = 0
        self._cause = 0

    def record(self, kr_id: str, at: datetime, kind: str, **data) -> None:
        self._cause += 1  # as Context.record writes it, from a delivery
        self.history.append({"kr_id": kr_id, "at": at, "kind": kind, "cause": f"delivery:{self._cause}",
                             "data": data})


def build_rows(n_krs: int, n_items: int, seed: int = 7) -> Rows:
    """Key results #1..#N, objectives #N+1..#N+10, then the key results' sub-issues, N x n_items of them."""
    rng, rows = random.Random(seed), Rows()
    for o in range(OBJECTIVES):
        number = n_krs + 1 + o
        rows.objectives.append({"id": WorkItemKey.parse(key(number)).kr_id, "title": f"Objective {o + 1}",
                                "origin": "tracker", "anchor_key": key(number), "anchor_url": url(number),
                                "period_start": PERIOD[0], "period_end": PERIOD[1], "active": True,
                                "updated_at": CREATED})
        rows.items.append(issue(number, f"Objective {o + 1}", "open", [], ["objective"], None, CREATED))
    next_number = n_krs + OBJECTIVES + 1
    for k in range(1, n_krs + 1):
        kr_id, objective = WorkItemKey.parse(key(k)).kr_id, n_krs + 1 + (k - 1) % OBJECTIVES
        title, owner = f"Key result {k}", [{"login": f"owner{k}", "name": None}]
        rows.items.append(issue(k, title, "open", owner, ["key-result"], objective, CREATED))
        # the sub-issues as they are now: some done this week (open → done, each a state + progress event)
        n_done, n_dropped = rng.randint(n_items // 5, n_items * 4 // 5), rng.randint(0, n_items // 10)
        states = ["done"] * n_done + ["dropped"] * n_dropped + ["open"] * (n_items - n_done - n_dropped)
        rng.shuffle(states)
        numbers = range(next_number, next_number + n_items)
        next_number += n_items
        done_numbers = [n for n, s in zip(numbers, states, strict=True) if s == "done"]
        this_week = sorted(rng.sample(done_numbers, min(len(done_numbers), rng.randint(3, 7))))
        closed_at = {n: NOW - timedelta(days=6, hours=20) + timedelta(hours=(i + 1) * 140 // (len(this_week) + 1))
                     for i, n in enumerate(this_week)}
        for n, state in zip(numbers, states, strict=True):
            dev = [{"login": f"dev{rng.randrange(DEVELOPERS)}", "name": None}]
            rows.items.append(issue(n, f"Task {n}", state, dev, [], k, closed_at.get(n, LINKED)))
            rows.members.append({"kr_id": kr_id, "work_item_key": key(n), "via": "parent", "state": state,
                                 "points": 1.0, "estimated": False, "added_at": LINKED})
        n_open = n_items - n_done - n_dropped
        rows.key_results.append({
            "id": kr_id, "title": title, "objective_id": WorkItemKey.parse(key(objective)).kr_id, "origin": "tracker",
            "anchor_key": key(k), "anchor_url": url(k), "anchor_state": "open", "anchor_assignees": owner,
            "owner_override": None, "measure": "count", "target": None, "weight": None,
            "period_start": PERIOD[0], "period_end": PERIOD[1], "active": True, "ended_at": None,
            "n_open": n_open, "n_done": n_done, "n_dropped": n_dropped, "points_open": float(n_open),
            "points_done": float(n_done), "points_dropped": float(n_dropped), "n_unestimated": n_items,
            "created_at": CREATED, "updated_at": max([LINKED, *closed_at.values()])})
        history(rows, rng, kr_id, title, k, n_done, n_open + n_done, this_week, closed_at)
    return rows


def history(rows: Rows, rng: random.Random, kr_id: str, title: str, k: int, n_done: int, total: int,
            this_week: list[int], closed_at: dict[int, datetime]) -> None:
    """created; ~5 progress events over the 7 weeks before this one; then per item done this week a state event
    and the progress event it caused (the last one leaves the kept counters' numbers)."""
    rows.record(kr_id, CREATED, "created", anchor=key(k), title=title)
    start_done = n_done - len(this_week)  # before this week
    earlier = sorted(rng.sample(range(1, 7 * 7 * 24), rng.randint(4, 6)), reverse=True)  # hours before a week ago
    done = 0
    for i, hours in enumerate(earlier):
        was, done = done, start_done * (i + 1) // len(earlier)
        rows.record(kr_id, NOW - timedelta(days=7, hours=hours), "progress", done=done, total=total,
                    percent=percent(done, total), was_done=was, was_total=total)
    rows.last_week[kr_id] = percent(start_done, total)
    for n in this_week:
        at, actor = closed_at[n], f"dev{rng.randrange(DEVELOPERS)}"
        rows.record(kr_id, at, "state", item=key(n), title=f"Task {n}", url=url(n), was="open", now="done",
                    reason="completed", actor=actor)
        done += 1
        rows.record(kr_id, at, "progress", done=done, total=total, percent=percent(done, total),
                    was_done=done - 1, was_total=total)
    rows.done_this_week += len(this_week)


def insert_rows(rt, rows: Rows) -> None:
    with unit_of_work(rt.sessions) as session:
        for model, batch in ((Objective, rows.objectives), (KeyResult, rows.key_results), (WorkItem, rows.items),
                             (Membership, rows.members), (KeyResultEvent, rows.history)):
            for start in range(0, len(batch), CHUNK):
                session.execute(insert(model), batch[start:start + CHUNK])
        # last week's summary, sent: what the deltas are measured from (as compose stores its data)
        last = NOW - timedelta(days=7)
        session.execute(insert(SummaryPost), [{
            "kind": "summary", "target": TARGET.id, "anchor": TARGET.anchor, "week": iso_week(last, ZoneInfo("UTC")),
            "state": "sent", "body": "(last week's summary)", "data": {"percent": rows.last_week},
            "comment_id": "1", "uncertain": False, "attempts": 1, "last_error": None, "due_at": last,
            "created_at": last, "posted_at": last}])


def check_counters(rt, n_krs: int, n_items: int) -> None:
    """The kept counters are what the memberships add up to (as recount would find them)."""
    column = {"open": "n_open", "done": "n_done", "dropped": "n_dropped"}
    with rt.sessions() as session:
        summed: dict[str, dict[str, int]] = {}
        for kr_id, state, n in session.execute(select(Membership.kr_id, Membership.state, func.count())
                                               .group_by(Membership.kr_id, Membership.state)):
            summed.setdefault(kr_id, {})[column[state]] = n
        krs = list(session.scalars(select(KeyResult)))
        items = session.scalar(select(func.count()).select_from(Membership))
    wrong = [kr.id for kr in krs if any(getattr(kr, name) != summed.get(kr.id, {}).get(name, 0)
                                        or getattr(kr, "points_" + name[2:]) != summed.get(kr.id, {}).get(name, 0)
                                        for name in column.values())]
    if len(krs) != n_krs or items != n_krs * n_items or wrong:
        raise SystemExit(f"bench: {len(krs)} key results, {items} memberships; counters differ for {wrong[:5]}")


# --- the measure -------------------------------------------------------------------------------


def measure(rt, n_krs: int, rows: Rows) -> tuple[float, int, int]:
    """(median ms, statements, body length) of build_view + render, each run in a session of its own."""
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    times, counts, body = [], [], ""
    for _ in range(RUNS):
        with rt.sessions() as session:
            previous = previous_percents(session, TARGET.id)  # what compose passes; not timed
            statements = 0
            event.listen(rt.engine, "before_cursor_execute", count)
            try:
                started = time.perf_counter()
                view = build_view(rt, session, TARGET, NOW, previous)
                body = render(TARGET.tracker, view)
                elapsed = time.perf_counter() - started
            finally:
                event.remove(rt.engine, "before_cursor_execute", count)
        times.append(elapsed * 1000)
        counts.append(statements)
        check_view(view, n_krs, rows)
    if len(set(counts)) != 1:
        print(f"bench summary kr={n_krs}: statements differ between runs: {counts}", file=sys.stderr)
    return statistics.median(times), max(counts), len(body)


def check_view(view, n_krs: int, rows: Rows) -> None:
    """The summary says what was inserted: every key result, every item done this week, a delta for each."""
    krs = [kr for o in view.objectives + view.unassigned for kr in o.key_results]
    done = sum(len(items) for _, items in view.done_by_contributor)
    deltas = sum(kr.delta_points is not None for kr in krs)
    if (len(view.objectives), len(krs), done, deltas) != (OBJECTIVES, n_krs, rows.done_this_week, n_krs):
        raise SystemExit(f"bench: the summary shows {len(view.objectives)} objectives, {len(krs)} key results, "
                         f"{done} items done this week, {deltas} deltas; expected {OBJECTIVES}, {n_krs}, "
                         f"{rows.done_this_week}, {n_krs}")


def run(n_krs: int, work: Path) -> tuple[float, int, int]:
    settings = Settings(database_url=f"sqlite:///{work / 'okrbot.db'}", queue_url=f"sqlite:///{work / 'q.db'}",
                        github_webhook_secrets=("bench-secret",))
    rt = build_runtime(settings)
    try:
        upgrade(rt.engine)
        started = time.perf_counter()
        rows = build_rows(n_krs, ITEMS)
        insert_rows(rt, rows)
        check_counters(rt, n_krs, ITEMS)
        print(f"bench summary kr={n_krs}: setup of {len(rows.items)} work items ({n_krs * ITEMS} under key results), "
              f"{len(rows.members)} memberships, {len(rows.history)} history events in "
              f"{time.perf_counter() - started:.1f} s, counters agree", file=sys.stderr, flush=True)
        return measure(rt, n_krs, rows)
    finally:
        rt.close()


def main() -> None:
    counts: list[int] = []
    for n_krs in SIZES:
        work = Path(tempfile.mkdtemp(prefix="okrbot-bench-summary-"))
        try:
            ms, statements, body = run(n_krs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        line = (f"RESULT summary kr={n_krs} work_items={n_krs * ITEMS} ms={ms:.0f} statements={statements} "
                f"body_chars={body}")
        if counts:  # the largest so far against the smallest: the count must not grow with the key results
            line += f" target_ms={TARGET_MS} statements_grow={'yes' if statements > counts[0] else 'no'}"
        counts.append(statements)
        print(line, flush=True)


if __name__ == "__main__":
    main()
