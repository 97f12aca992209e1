"""What one worker does per delivery, timed: `process_delivery` called directly, in one thread, one delivery a batch.

A benchmark, not a test: prints figures, on SQLite (a temp file) and on PostgreSQL (a fresh database).
  (1) events applied per second by one worker: close/reopen `issues` events on the sub-issues of a key
      result with ~100 work items;
  (2) the cost of one event on a key result with 10 vs 10,000 work items (the kept counters are meant to
      make it independent of the size: target large/small <= 1.5), and SQL statements per event.
Setup (not timed): each key result is created, and its first sub-issues linked, through real deliveries;
the rest of its work items and memberships are inserted in bulk, built from the same parsed snapshots
processing would store, checked against the real rows, then `okrbot recount` sets the counters and must
find nothing else to repair. The queue is a temp SQLite file and is not exercised.

Run from the project root: `python3 bench/apply.py` (it imports tests.payloads).
  BENCH_PG_SERVER (default postgresql://postgres@127.0.0.1:5432), BENCH_APPLY_DBS ("sqlite pg"),
  BENCH_APPLY_EVENTS (2000), BENCH_APPLY_SAMPLES (500), BENCH_APPLY_LARGE (10000)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, select  # noqa: E402

from integration.apply.processing import process_delivery  # noqa: E402
from integration.config import Settings  # noqa: E402
from integration.db import unit_of_work, upgrade  # noqa: E402
from integration.runtime import build_runtime  # noqa: E402
from mappings.keys import WorkItemKey  # noqa: E402
from mappings.kr_context import points_of  # noqa: E402
from mappings.models import KeyResult, Membership, WorkItem  # noqa: E402
from mappings.recount import recount  # noqa: E402
from mappings.workitems import item_fields, parent_fields  # noqa: E402
from tests.payloads import REPO, github_issue, github_issues_event, github_sub_issue_event  # noqa: E402
from webhooks import github  # noqa: E402
from webhooks.inbox import IncomingDelivery  # noqa: E402
from webhooks.models import PROCESSED, Delivery  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
PG_DB = "okrbot_bench_apply"
DBS = os.environ.get("BENCH_APPLY_DBS", "sqlite pg").split()
EVENTS = int(os.environ.get("BENCH_APPLY_EVENTS", "2000"))  # (1): deliveries timed
SAMPLES = int(os.environ.get("BENCH_APPLY_SAMPLES", "500"))  # (2): events timed per key result
LARGE = int(os.environ.get("BENCH_APPLY_LARGE", "10000"))
SMALL, THROUGHPUT_ITEMS, WARMUP, REAL_LINKS = 10, 100, 20, 2

LINKED_AT = "2026-01-01T00:00:00Z"  # the work items' state at setup; every timed event is newer
EVENTS_FROM = datetime(2026, 2, 1, tzinfo=UTC)

# issue numbers: the anchor, then its sub-issues (anchor+1 ... anchor+n)
THROUGHPUT_KR, SMALL_KR, LARGE_KR = 1000, 2000, 100000


def stamp(seconds: int) -> str:
    return (EVENTS_FROM + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def store(rt, event_name: str, body: dict) -> int:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event_name}
    return rt.inbox.store(IncomingDelivery("github", str(uuid.uuid4()), event_name, body.get("action"), headers,
                                           raw, datetime.now(UTC)))


def process(rt, delivery_pk: int) -> None:
    if process_delivery(rt, delivery_pk) is not None:
        raise SystemExit(f"bench: delivery {delivery_pk} failed (see the log above)")


def anchor(number: int) -> dict:
    return github_issue(number, title=f"Key result {number}", labels=("key-result",), updated_at=LINKED_AT)


def child(number: int, state: str = "open", updated_at: str = LINKED_AT) -> dict:
    return github_issue(number, state=state, state_reason="completed" if state == "closed" else None,
                        updated_at=updated_at)


# --- setup (not timed) -------------------------------------------------------------------------


def build_key_result(rt, number: int, n_items: int) -> str:
    """A key result (issue `number`, labelled) with `n_items` open sub-issues; returns its id."""
    parent = anchor(number)
    process(rt, store(rt, "issues", github_issues_event("opened", parent)))
    kr_id = WorkItemKey.github(REPO, number).kr_id
    numbers = range(number + 1, number + 1 + n_items)
    for n in numbers[:REAL_LINKS]:  # through the real path: the reference rows for the bulk ones
        process(rt, store(rt, "sub_issues", github_sub_issue_event("sub_issue_added", parent, child(n))))
    items, members, now = [], [], datetime.now(UTC)
    for n in numbers[REAL_LINKS:]:
        body = github_sub_issue_event("sub_issue_added", parent, child(n))
        [linked] = github.parse("sub_issues", body, rt.github_options).events
        snap = linked.item  # what apply_to_work_items / sync_memberships store for it
        items.append({"key": snap.key, "removed": False, **item_fields(snap, None), **parent_fields(snap, None)})
        points, estimated = points_of(snap)
        members.append({"kr_id": kr_id, "work_item_key": snap.key, "via": "parent", "state": snap.state,
                        "points": points, "estimated": estimated, "added_at": now})
    with unit_of_work(rt.sessions) as session:
        for start in range(0, len(items), 1000):
            session.execute(insert(WorkItem), items[start:start + 1000])
            session.execute(insert(Membership), members[start:start + 1000])
    if len(numbers) > REAL_LINKS:
        check_bulk_rows(rt, kr_id, f"github:{REPO}#{numbers[0]}", f"github:{REPO}#{numbers[-1]}")
    return kr_id


def check_bulk_rows(rt, kr_id: str, real_key: str, bulk_key: str) -> None:
    """A bulk row must equal one processing stored, but for what names the issue."""
    own = {"key", "ref", "title", "url", "last_delivery_id", "parent_delivery_id", "work_item_key", "added_at"}
    with rt.sessions() as session:
        for model, ident in ((WorkItem, (real_key, bulk_key)), (Membership, ((kr_id, real_key), (kr_id, bulk_key)))):
            real, bulk = (session.get(model, i) for i in ident)
            differ = [c.name for c in model.__table__.columns
                      if c.name not in own and getattr(real, c.key) != getattr(bulk, c.key)]
            if differ:
                raise SystemExit(f"bench: bulk {model.__tablename__} row differs from the processed one in {differ}")


def recount_all(rt) -> list[str]:
    with unit_of_work(rt.sessions) as session:
        return recount(rt.domain.context(session, cause="recount"))


def settle_counters(rt, sizes: dict[str, int]) -> None:
    """Recount sets the counters of the bulk-built key results; it must find nothing else to repair."""
    repaired = recount_all(rt)
    wrong = [line for line in repaired if not any(f": {name} was " in line for name in ("n_open", "points_open",
                                                                                       "n_unestimated"))]
    if wrong:
        raise SystemExit("bench: recount repaired more than the bulk counters:\n" + "\n".join(wrong[:10]))
    check_consistent(rt, {kr_id: (n, 0) for kr_id, n in sizes.items()})


def check_consistent(rt, expected: dict[str, tuple[int, int]]) -> None:
    """Kept counters as expected ((open, done) per key result), and recount finds nothing to repair."""
    left = recount_all(rt)
    if left:
        raise SystemExit("bench: recount still finds differences:\n" + "\n".join(left[:10]))
    with rt.sessions() as session:
        for kr_id, (n_open, n_done) in expected.items():
            kr = session.get(KeyResult, kr_id)
            if (kr.n_open, kr.n_done) != (n_open, n_done):
                raise SystemExit(f"bench: {kr_id} counts open={kr.n_open} done={kr.n_done}, "
                                 f"expected open={n_open} done={n_done}")
        pending = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != PROCESSED))
        if pending:
            raise SystemExit(f"bench: {pending} deliveries are not processed")


# --- the measures ------------------------------------------------------------------------------


def throughput(rt, kind: str) -> None:
    """(1): M close/reopen events over the sub-issues of a key result, stored first, then applied."""
    ids = []
    for i in range(EVENTS):
        n = THROUGHPUT_KR + 1 + i % THROUGHPUT_ITEMS
        closing = (i // THROUGHPUT_ITEMS) % 2 == 0
        issue = child(n, "closed" if closing else "open", stamp(i))
        ids.append(store(rt, "issues", github_issues_event("closed" if closing else "reopened", issue)))
    started = time.perf_counter()
    for pk in ids:
        process(rt, pk)
    elapsed = time.perf_counter() - started
    print(f"RESULT apply db={kind} events={EVENTS} events_per_s={EVENTS / elapsed:.0f} "
          f"ms_per_event={elapsed / EVENTS * 1000:.2f}", flush=True)


def per_event_cost(rt, kind: str, small_kr: str, large_kr: str) -> dict[str, tuple[int, int]]:
    """(2): state changes of one sub-issue of each key result, interleaved, each timed on its own."""
    targets = {"small": SMALL_KR + SMALL // 2, "large": LARGE_KR + LARGE // 2}
    rounds = WARMUP + SAMPLES
    queued = []  # (which, delivery pk), alternating small/large: both see the same conditions
    for r in range(rounds):
        closing = r % 2 == 0
        for which, n in (targets.items() if r % 2 == 0 else reversed(targets.items())):
            issue = child(n, "closed" if closing else "open", stamp(EVENTS + r))
            queued.append((which, store(rt, "issues", github_issues_event("closed" if closing else "reopened",
                                                                           issue))))
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    times: dict[str, list[float]] = {"small": [], "large": []}
    counts: dict[str, list[int]] = {"small": [], "large": []}
    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        for i, (which, pk) in enumerate(queued):
            statements = 0
            started = time.perf_counter()
            process(rt, pk)
            elapsed = time.perf_counter() - started
            if i >= 2 * WARMUP:
                times[which].append(elapsed * 1000)
                counts[which].append(statements)
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    small, large = (statistics.median(times[w]) for w in ("small", "large"))
    small_mean, large_mean = (statistics.fmean(times[w]) for w in ("small", "large"))

    def stmts(which: str) -> str:
        low, high = min(counts[which]), max(counts[which])
        return str(low) if low == high else f"{low}-{high}"

    print(f"RESULT apply-size db={kind} items={SMALL}/{LARGE} events={SAMPLES} small_ms={small:.2f} "
          f"large_ms={large:.2f} ratio={large / small:.2f} small_mean_ms={small_mean:.2f} "
          f"large_mean_ms={large_mean:.2f} mean_ratio={large_mean / small_mean:.2f} "
          f"small_statements={stmts('small')} large_statements={stmts('large')} "
          f"target={'met' if large / small <= 1.5 else 'MISSED'}", flush=True)
    final_closed = rounds % 2 == 1  # the last round closed the target
    return {kr: (n - final_closed, int(final_closed)) for kr, n in ((small_kr, SMALL), (large_kr, LARGE))}


def run(kind: str, database_url: str, work: Path) -> None:
    settings = Settings(database_url=database_url, queue_url=f"sqlite:///{work / 'q.db'}",
                        github_webhook_secrets=("bench-secret",))
    rt = build_runtime(settings)
    try:
        upgrade(rt.engine)
        started = time.perf_counter()
        sizes = {build_key_result(rt, THROUGHPUT_KR, THROUGHPUT_ITEMS): THROUGHPUT_ITEMS,
                 build_key_result(rt, SMALL_KR, SMALL): SMALL,
                 build_key_result(rt, LARGE_KR, LARGE): LARGE}
        settle_counters(rt, sizes)
        print(f"bench apply db={kind}: setup of {sum(sizes.values())} work items in "
              f"{time.perf_counter() - started:.1f} s, recount agrees", file=sys.stderr, flush=True)
        throughput(rt, kind)
        small_kr, large_kr = (WorkItemKey.github(REPO, n).kr_id for n in (SMALL_KR, LARGE_KR))
        expected = per_event_cost(rt, kind, small_kr, large_kr)
        rounds, left = divmod(EVENTS, THROUGHPUT_ITEMS)  # full rounds leave all closed when odd
        done = left if rounds % 2 == 0 else THROUGHPUT_ITEMS - left
        expected[WorkItemKey.github(REPO, THROUGHPUT_KR).kr_id] = (THROUGHPUT_ITEMS - done, done)
        check_consistent(rt, expected)
    finally:
        rt.close()


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def main() -> None:
    for kind in DBS:
        work = Path(tempfile.mkdtemp(prefix="okrbot-bench-apply-"))
        try:
            if kind == "sqlite":
                run(kind, f"sqlite:///{work / 'okrbot.db'}", work)
            elif kind == "pg":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {PG_DB}")
                try:
                    run(kind, f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1]}/{PG_DB}", work)
                finally:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            else:
                raise SystemExit(f"bench: unknown database kind {kind!r} (sqlite or pg)")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
