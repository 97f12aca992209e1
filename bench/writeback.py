"""Write-back under bursts: real deliveries through `okrbot serve`, against a local fake GitHub API.

A benchmark, not a test: prints figures. It measures
  (a) writes (comment creates + edits) per key result per burst of events: target 1.0, the quiet period
      (OKRBOT_WRITE_DELAY) coalescing a burst into one render and one write;
  (b) the highest write rate per credential: the most writes in any 1-second sliding window and the
      smallest gap between consecutive writes: target at most 1 per second.
How: a fake GitHub REST API (Flask, in a thread, on a free port) answers the comment calls okrbot makes
(GET/POST /repos/{o}/{r}/issues/{n}/comments, GET/PATCH /repos/{o}/{r}/issues/comments/{id}) with
GitHub-shaped JSON and records every POST/PATCH; `okrbot serve` runs as a subprocess in a temp dir
(SQLite database and queue) with OKRBOT_GITHUB_API_URL pointing at the fake. Setup: KEY_RESULTS issues
labelled key-result, each with 4 sub-issues linked by signed `sub_issues` deliveries; their first
comments are waited for, then the counters reset. Each burst: 20 signed `issues` closed/reopened
deliveries per key result (5 per sub-issue, increasing updated_at, ending in a known state), posted from
a few threads as fast as the receiver takes them; then the writes are waited for and counted, and each
key result's comment must show the burst's final state.

The quiet period is shortened to BENCH_WRITE_DELAY (default 3 s; production default 60 s) so that the
run takes about 4 minutes: the writes of one burst need write delay + KEY_RESULTS x 1 s.

Run from the project root: `python3 bench/writeback.py` (it imports tests.payloads).
  BENCH_WB_KRS (50), BENCH_WB_BURSTS (3), BENCH_WB_THREADS (8), BENCH_WRITE_DELAY (3)
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from integration.writeback.models import PENDING, SENDING  # noqa: E402
from tests.conftest import github_headers, load_fixture  # noqa: E402
from tests.http_wait import wait_until_ok  # noqa: E402
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event  # noqa: E402
from webhooks.models import RECEIVED  # noqa: E402

KEY_RESULTS = int(os.environ.get("BENCH_WB_KRS", "50"))
BURSTS = int(os.environ.get("BENCH_WB_BURSTS", "3"))
THREADS = int(os.environ.get("BENCH_WB_THREADS", "8"))
WRITE_DELAY = float(os.environ.get("BENCH_WRITE_DELAY", "3"))
ITEMS, EVENTS_PER_KR = 4, 20  # sub-issues per key result; deliveries per key result per burst
FIRST_KR, FIRST_ITEM = 1000, 5000  # issue numbers: key results #1000.., their sub-issues #5000..
SECRET, TOKEN = "bench-secret", "bench-token"
DONE_AT_END = (1, 3, 2)  # sub-issues closed at the end of burst b (cycled): each burst changes the comment
QUIET_S = 5.0  # no write for this long (past the expected time) = the writes have settled
BURST_TIMEOUT_S = 180.0
LINKED_AT = "2026-01-01T00:00:00Z"
EVENTS_FROM = datetime(2026, 2, 1, tzinfo=UTC)


def stamp(seconds: int) -> str:
    return (EVENTS_FROM + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def kr_number(k: int) -> int:
    return FIRST_KR + k


def item_number(k: int, j: int) -> int:
    return FIRST_ITEM + ITEMS * k + j


# --- the fake GitHub API -------------------------------------------------------------------------


class FakeGithub:
    """The comment endpoints okrbot's GithubClient calls, shaped like octokit's `comment` object."""

    def __init__(self):
        self.lock = threading.Lock()
        self.comments: dict[int, dict] = {}  # id -> {"id", "repo", "issue", "body"}
        self.writes: list[tuple[float, str, int, str]] = []  # (monotonic, method, issue, Authorization)
        self.gets = 0
        self.ids = itertools.count(70001)
        self.template = load_fixture("github/issue_comment/octokit-webhooks__created.payload.json")["comment"]
        self.app = self._app()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-github", daemon=True)

    def start(self) -> FakeGithub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    def _json(self, c: dict) -> dict:
        owner_repo, n, cid = c["repo"], c["issue"], c["id"]
        return copy.deepcopy(self.template) | {
            "id": cid, "node_id": f"IC_bench{cid}", "body": c["body"],
            "url": f"{self.base}/repos/{owner_repo}/issues/comments/{cid}",
            "html_url": f"https://github.com/{owner_repo}/issues/{n}#issuecomment-{cid}",
            "issue_url": f"{self.base}/repos/{owner_repo}/issues/{n}",
        }

    def _record(self, method: str, issue: int) -> None:
        self.writes.append((time.monotonic(), method, issue, request.headers.get("Authorization", "")))

    def _app(self) -> Flask:
        app = Flask("fake-github")

        @app.get("/repos/<owner>/<repo>/issues/<int:number>/comments")
        def list_comments(owner, repo, number):
            with self.lock:
                self.gets += 1
                found = [self._json(c) for c in self.comments.values()
                         if c["repo"] == f"{owner}/{repo}" and c["issue"] == number]
            per_page = int(request.args.get("per_page", 30))
            return jsonify(found[:per_page])

        @app.post("/repos/<owner>/<repo>/issues/<int:number>/comments")
        def create_comment(owner, repo, number):
            body = (request.get_json(silent=True) or {}).get("body")
            if not body:
                return jsonify({"message": "Validation Failed"}), 422
            with self.lock:
                self._record("POST", number)
                cid = next(self.ids)
                self.comments[cid] = {"id": cid, "repo": f"{owner}/{repo}", "issue": number, "body": body}
                return jsonify(self._json(self.comments[cid])), 201

        @app.route("/repos/<owner>/<repo>/issues/comments/<int:cid>", methods=["GET", "PATCH"])
        def one_comment(owner, repo, cid):
            with self.lock:
                c = self.comments.get(cid)
                if c is None or c["repo"] != f"{owner}/{repo}":
                    return jsonify({"message": "Not Found"}), 404
                if request.method == "GET":
                    self.gets += 1
                    return jsonify(self._json(c))
                body = (request.get_json(silent=True) or {}).get("body")
                if not body:
                    return jsonify({"message": "Validation Failed"}), 422
                self._record("PATCH", c["issue"])
                c["body"] = body
                return jsonify(self._json(c))

        return app

    def snapshot(self) -> list[tuple[float, str, int, str]]:
        with self.lock:
            return list(self.writes)

    def reset(self) -> list[tuple[float, str, int, str]]:
        with self.lock:
            taken, self.writes = self.writes, []
            return taken

    def bodies(self, issue: int) -> list[str]:
        with self.lock:
            return [c["body"] for cid, c in sorted(self.comments.items()) if c["issue"] == issue]


# --- okrbot as a subprocess ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Okrbot:
    def __init__(self, work: Path, api_url: str):
        self.work, self.port = work, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = work / "okrbot.db"
        self.log_path = work / "okrbot.log"
        self.env = os.environ | {
            "OKRBOT_DATABASE_URL": f"sqlite:///{self.db}", "OKRBOT_QUEUE_URL": f"sqlite:///{work / 'queue.db'}",
            "OKRBOT_GITHUB_WEBHOOK_SECRET": SECRET, "OKRBOT_GITHUB_TOKEN": TOKEN, "OKRBOT_GITHUB_API_URL": api_url,
            "OKRBOT_WRITE_DELAY": f"{WRITE_DELAY:g}", "OKRBOT_LOG_LEVEL": "WARNING",
        }
        for name in ("OKRBOT_MAPPINGS", "OKRBOT_DRY_RUN", "OKRBOT_GITHUB_APP_ID", "OKRBOT_JIRA_URL"):
            self.env.pop(name, None)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = ROOT / ".venv" / "bin" / "okrbot"
        command = [str(exe) if exe.exists() else "okrbot", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(command, cwd=self.work, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until_ok(f"{self.url}/healthz", 60, alive=self._alive):
            raise SystemExit(f"bench: okrbot serve did not answer /healthz within 60 s:\n{self.log_tail()}")

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            raise SystemExit(f"bench: okrbot serve exited with {self.proc.returncode}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None:
            self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def query(self, sql: str, *args) -> list[tuple]:
        """Read-only look at the database (WAL: readers never block the running process)."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql, args).fetchall()

    def unsettled(self) -> tuple[int, int]:
        """(deliveries not processed yet, outbox entries pending or being sent)."""
        try:
            waiting = self.query("select count(*) from deliveries where status = ?", RECEIVED)[0][0]
            pending = self.query("select count(*) from outbox where state in (?, ?)", PENDING, SENDING)[0][0]
            return waiting, pending
        except sqlite3.Error:
            return -1, -1


