"""How fast real `okrbot worker` processes drain a backlog, against how fast okrbot receives (same run).

A benchmark, not a test: prints figures. On PostgreSQL + Redis:
  setup (not timed): 20 key results × 30 sub-issues, created through real deliveries; then a backlog
  of BENCH_APPLY_BACKLOG (3,000) stored `issues` state events (closed, reopened, closed as not planned,
  assigned), all newer than the setup, kept in a template database;
  (1) statements per event: one in-process worker applies the backlog as the queue hands it out
      (batches of the doorbell's size), counting SQL statements;
  (2) for 1, 2 and 4 worker processes (`okrbot worker`, 2 threads each): a fresh copy of the template,
      the workers started and idle, then the whole backlog enqueued as the doorbell does; the drain is
      timed until every delivery is processed, and the result checked against the truth computed here
      and by `okrbot recount`;
  with BENCH_INGEST_RPS (okrbot's own PostgreSQL ingest rate, measured by bench/run.sh just before in
  the same run), each drain rate is also printed as a ratio of it. Target: 2 workers >= 0.5x (goal 1.0x).

Run from the project root: `python3 bench/apply_workers.py`; BENCH_PG_SERVER (postgresql://postgres@127.0.0.1:5432),
BENCH_REDIS (redis://127.0.0.1:6379/14), BENCH_APPLY_BACKLOG (3000), BENCH_APPLY_PROCESSES ("1 2 4").
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import create_engine, event, func, select  # noqa: E402

from integration.apply.processing import process_deliveries  # noqa: E402
from integration.config import Settings  # noqa: E402
from integration.db import upgrade  # noqa: E402
from integration.runtime import build_runtime  # noqa: E402
from mappings.models import KeyResult  # noqa: E402
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event  # noqa: E402
from webhooks.inbox import IncomingDelivery  # noqa: E402
from webhooks.models import PROCESSED, Delivery  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
BACKLOG = int(os.environ.get("BENCH_APPLY_BACKLOG", "3000"))
PROCESSES = [int(n) for n in os.environ.get("BENCH_APPLY_PROCESSES", "1 2 4").split()]
INGEST_RPS = float(os.environ.get("BENCH_INGEST_RPS", "0") or 0)
KRS, ITEMS, DOORBELL_BATCH, THREADS = 20, 30, 50, 2
TEMPLATE, RUN = "okrbot_bench_apply_tpl", "okrbot_bench_apply_run"
SECRET = "bench-secret"
SETUP_AT = datetime(2026, 1, 1, tzinfo=UTC)
STATES = {"open": ("open", None, "reopened"), "done": ("closed", "completed", "closed"),
          "dropped": ("closed", "not_planned", "closed")}


def url(database: str, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://{PG_SERVER.split('://', 1)[1]}/{database}"


def admin(sql: str) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def store(rt, event_name: str, body: dict) -> int:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event_name}
    return rt.inbox.store(IncomingDelivery("github", str(uuid.uuid4()), event_name, body.get("action"),
                                           headers, raw, datetime.now(UTC)))


def anchor_number(k: int) -> int:
    return 1000 * (k + 1)


def build_template() -> dict[str, tuple[int, int, int]]:
    """The template database; returns the truth (open, done, dropped) per key result after the backlog."""
    admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    admin(f"CREATE DATABASE {TEMPLATE}")
    work = Path(tempfile.mkdtemp(prefix="okrbot-bench-apply-"))
    rt = build_runtime(Settings(database_url=url(TEMPLATE), queue_url=f"sqlite:///{work / 'q.db'}",
                                github_webhook_secrets=(SECRET,), dry_run=True))
    try:
        upgrade(rt.engine)
        setup = []
        for k in range(KRS):
            anchor = github_issue(anchor_number(k), title=f"KR {k}", labels=("key-result",),
                                  assignees=("alice",), updated_at=stamp(SETUP_AT))
            setup.append(store(rt, "issues", github_issues_event("opened", anchor)))
            for j in range(1, ITEMS + 1):
                child = github_issue(anchor_number(k) + j, updated_at=stamp(SETUP_AT))
                setup.append(store(rt, "sub_issues", github_sub_issue_event("sub_issue_added", anchor, child)))
        if process_deliveries(rt, setup):
            raise SystemExit("bench: a setup delivery failed")
        truth = {f"{k}:{j}": "open" for k in range(KRS) for j in range(1, ITEMS + 1)}
        rng = random.Random(20261202)
        for i in range(BACKLOG):
            k, j = rng.randrange(KRS), rng.randrange(1, ITEMS + 1)
            at = SETUP_AT + timedelta(days=1, seconds=i)
            if rng.random() < 0.15:
                gh_state, reason, _action = STATES[truth[f"{k}:{j}"]]
                issue = github_issue(anchor_number(k) + j, state=gh_state, state_reason=reason, assignees=("bob",),
                                     updated_at=stamp(at))
                store(rt, "issues", github_issues_event("assigned", issue))
                continue
            state = rng.choice([s for s in STATES if s != truth[f"{k}:{j}"]])
            truth[f"{k}:{j}"] = state
            gh_state, reason, action = STATES[state]
            issue = github_issue(anchor_number(k) + j, state=gh_state, state_reason=reason, updated_at=stamp(at))
            store(rt, "issues", github_issues_event(action, issue))
    finally:
        rt.close()
    expected = {}
    for k in range(KRS):
        states = [truth[f"{k}:{j}"] for j in range(1, ITEMS + 1)]
        expected[f"gh-codertocat-hello-world-{anchor_number(k)}"] = tuple(states.count(s) for s in STATES)
    return expected


def backlog_ids(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(Delivery.id).where(Delivery.status != PROCESSED).order_by(Delivery.id)))
    finally:
        engine.dispose()


def fresh_copy() -> str:
    admin(f"DROP DATABASE IF EXISTS {RUN} WITH (FORCE)")
    admin(f"CREATE DATABASE {RUN} TEMPLATE {TEMPLATE}")
    with psycopg.connect(url(RUN, "postgresql"), autocommit=True) as conn:  # just received: no sweep re-queues it
        conn.execute("UPDATE deliveries SET received_at = now() WHERE status = 'received'")
    return url(RUN)


def statements_per_event() -> float:
    """(1): one in-process worker, batches as the doorbell makes them, SQL statements counted."""
    database_url = fresh_copy()
    work = Path(tempfile.mkdtemp(prefix="okrbot-bench-apply-"))
    rt = build_runtime(Settings(database_url=database_url, queue_url=f"sqlite:///{work / 'q.db'}",
                                github_webhook_secrets=(SECRET,), dry_run=True))
    ids, statements = backlog_ids(database_url), 0

    def count(*_args):
        nonlocal statements
        statements += 1

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        for start in range(0, len(ids), DOORBELL_BATCH):
            if process_deliveries(rt, ids[start:start + DOORBELL_BATCH]):
                raise SystemExit("bench: a delivery failed")
        elapsed = time.perf_counter() - started
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
        rt.close()
    print(f"RESULT apply-statements db=pg events={len(ids)} statements_per_event={statements / len(ids):.2f} "
          f"in_process_events_per_s={len(ids) / elapsed:.0f}", flush=True)
    return statements / len(ids)


def drain(processes: int, expected: dict[str, tuple[int, int, int]]) -> float:
    """(2): N worker processes drain the backlog from Redis; returns events per second."""
    database_url = fresh_copy()
    ids = backlog_ids(database_url)
    redis.Redis.from_url(REDIS).flushdb()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OKRBOT_")},
           "OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": REDIS,
           "OKRBOT_GITHUB_WEBHOOK_SECRET": SECRET, "OKRBOT_DRY_RUN": "1", "OKRBOT_LOG_LEVEL": "WARNING"}
    okrbot = str(Path(sys.executable).with_name("okrbot"))
    workers = [subprocess.Popen([okrbot, "worker", "--threads", str(THREADS)], env=env, cwd=ROOT,
                                start_new_session=True) for _ in range(processes)]
    rt = build_runtime(Settings(database_url=database_url, queue_url=REDIS, github_webhook_secrets=(SECRET,)))
    try:
        time.sleep(3)  # started and idle: the drain is timed, not the start
        started = time.perf_counter()
        for start in range(0, len(ids), DOORBELL_BATCH):
            rt.tasks.process_deliveries(ids[start:start + DOORBELL_BATCH])
        with rt.sessions() as session:
            while session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != PROCESSED)):
                session.rollback()
                time.sleep(0.02)
        elapsed = time.perf_counter() - started
        with rt.sessions() as session:
            got = {kr.id: (kr.n_open, kr.n_done, kr.n_dropped) for kr in session.scalars(select(KeyResult))}
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
        rt.close()
    if got != expected:
        wrong = sorted(k for k in expected if got.get(k) != expected[k])
        raise SystemExit(f"bench: {len(wrong)} key results differ from the truth, e.g. {wrong[:3]}")
    recount = subprocess.run([okrbot, "recount"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if recount.stdout.strip() != "every counter agrees with the work items":
        raise SystemExit(f"bench: recount found differences:\n{recount.stdout[:2000]}{recount.stderr[-2000:]}")
    rate = len(ids) / elapsed
    ratio = f" ingest_rps={INGEST_RPS:.0f} ratio={rate / INGEST_RPS:.2f}" if INGEST_RPS else ""
    print(f"RESULT apply-drain db=pg queue=redis processes={processes} threads={THREADS} events={len(ids)} "
          f"seconds={elapsed:.2f} events_per_s={rate:.0f}{ratio} truth=ok recount=0", flush=True)
    return rate


def main() -> None:
    expected = build_template()
    try:
        statements_per_event()
        rates = {n: drain(n, expected) for n in PROCESSES}
    finally:
        admin(f"DROP DATABASE IF EXISTS {RUN} WITH (FORCE)")
        admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    if 1 in rates and 2 in rates:
        verdict = "met" if rates[2] >= rates[1] else "MISSED"
        print(f"RATIO apply: 2 workers {rates[2] / rates[1]:.2f}x 1 worker (target >= 1.0: {verdict})", flush=True)
    if INGEST_RPS and 2 in rates:
        verdict = "goal met" if rates[2] >= INGEST_RPS else "met" if rates[2] >= 0.5 * INGEST_RPS else "MISSED"
        print(f"RATIO apply: 2 workers drain at {rates[2] / INGEST_RPS:.2f}x okrbot's PostgreSQL ingest rate "
              f"({rates[2]:.0f} vs {INGEST_RPS:.0f} deliveries/s; target >= 0.5x, goal 1.0x: {verdict})", flush=True)


if __name__ == "__main__":
    main()
