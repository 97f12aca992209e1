"""Check-ins under many workers: the Procfile's web line and 3 `okrbot worker` processes on PostgreSQL
and Redis, fed a shuffled stream of `/checkin` comments (creates, edits, deletions, redeliveries, late
arrivals) through the real HTTP path with real signatures. The stored check-ins, the API and the
answers noted must equal the truth this test computes from the stream itself."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, func, select

from integration.writeback.models import CheckinAnswer
from mappings.models import CheckinRow
from tests.integration.jobs.test_many_workers import TOKEN, WORKERS, deployment, drained, post_all  # noqa: F401
from tests.payloads import github_comment_event, github_issue, github_issues_event
from tests.stream import Post

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
OWNERS = {10: "alice", 20: "bob", 30: "carol"}
STATUSES = ("on-track", "at-risk", "off-track")
T0 = datetime(2026, 11, 5, 9, tzinfo=UTC)


def _time(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _anchor(number: int) -> dict:
    return github_issue(number, title=f"KR {number}", labels=("key-result",), assignees=(OWNERS[number],),
                        updated_at="2026-11-02T10:00:00Z")


@dataclass
class Comment:
    id: int
    issue: int
    author: str
    created: int  # minutes after T0; distinct per comment
    bad: bool
    versions: list[tuple[int, str]] = field(default_factory=list)  # (updated minutes, body)
    deleted: bool = False

    @property
    def key(self) -> str:
        return f"github:Codertocat/Hello-World#{self.issue}@{self.id}"

    def truth(self) -> dict:
        """What the stored row must say: the newest version wins; a deletion withdraws it for good."""
        _at, body = max(self.versions)
        words = body.split()
        if self.author != OWNERS[self.issue]:
            verdict = "not_owner"
        else:
            verdict = "bad_input" if self.bad else "accepted"
        accepted = verdict == "accepted"
        return {"verdict": verdict, "withdrawn": self.deleted,
                "status": words[1].replace("-", "_") if accepted else None,
                "confidence": int(words[2].split("/")[0]) if accepted else None,
                "note": " ".join(words[3:]) if accepted else ""}


def stream(seed: int, n: int = 60) -> tuple[list[Comment], list[Post]]:
    rng = random.Random(seed)
    comments, posts = [], []
    created = rng.sample(range(0, 3000, 5), n)
    for i in range(n):
        issue = rng.choice(list(OWNERS))
        author = OWNERS[issue] if rng.random() < 0.7 else "mallory"
        c = Comment(7000 + i, issue, author, created[i], bad=rng.random() < 0.15)
        for v in range(rng.randint(1, 4)):
            status = "sideways" if c.bad else rng.choice(STATUSES)
            c.versions.append((c.created + v, f"/checkin {status} {rng.randint(0, 10)}/10 note {i}.{v}"))
        c.deleted = rng.random() < 0.2
        comments.append(c)
        for v, (updated, body) in enumerate(c.versions):
            action = "created" if v == 0 else "edited"
            posts.append(_post(c, action, body, updated))
        if c.deleted:
            posts.append(_post(c, "deleted", c.versions[-1][1], c.versions[-1][0]))
    redelivered = [Post(p.event, p.body, p.delivery) for p in rng.sample(posts, len(posts) // 5)]
    resent = [Post(p.event, p.body, str(uuid.uuid4())) for p in rng.sample(posts, len(posts) // 10)]
    everything = posts + redelivered + resent
    rng.shuffle(everything)
    return comments, everything


def _post(c: Comment, action: str, body: str, updated: int) -> Post:
    payload = github_comment_event(action, _anchor(c.issue), comment_id=c.id, body=body, author=c.author,
                                   created_at=_time(c.created), updated_at=_time(updated))
    return Post("issue_comment", json.dumps(payload).encode(), str(uuid.uuid4()))


def answered(engine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            states = set(conn.execute(select(CheckinAnswer.state, CheckinAnswer.last_error).distinct()).all())
            conn.rollback()
            if states == {("skipped", "no GitHub credentials: set OKRBOT_GITHUB_TOKEN or OKRBOT_GITHUB_APP_ID "
                                      "and its private key")}:
                return
            time.sleep(0.2)
    raise AssertionError(f"answers not all sent: {states}")


def test_three_workers_store_the_checkins_the_stream_says(deployment, postgres_url):  # noqa: F811
    anchors = [Post("issues", json.dumps(github_issues_event("opened", _anchor(n))).encode(), str(uuid.uuid4()))
               for n in OWNERS]
    assert set(post_all(deployment.url, anchors).values()) == {202}
    engine = create_engine(postgres_url)
    try:
        drained(engine, expected=len(anchors))
        comments, posts = stream(seed=20261203)
        assert set(post_all(deployment.url, posts).values()) <= {200, 202}
        drained(engine, expected=len(anchors) + len({p.delivery for p in posts}))
        with engine.connect() as conn:
            stored = {r.comment_key: r for r in conn.execute(select(CheckinRow.__table__))}
            answers = dict(conn.execute(select(CheckinAnswer.comment_key, func.count()).group_by(
                CheckinAnswer.comment_key)).all())
            kinds = dict(conn.execute(select(CheckinAnswer.comment_key, CheckinAnswer.kind)).all())
        answered(engine)  # the workers took each up (this deployment has no GitHub credentials: skipped)
    finally:
        engine.dispose()

    assert sorted(stored) == sorted(c.key for c in comments)
    for c in comments:
        row = stored[c.key]
        got = {"verdict": row.verdict, "withdrawn": row.withdrawn, "status": row.status,
               "confidence": row.confidence, "note": row.note}
        if c.deleted:  # withdrawn for good, whichever version it held when the deletion came
            assert (row.verdict, row.withdrawn) == (c.truth()["verdict"], True), (c, got)
            assert answers.get(c.key, 0) <= 1
            continue
        assert got == c.truth(), (c, got)
        assert row.updated_at == datetime.fromisoformat(_time(max(c.versions)[0]))
        assert answers.get(c.key, 0) == 1
        if c.key in kinds:
            assert kinds[c.key] == ("reaction" if c.truth()["verdict"] == "accepted" else "reply")

    for number, owner in OWNERS.items():
        kr = requests.get(f"{deployment.url}/api/v1/key-results/gh-codertocat-hello-world-{number}",
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
        live = sorted((c for c in comments if c.issue == number and c.truth()["verdict"] == "accepted"
                       and not c.deleted), key=lambda c: c.created, reverse=True)
        assert [(h["note"], h["by"]) for h in kr["checkins"]] == [(c.truth()["note"], owner) for c in live]
        assert kr["checkin"] == (kr["checkins"][0] if live else None)
    for name in ("web", *(f"worker-{n}" for n in range(WORKERS))):
        assert "Traceback" not in deployment.log(name), deployment.log(name)
