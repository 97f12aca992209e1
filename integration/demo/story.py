"""The sample's story as GitHub webhook deliveries, day by day: pure (no I/O, no database).

Two objectives and six key results in the repository `okrbot-demo/sample`: owned, ownerless, shared and
reassigned key results; one that moves steadily, one that lags, one that stalls, one whose scope grows.
Each day's deliveries are what GitHub would send that day (`issues` and `sub_issues` bodies with the
fields the parser reads); `okrbot demo` stores them in the inbox and applies them through the worker's
apply path, dated that day, so the key results have weeks of history.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

REPO = "okrbot-demo/sample"
DELIVERY_PREFIX = "okrbot-demo-"
HISTORY_DAYS = 42  # six weeks, when the period has had them
DAY_STARTS = time(9, 0)


@dataclass(frozen=True)
class Delivery:
    event: str  # X-GitHub-Event
    body: bytes


@dataclass
class Issue:
    number: int
    title: str
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    state: str = "open"  # open | done | dropped
    at: datetime = datetime(2000, 1, 1, tzinfo=UTC)

    def payload(self) -> dict:
        closed = self.state != "open"
        people = [{"login": login, "id": 7000 + sum(map(ord, login)), "type": "User"} for login in self.assignees]
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "id": 880000 + self.number, "number": self.number, "title": self.title,
            "state": "closed" if closed else "open",
            "state_reason": {"done": "completed", "dropped": "not_planned"}.get(self.state),
            "updated_at": stamp, "closed_at": stamp if closed else None, "created_at": stamp,
            "labels": [{"id": 50 + i, "name": name} for i, name in enumerate(self.labels)],
            "assignees": people, "assignee": people[0] if people else None,
            "html_url": f"https://github.com/{REPO}/issues/{self.number}",
            "repository_url": f"https://api.github.com/repos/{REPO}",
            "user": {"login": "okrbot-demo", "id": 1, "type": "User"},
        }


@dataclass(frozen=True)
class KRPlan:
    number: int
    title: str
    owners: tuple[str, ...]  # () = no owner, two = shared
    items: int
    pace: float  # share of the items done by today
    dropped: int = 0
    stall_after: float | None = None  # no progress after this share of the days
    grows_by: int = 0  # items added half-way through
    reassign_to: str | None = None  # the anchor changes hands a third of the way in


OBJECTIVES = ((1, "[sample] Grow adoption", (
    KRPlan(10, "[sample] Ship the new onboarding", ("alice",), 10, 0.8),
    KRPlan(11, "[sample] Reach 1,000 weekly sign-ups", ("bob",), 8, 0.25),
    KRPlan(12, "[sample] Launch the referral programme", (), 6, 0.5),
)), (2, "[sample] Make the product reliable", (
    KRPlan(20, "[sample] Cut p95 latency to 200 ms", ("carol", "dave"), 9, 0.7, dropped=1),
    KRPlan(21, "[sample] No data-loss incident", ("erin",), 6, 0.35, stall_after=0.3),
    KRPlan(22, "[sample] Automate releases", ("alice",), 6, 0.6, grows_by=4, reassign_to="frank"),
)))
CONTRIBUTORS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace")


@dataclass
class Story:
    """What happens on each day (index 0 = the first day), built up by `story`."""

    days: list[list[Delivery]]
    start: date
    _clock: dict[int, int] = field(default_factory=dict)  # seconds used per day, to order the versions

    def at(self, day: int) -> datetime:
        used = self._clock.get(day, 0) + 1
        self._clock[day] = used
        return datetime.combine(self.start + timedelta(days=day), DAY_STARTS, tzinfo=UTC) + timedelta(seconds=used)

    def issue_event(self, day: int, action: str, issue: Issue, sender: str = "okrbot-demo") -> None:
        issue.at = self.at(day)
        body = {"action": action, "issue": issue.payload(), "repository": _repository(),
                "sender": {"login": sender, "id": 1, "type": "User"}}
        self.days[day].append(Delivery("issues", json.dumps(body).encode()))

    def link(self, day: int, parent: Issue, child: Issue) -> None:
        self.at(day)
        body = {"action": "sub_issue_added", "parent_issue_id": parent.payload()["id"],
                "parent_issue": parent.payload(), "sub_issue_id": child.payload()["id"], "sub_issue": child.payload(),
                "repository": _repository(), "sender": {"login": "okrbot-demo", "id": 1, "type": "User"}}
        self.days[day].append(Delivery("sub_issues", json.dumps(body).encode()))


def _repository() -> dict:
    owner, name = REPO.split("/")
    return {"id": 880000, "name": name, "full_name": REPO, "owner": {"login": owner, "id": 2, "type": "Organization"},
            "html_url": f"https://github.com/{REPO}"}


def history_days(today: date, period_start: date) -> int:
    """Up to six weeks back, never before the period: the key results belong to the current one."""
    return max(0, min(HISTORY_DAYS, (today - period_start).days))


def story(today: date, period_start: date, seed: int = 12) -> Story:
    """Every delivery of the sample, grouped by day; the last day is today."""
    span = history_days(today, period_start)
    s = Story(days=[[] for _ in range(span + 1)], start=today - timedelta(days=span))
    rng = random.Random(seed)
    number = 100
    for objective_number, title, plans in OBJECTIVES:
        objective = Issue(objective_number, title, labels=("objective",))
        s.issue_event(0, "opened", objective)
        for plan in plans:
            number = _key_result(s, rng, objective, plan, span, number)
    return s


def _key_result(s: Story, rng: random.Random, objective: Issue, plan: KRPlan, span: int, number: int) -> int:
    anchor = Issue(plan.number, plan.title, labels=("key-result",), assignees=plan.owners)
    s.issue_event(0, "opened", anchor)
    s.link(0, objective, anchor)
    items = []
    for k in range(plan.items + plan.grows_by):
        day = 0 if k < plan.items else span // 2
        item = Issue(number, f"[sample] {plan.title.removeprefix('[sample] ')}: step {k + 1}",
                     assignees=(rng.choice(CONTRIBUTORS),))
        number += 1
        s.issue_event(day, "opened", item)
        s.link(day, anchor, item)
        items.append((day, item))
    if plan.reassign_to:
        anchor.assignees = (plan.reassign_to,)
        s.issue_event(span // 3, "assigned", anchor)
    last_day = round(span * plan.stall_after) if plan.stall_after is not None else span
    to_close = round(plan.pace * len(items))
    for k, (opened, item) in enumerate(items[:to_close + plan.dropped]):
        item.state = "dropped" if k >= to_close else "done"
        earliest = min(opened + 1, span)
        day = rng.randint(earliest, max(earliest, last_day)) if span else 0
        s.issue_event(day, "closed", item, sender=item.assignees[0])
    return number