# --- deliveries ----------------------------------------------------------------------------------


def signed(event: str, body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, github_headers(raw, event, str(uuid.uuid4()), SECRET)


def anchor(k: int) -> dict:
    return github_issue(kr_number(k), title=f"Key result {kr_number(k)}", labels=("key-result",),
                        assignees=("alice",), updated_at=LINKED_AT)


def child(k: int, j: int, state: str = "open", updated_at: str = LINKED_AT) -> dict:
    return github_issue(item_number(k, j), title=f"Work item {item_number(k, j)}", state=state,
                        state_reason="completed" if state == "closed" else None, assignees=("bob",),
                        updated_at=updated_at)


def setup_deliveries() -> list[tuple[bytes, dict]]:
    out = []
    for k in range(KEY_RESULTS):
        parent = anchor(k)
        out.append(signed("issues", github_issues_event("opened", parent)))
        out += [signed("sub_issues", github_sub_issue_event("sub_issue_added", parent, child(k, j)))
                for j in range(ITEMS)]
    return out


def burst_deliveries(b: int) -> list[tuple[bytes, dict]]:
    """Round r of 20: every key result's sub-issue r % 4 flips; its 5th flip is its final state."""
    done = DONE_AT_END[b % len(DONE_AT_END)]
    base = (b + 1) * 100_000
    out = []
    for r in range(EVENTS_PER_KR):
        j, step = r % ITEMS, r // ITEMS
        last = EVENTS_PER_KR // ITEMS - 1
        for k in range(KEY_RESULTS):
            final_closed = j < done
            closed = final_closed if (last - step) % 2 == 0 else not final_closed
            issue = child(k, j, "closed" if closed else "open", stamp(base + r))
            out.append(signed("issues", github_issues_event("closed" if closed else "reopened", issue)))
    return out


def post_all(url: str, deliveries: list[tuple[bytes, dict]], threads: int) -> tuple[float, Counter]:
    """Post every delivery, `threads` at a time, in order; returns (seconds, status counts)."""
    feed = iter(deliveries)
    lock = threading.Lock()
    statuses: Counter = Counter()

    def worker():
        with requests.Session() as session:
            while True:
                with lock:
                    item = next(feed, None)
                if item is None:
                    return
                raw, headers = item
                try:
                    status = session.post(url, data=raw, headers=headers, timeout=30).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__
                with lock:
                    statuses[status] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.monotonic() - started, statuses


def settle(fake: FakeGithub, bot: Okrbot, since: float, expected_s: float, want: int | None = None) -> float:
    """Wait until the writes have settled: past the expected time (and `want` writes, if given), no write
    for QUIET_S, and nothing left pending in the database. Returns the seconds waited from `since`."""
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        writes = fake.snapshot()
        last = max((w[0] for w in writes), default=since)
        if now - since > BURST_TIMEOUT_S:
            print(f"bench: WARNING: writes not settled after {BURST_TIMEOUT_S:.0f} s "
                  f"({len(writes)} writes; unprocessed/pending = {bot.unsettled()})", flush=True)
            return now - since
        if now - since < expected_s or now - last < QUIET_S or (want is not None and len(writes) < want):
            continue
        if bot.unsettled() in ((0, 0), (-1, -1)):
            return now - since


# --- figures -------------------------------------------------------------------------------------


def final_line(done: int) -> str:
    return f"{done * 100 / ITEMS:.0f}% · {done} of {ITEMS} done"


def check_bodies(fake: FakeGithub, done: int) -> tuple[int, int]:
    """(key results whose one comment shows `done` of 4, most comments on one key result)."""
    ok, most = 0, 0
    for k in range(KEY_RESULTS):
        bodies = fake.bodies(kr_number(k))
        most = max(most, len(bodies))
        ok += bool(bodies) and final_line(done) in bodies[-1]
    return ok, most


def rate_figures(writes: list[tuple[float, str, int, str]]) -> dict[str, tuple[int, float | None, float | None]]:
    """Per credential (Authorization header): (most writes in any 1 s window, smallest gap, median gap in s).

    Times are when the fake received each request, not when okrbot reserved its second."""
    by_credential: dict[str, list[float]] = defaultdict(list)
    for t, _method, _issue, auth in writes:
        by_credential[auth].append(t)
    figures = {}
    for auth, times in by_credential.items():
        times.sort()
        most, lo = 0, 0
        for hi, t in enumerate(times):  # window [times[lo], times[lo] + 1 s) ending at t
            while t - times[lo] >= 1.0:
                lo += 1
            most = max(most, hi - lo + 1)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        figures[auth] = (most, min(gaps) if gaps else None, statistics.median(gaps) if gaps else None)
    return figures


def short_gaps(times) -> int:
    ordered = sorted(times)
    return sum(1 for a, b in itertools.pairwise(ordered) if b - a < 1.0)


def masked(auth: str) -> str:
    scheme, _, secret = auth.partition(" ")
    return f"{scheme} {secret[:2]}…" if secret else (auth or "(none)")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="okrbot-bench-writeback-"))
    fake = FakeGithub().start()
    bot = Okrbot(work, fake.base)
    hook = f"{bot.url}/webhooks/github"
    started = time.monotonic()
    try:
        bot.start()
        print(f"bench: writeback: {KEY_RESULTS} key results x {ITEMS} sub-issues, {BURSTS} bursts of "
              f"{KEY_RESULTS * EVENTS_PER_KR} deliveries; OKRBOT_WRITE_DELAY={WRITE_DELAY:g} s for the bench "
              f"(production default 60 s); fake GitHub on {fake.base}, okrbot on {bot.url}", flush=True)

        # setup: key results and their sub-issues, through the receiver; their first comments
        setup_started = time.monotonic()
        seconds, statuses = post_all(hook, setup_deliveries(), 1)  # in order: the anchor before its links
        if set(statuses) != {202}:
            raise SystemExit(f"bench: setup deliveries answered {dict(statuses)}\n{bot.log_tail()}")
        settle(fake, bot, setup_started, WRITE_DELAY + KEY_RESULTS * 0.5, want=KEY_RESULTS)
        setup_writes = fake.reset()
        creates = sum(1 for w in setup_writes if w[1] == "POST")
        print(f"setup: {sum(statuses.values())} deliveries in {seconds:.1f} s; {creates} comments created, "
              f"{len(setup_writes) - creates} edited, {fake.gets} GETs, "
              f"in {time.monotonic() - setup_started:.0f} s", flush=True)

        all_writes = list(setup_writes)
        per_kr_max, burst_totals, bodies_ok, most_comments = 0, [], 0, 0
        for b in range(BURSTS):
            deliveries = burst_deliveries(b)
            sent_at = time.monotonic()
            seconds, statuses = post_all(hook, deliveries, THREADS)
            waited = settle(fake, bot, sent_at, seconds + WRITE_DELAY + KEY_RESULTS * 1.0)
            writes = fake.reset()
            all_writes += writes
            per_kr = Counter(w[2] for w in writes)
            over = sorted(n for n, c in per_kr.items() if c > 1)
            done = DONE_AT_END[b % len(DONE_AT_END)]
            bodies_ok, most_comments = check_bodies(fake, done)
            per_kr_max = max([per_kr_max, *per_kr.values()])
            burst_totals.append(len(writes))
            first = min((w[0] for w in writes), default=sent_at) - sent_at
            last = max((w[0] for w in writes), default=sent_at) - sent_at
            print(f"burst {b + 1}: {sum(statuses.values())} deliveries in {seconds:.1f} s "
                  f"({sum(statuses.values()) / seconds:.0f}/s; answers {dict(statuses)}); {len(writes)} writes "
                  f"({KEY_RESULTS - len(per_kr)} key results not written, more than one write on {len(over)}"
                  f"{': #' + ', #'.join(map(str, over[:10])) if over else ''}), first at +{first:.1f} s, "
                  f"last at +{last:.1f} s, settled after {waited:.0f} s; final bodies showing "
                  f"'{final_line(done)}': {bodies_ok}/{KEY_RESULTS}", flush=True)

        rates = rate_figures(all_writes)
        for auth, (most, gap, median) in rates.items():
            print(f"credential {masked(auth)}: {sum(1 for w in all_writes if w[3] == auth)} writes, most in 1 s: "
                  f"{most}, smallest gap: {gap if gap is None else round(gap, 3)} s, median gap: "
                  f"{median if median is None else round(median, 3)} s, gaps under 1 s: "
                  f"{short_gaps(t for t, _m, _i, a in all_writes if a == auth)}", flush=True)
        outbox = bot.query("select state, count(*), sum(writes) from outbox group by state")
        failed = bot.query("select count(*) from deliveries where status <> 'processed'")[0][0]
        print(f"outbox: {', '.join(f'{s}={n} (writes {w})' for s, n, w in outbox)}; "
              f"deliveries not processed: {failed}; comments on one key result at most: {most_comments}; "
              f"total {time.monotonic() - started:.0f} s", flush=True)
        max_rate = max((m for m, _, _ in rates.values()), default=0)
        min_gap = min((g for _, g, _ in rates.values() if g is not None), default=float("nan"))
        median_gap = max((g for _, _, g in rates.values() if g is not None), default=float("nan"))
        print(f"RESULT writeback bursts={BURSTS} events_per_burst={KEY_RESULTS * EVENTS_PER_KR} "
              f"key_results={KEY_RESULTS} writes_per_kr_per_burst={sum(burst_totals) / (KEY_RESULTS * BURSTS):.2f} "
              f"max_writes_one_kr={per_kr_max} max_writes_per_s={max_rate} min_gap_s={min_gap:.2f} "
              f"median_gap_s={median_gap:.2f} "
              f"final_bodies_ok={bodies_ok}/{KEY_RESULTS} write_delay_s={WRITE_DELAY:g}", flush=True)
    finally:
        bot.stop()
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
