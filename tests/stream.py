"""A seeded stream of GitHub deliveries over several key results, and the truth it must end in.

Each work item and each key-result anchor has a timeline of versions, one per event, every event at
its own second; an event's body shows the issue as it is at that version (sub_issues bodies show the
parent anchor as it is then, too). The posting order is the timeline's, disturbed: some events arrive
after newer ones for the same issue, some are delivered twice with the same delivery id.

The truth is computed here, from the timelines alone, with none of okrbot's code: an issue ends as its
newest version; a work item belongs to the key result of its newest sub_issues event.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.payloads import REPO, github_issue, github_issues_event, github_sub_issue_event

PEOPLE = ("alice", "bob", "carol", "dave")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STATES = {"open": (None, "open"), "done": ("completed", "closed"), "dropped": ("not_planned", "closed")}


@dataclass(frozen=True)
class Post:
    event: str  # X-GitHub-Event
    body: bytes
    delivery: str  # X-GitHub-Delivery; a redelivery repeats it


@dataclass
class Issue:
    number: int
    anchor: bool
    state: str = "open"
    assignee: str | None = None
    parent: int | None = None  # the anchor's number (work items only)
    at: datetime = T0  # the time of its newest version so far

    def body(self) -> dict:
        reason, state = STATES[self.state]
        labels = ("key-result",) if self.anchor else ()
        return github_issue(self.number, title=f"{'KR' if self.anchor else 'Task'} {self.number}", state=state,
                            state_reason=reason, labels=labels,
                            assignees=(self.assignee,) if self.assignee else (),
                            updated_at=self.at.strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclass(frozen=True)
class Truth:
    """What one worker applying the stream in timeline order ends with, per key result."""

    n_open: int
    n_done: int
    n_dropped: int
    owner: str | None
    members: frozenset[str]  # work-item keys


@dataclass
class Scenario:
    seed: int
    key_results: int = 6
    items_per_kr: int = 10
    events: int = 600
    app_installation: int | None = None  # bodies carry `installation` (a GitHub App) when set
    redelivered: float = 0.05
    late: float = 0.10
    posts: list[Post] = field(default_factory=list)
    truth: dict[str, Truth] = field(default_factory=dict)  # by key-result id

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        anchors = [Issue(100 * (k + 1), anchor=True, assignee=rng.choice(PEOPLE)) for k in range(self.key_results)]
        items = [Issue(a.number + j + 1, anchor=False, parent=a.number)
                 for a in anchors for j in range(self.items_per_kr)]
        self._clock = T0
        by_number = {a.number: a for a in anchors}
        timeline: list[tuple[str, dict]] = []
        for anchor in anchors:
            timeline.append(self._issues_event(anchor, "opened"))
        for item in items:
            timeline.append(self._link(item, by_number[item.parent], linked=True))
        for _ in range(self.events):
            timeline.append(self._random_event(rng, anchors, items, by_number))
        self.posts = self._disturb(rng, timeline)
        self.truth = _truth(anchors, items)

    def _tick(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def _issues_event(self, issue: Issue, action: str) -> tuple[str, dict]:
        issue.at = self._tick()
        return "issues", self._shaped(github_issues_event(action, issue.body()))

    def _link(self, item: Issue, anchor: Issue, linked: bool) -> tuple[str, dict]:
        item.at = self._tick()
        item.parent = anchor.number if linked else None
        action = "sub_issue_added" if linked else "sub_issue_removed"
        return "sub_issues", self._shaped(github_sub_issue_event(action, anchor.body(), item.body()))

    def _random_event(self, rng: random.Random, anchors, items, by_number) -> tuple[str, dict]:
        if rng.random() < 0.08:  # the owner changes
            anchor = rng.choice(anchors)
            anchor.assignee = rng.choice([p for p in PEOPLE if p != anchor.assignee])
            return self._issues_event(anchor, "assigned")
        item = rng.choice(items)
        roll = rng.random()
        if roll < 0.12:  # moves to another key result, or leaves, or comes back
            if item.parent is not None and rng.random() < 0.5:
                return self._link(item, by_number[item.parent], linked=False)
            return self._link(item, rng.choice(anchors), linked=True)
        if roll < 0.25:
            item.assignee = rng.choice(PEOPLE)
            return self._issues_event(item, "assigned")
        new_state = rng.choice([s for s in STATES if s != item.state])
        item.state = new_state
        return self._issues_event(item, "reopened" if new_state == "open" else "closed")

    def _shaped(self, body: dict) -> dict:
        body.pop("installation", None)
        if self.app_installation is not None:
            body["installation"] = {"id": self.app_installation, "node_id": "MDIzOkludGVncmF0aW9uMQ=="}
        return body

    def _disturb(self, rng: random.Random, timeline: list[tuple[str, dict]]) -> list[Post]:
        posts = [Post(event, json.dumps(body).encode(), str(uuid.UUID(int=rng.getrandbits(128))))
                 for event, body in timeline]
        for i in range(len(posts) - 1):  # arrives after a newer one
            if rng.random() < self.late:
                j = min(len(posts) - 1, i + rng.randint(1, 8))
                posts[i], posts[j] = posts[j], posts[i]
        for post in list(posts):  # delivered again, same delivery id, a little later
            if rng.random() < self.redelivered:
                posts.insert(min(len(posts), posts.index(post) + rng.randint(1, 20)), post)
        return posts


def kr_id(anchor_number: int) -> str:
    return "gh-" + REPO.lower().replace("/", "-") + f"-{anchor_number}"


def item_key(number: int) -> str:
    return f"github:{REPO}#{number}"


def _truth(anchors: list[Issue], items: list[Issue]) -> dict[str, Truth]:
    truth = {}
    for anchor in anchors:
        members = [i for i in items if i.parent == anchor.number]
        count = {s: sum(1 for i in members if i.state == s) for s in STATES}
        truth[kr_id(anchor.number)] = Truth(count["open"], count["done"], count["dropped"], anchor.assignee,
                                            frozenset(item_key(i.number) for i in members))
    return truth
