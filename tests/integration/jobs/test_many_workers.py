"""Many workers, one truth: the Procfile's web line and 3 `okrbot worker` processes on PostgreSQL and Redis.

A seeded stream (tests/stream.py) is posted from several threads through the real HTTP path with real
signatures: concurrent events on the same items, redeliveries, late arrivals, owner changes, items
moving between key results, dropped and reopened items. Once the queue is drained, every key result
must equal the truth the stream computed on its own, `okrbot recount` must find nothing to repair,
and every acknowledged delivery must be processed. Both webhook shapes: repository hook, GitHub App.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from integration.trackers.models import GithubInstallation
from tests.conftest import GITHUB_SECRET, ROOT
from tests.http_wait import wait_until_ok
from tests.stream import Post, Scenario
from webhooks.models import IGNORED, PROCESSED, Delivery
from webhooks.signatures import sign

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TOKEN = "many-workers-token"
WORKERS, THREADS, POSTERS = 3, 2, 8
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """The Procfile's processes, as an operator scaling out runs them: one web, several workers."""

    def __init__(self, database_url: str, queue_url: str, logs: Path, extra_env: dict | None = None):
        self.port = _free_port()
        self.logs = logs
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("OKRBOT_")},
                    "OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": queue_url,
                    "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_API_TOKEN": TOKEN,
                    "OKRBOT_SECRET_KEY": "many-workers-session-key-0123456789abcdef",
                    "OKRBOT_DRY_RUN": "1", "PORT": str(self.port), "WEB_CONCURRENCY": "2",
                    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})}
        self.processes: list[subprocess.Popen] = []

    def okrbot(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "okrbot"), *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, name: str, command: str) -> None:
        out = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes.append(subprocess.Popen(command, shell=True, env=self.env, cwd=ROOT, stdout=out,
                                               stderr=subprocess.STDOUT, start_new_session=True))

    def up(self) -> None:
        self.okrbot("db", "upgrade")
        web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
        self.start("web", web.removeprefix("web:").strip())
        for n in range(WORKERS):
            self.start(f"worker-{n}", f"okrbot worker --threads {THREADS}")
        if not wait_until_ok(f"{self.url}/readyz", 30, request_timeout=5):
            raise AssertionError("the web process did not become ready: " + self.log("web"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def down(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture
def deployment(request, postgres_url, redis_url, tmp_path):
    if shutil.which("okrbot", path=str(BIN)) is None:
        pytest.fail(f"no okrbot script beside {sys.executable}: run `make test`", pytrace=False)
    d = Deployment(postgres_url, redis_url, tmp_path, getattr(request, "param", None))
    try:
        d.up()
        yield d
    finally:
        d.down()


def post_all(url: str, posts: list[Post]) -> dict[str, int]:
    """Post from several threads, each keeping its connection; return delivery id → status."""
    answers: dict[str, int] = {}
    shares = [posts[n::POSTERS] for n in range(POSTERS)]

    def run(share: list[Post]) -> None:
        with requests.Session() as http:
            for post in share:
                headers = {"Content-Type": "application/json", "X-GitHub-Event": post.event,
                           "X-GitHub-Delivery": post.delivery, "X-Hub-Signature-256": sign(GITHUB_SECRET, post.body)}
                status = http.post(f"{url}/webhooks/github", data=post.body, headers=headers, timeout=30).status_code
                answers[post.delivery] = max(answers.get(post.delivery, 0), status)

    with ThreadPoolExecutor(POSTERS) as pool:
        list(pool.map(run, shares))
    return answers


def drained(engine, expected: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            stored, processed = conn.execute(select(func.count(), func.count().filter(
                Delivery.status.in_((PROCESSED, IGNORED)))).select_from(Delivery)).one()
            conn.rollback()
            if stored == expected and processed == expected:
                return
            time.sleep(0.2)
    raise AssertionError(f"not drained: {processed} of {stored} stored deliveries processed ({expected} posted)")


@pytest.mark.parametrize("shape", ["repository hook", "github app"])
def test_three_workers_reach_the_truth_one_worker_in_order_would(deployment, postgres_url, shape):
    scenario = Scenario(seed=20261202, key_results=6, items_per_kr=12, events=900,
                        app_installation=4242 if shape == "github app" else None)
    answers = post_all(deployment.url, scenario.posts)
    unique = {p.delivery for p in scenario.posts}
    assert len(unique) < len(scenario.posts)  # the stream did redeliver some
    assert set(answers) == unique and set(answers.values()) <= {200, 202}
    engine = create_engine(postgres_url)
    try:
        drained(engine, expected=len(unique))
        with engine.connect() as conn:
            acknowledged = {row.delivery_id for row in conn.execute(
                select(Delivery.delivery_id).where(Delivery.status == PROCESSED))}
            installations = conn.execute(select(GithubInstallation.repo, GithubInstallation.installation_id)).all()
    finally:
        engine.dispose()
    assert acknowledged == unique  # every acknowledged delivery was processed
    assert installations == ([("codertocat/hello-world", 4242)] if shape == "github app" else [])

    listed = requests.get(f"{deployment.url}/api/v1/key-results", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=10).json()["key_results"]
    got = {kr["id"]: kr for kr in listed}
    assert sorted(got) == sorted(scenario.truth)
    for kr_id, truth in scenario.truth.items():
        kr = got[kr_id]
        states = {i["key"]: i["state"] for i in kr["work_items"]}
        assert (kr["progress"]["done"], kr["progress"]["dropped"], kr["progress"]["total"],
                kr["owner"]["login"], set(states)) == (
            truth.n_done, truth.n_dropped, truth.n_open + truth.n_done, truth.owner, truth.members), kr_id
        assert sorted(states.values()).count("done") == truth.n_done
    assert deployment.okrbot("recount") == "every counter agrees with the work items\n"
    for name in ("web", *(f"worker-{n}" for n in range(WORKERS))):
        assert "Traceback" not in deployment.log(name), deployment.log(name)


EVIL = "evil-corp/Hello-World"


def from_elsewhere(post: Post, n: int, label_for: str) -> Post:
    """The same delivery as another organisation's repository would send it (a fresh delivery id)."""
    body = json.loads(post.body)
    body["repository"]["full_name"] = EVIL
    for name in ("issue", "sub_issue", "parent_issue"):
        if name in body:
            body[name]["repository_url"] = f"https://api.github.com/repos/{EVIL}"
            body[name]["labels"] = [*body[name]["labels"], {"id": 9, "name": f"okr:{label_for}"}]
    return Post(post.event, json.dumps(body).encode(), f"evil-{n}")


@pytest.mark.parametrize("deployment", [{"OKRBOT_GITHUB_ALLOWED": "codertocat"}], indirect=True)
def test_three_workers_ignore_what_is_out_of_scope_and_reach_the_same_truth(deployment, postgres_url):
    scenario = Scenario(seed=20261203, key_results=4, items_per_kr=10, events=500)
    target = sorted(scenario.truth)[0]  # the hostile copies also carry an okr label for a real key result
    hostile = [from_elsewhere(post, n, target) for n, post in enumerate(scenario.posts[::2])]
    mixed = [p for pair in zip(scenario.posts, hostile + [None] * len(scenario.posts), strict=False) for p in pair if p]
    answers = post_all(deployment.url, mixed)
    unique = {p.delivery for p in mixed}
    assert set(answers) == unique and set(answers.values()) <= {200, 202}
    engine = create_engine(postgres_url)
    try:
        drained(engine, expected=len(unique))
        with engine.connect() as conn:
            rows = conn.execute(select(Delivery.delivery_id, Delivery.status, Delivery.last_error)).all()
    finally:
        engine.dispose()
    assert {(d, s, e) for d, s, e in rows if d.startswith("evil-")} == {
        (p.delivery, IGNORED, f"out of scope: {EVIL} is not in OKRBOT_GITHUB_ALLOWED") for p in hostile}
    assert {d for d, s, _ in rows if s == PROCESSED} == {p.delivery for p in scenario.posts}
    listed = requests.get(f"{deployment.url}/api/v1/key-results", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=10).json()["key_results"]
    got = {kr["id"]: kr for kr in listed}
    assert sorted(got) == sorted(scenario.truth)
    for kr, truth in ((got[k], t) for k, t in scenario.truth.items()):
        assert (kr["progress"]["done"], kr["progress"]["dropped"], kr["owner"]["login"],
                {i["key"] for i in kr["work_items"]}) == (truth.n_done, truth.n_dropped, truth.owner,
                                                           truth.members), kr["id"]
    assert deployment.okrbot("recount") == "every counter agrees with the work items\n"


def test_stream_truth_is_what_its_timeline_says():
    """The generator itself: a redelivery repeats a body exactly, and late posts are really late."""
    scenario = Scenario(seed=7, key_results=2, items_per_kr=3, events=60)
    by_delivery: dict[str, set[bytes]] = {}
    for post in scenario.posts:
        by_delivery.setdefault(post.delivery, set()).add(post.body)
    assert all(len(bodies) == 1 for bodies in by_delivery.values())
    times = [json.loads(p.body).get("issue", json.loads(p.body).get("sub_issue"))["updated_at"]
             for p in scenario.posts]
    assert times != sorted(times)
