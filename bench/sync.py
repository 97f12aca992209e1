"""Benchmark: API calls and time of the first sync of a key result with 2,000 work items, and of a
second sync with nothing changed. Targets: the page count and no per-item calls; then only 304s.

GitHub is faked at the HTTP level (tests/fake_trackers.py, `responses`), the rest is real: the
GitHub reader (PyGithub), the database (SQLite file and PostgreSQL), the apply path.
Prints `RESULT sync ...` lines. Run from the project root: python bench/sync.py
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import responses

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integration.config import Settings  # noqa: E402
from integration.db import upgrade  # noqa: E402
from integration.reconcile.sync import sync_key_result  # noqa: E402
from integration.runtime import build_runtime  # noqa: E402
from tests.fake_trackers import FakeGithub  # noqa: E402
from tests.payloads import github_issue, github_issues_event  # noqa: E402

ITEMS = int(os.environ.get("BENCH_SYNC_ITEMS", "2000"))
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
KR = "gh-codertocat-hello-world-10"


def run(kind: str, database_url: str, tmp: str) -> None:
    settings = Settings(database_url=database_url, queue_url=f"sqlite:///{tmp}/queue-{kind}.db",
                        github_webhook_secrets=("bench",), github_token="bench-token")
    rt = build_runtime(settings)
    upgrade(rt.engine)
    anchor = github_issue(10, title="Big key result", labels=("key-result",), updated_at="2026-11-02T10:00:00Z")
    kids = [github_issue(1000 + i, state="closed" if i % 3 == 0 else "open", state_reason="completed",
                         updated_at="2026-11-01T10:00:00Z") for i in range(ITEMS)]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        github = FakeGithub(rsps)
        github.issues[("Codertocat/Hello-World", 10)] = anchor
        github.sub_issue_lists[("Codertocat/Hello-World", 10)] = kids
        from integration.apply.processing import apply_parsed  # the anchor arrives as a webhook would
        from integration.db import unit_of_work
        from webhooks.github import parse

        with unit_of_work(rt.sessions) as session:
            apply_parsed(rt, session, parse("issues", github_issues_event("opened", anchor), rt.github_options), None)
        for label in ("first", "second"):
            before, started = len(rsps.calls), time.perf_counter()
            report = sync_key_result(rt, KR)
            seconds = time.perf_counter() - started
            calls = rsps.calls[before:]
            statuses = sorted({c.response.status_code for c in calls})
            per_item = sum(1 for c in calls if re.search(r"/issues/\d+$", c.request.path_url.split("?")[0])
                           and not c.request.path_url.split("?")[0].endswith("/issues/10"))
            print(f"RESULT sync db={kind} run={label} items={ITEMS} api_calls={len(calls)} "
                  f"statuses={','.join(map(str, statuses))} per_item_calls={per_item} "
                  f"expected_pages={1 + -(-ITEMS // 100)} seconds={seconds:.2f} items_read={report.items}")
    with rt.sessions() as session:
        from mappings.models import KeyResult

        kr = session.get(KeyResult, KR)
        assert (kr.n_done, kr.n_open) == (len([k for k in kids if k["state"] == "closed"]),
                                          len([k for k in kids if k["state"] == "open"])), "wrong counters"
    rt.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{tmp}/okrbot.db", tmp)
        name = f"okrbot_bench_sync_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run("pg", f"postgresql+psycopg://{PG_SERVER.removeprefix('postgresql://')}/{name}", tmp)
        finally:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
