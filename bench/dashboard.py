"""The dashboard `/` over many key results, timed, beside the JSON listing of the same key results in the same run.

A benchmark, not a test: prints figures, on SQLite (a temp file, one fresh database per size).
  (1) the time of `GET /?period=2026-Q4` through the Flask app (query + Jinja2 rendering, the whole response)
      over 1,000 key results with 100 work items each (100,000 work items); target under 0.5 s;
  (2) the reference: `GET /api/v1/key-results` over the same database in the same run (the read API's
      listing of the same key results), reported as a ratio;
  (3) the SQL statements of `/` at 100 and at 1,000 key results: the count must not grow.
The data is bench/summary.py's (10 objectives, N key results, 100 sub-issues each, weeks of history), inserted
in bulk and checked against the memberships before anything is timed.

Run from the project root: `python3 bench/dashboard.py`.
  BENCH_DASHBOARD_SIZES (default "100 1000"), BENCH_SUMMARY_ITEMS (100 per key result), BENCH_DASHBOARD_RUNS (5)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event  # noqa: E402
from summary import ITEMS, build_rows, check_counters, insert_rows  # noqa: E402

from integration.config import Settings  # noqa: E402
from integration.db import upgrade  # noqa: E402
from integration.runtime import build_runtime  # noqa: E402
from integration.web.app import create_app  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_DASHBOARD_SIZES", "100 1000").split()]
RUNS = int(os.environ.get("BENCH_DASHBOARD_RUNS", "5"))
TARGET_MS = 500
PAGE, REFERENCE = "/?period=2026-Q4", "/api/v1/key-results"  # bench/summary.py's key results are of 2026-Q4


def timed(rt, client, url: str, n_krs: int) -> tuple[float, int]:
    """(median ms, statements) of GET url; each answer checked to list every key result."""
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    times, counts = [], []
    for _ in range(RUNS):
        statements = 0
        event.listen(rt.engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            response = client.get(url)
            body = response.get_data(as_text=True)
            elapsed = time.perf_counter() - started
        finally:
            event.remove(rt.engine, "before_cursor_execute", count)
        listed = body.count('<tr class="kr"') if url == PAGE else len(response.get_json()["key_results"])
        if response.status_code != 200 or listed != n_krs:
            raise SystemExit(f"bench dashboard: {url} answered {response.status_code} listing {listed} of {n_krs}")
        times.append(elapsed * 1000)
        counts.append(statements)
    return statistics.median(times), max(counts)


def run(n_krs: int, work: Path) -> tuple[float, int, float, int]:
    settings = Settings(database_url=f"sqlite:///{work / 'okrbot.db'}", queue_url=f"sqlite:///{work / 'q.db'}",
                        github_webhook_secrets=("bench-secret",))
    rt = build_runtime(settings)
    try:
        upgrade(rt.engine)
        insert_rows(rt, build_rows(n_krs, ITEMS))
        check_counters(rt, n_krs, ITEMS)
        # as `okrbot serve` on loopback answers this machine: the pages' access rule is not what is timed
        client = create_app(settings, runtime=rt, open_to_loopback=True).test_client()
        client.get(PAGE)  # templates compiled once, as in a running server
        page_ms, page_statements = timed(rt, client, PAGE, n_krs)
        ref_ms, ref_statements = timed(rt, client, REFERENCE, n_krs)
        return page_ms, page_statements, ref_ms, ref_statements
    finally:
        rt.close()


def main() -> None:
    first: int | None = None
    for n_krs in SIZES:
        work = Path(tempfile.mkdtemp(prefix="okrbot-bench-dashboard-"))
        try:
            page_ms, statements, ref_ms, ref_statements = run(n_krs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        first = statements if first is None else first
        print(f"RESULT dashboard kr={n_krs} work_items={n_krs * ITEMS} ms={page_ms:.0f} statements={statements} "
              f"target_ms={TARGET_MS} under_target={'yes' if page_ms < TARGET_MS else 'no'} "
              f"statements_grow={'yes' if statements > first else 'no'} | reference {REFERENCE} ms={ref_ms:.0f} "
              f"statements={ref_statements} | ratio page/reference {page_ms / ref_ms:.2f}x", flush=True)


if __name__ == "__main__":
    main()
