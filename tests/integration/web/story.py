"""A small OKR story over five days, as real GitHub webhook bodies, and what the pages must then show.

Day by day the story's deliveries are posted (signed, through the receiver) and then applied through the
worker's apply path dated that day (`apply_stored`), so that the key results have five days of history.
okrs.yml fixes the period around today (so the story never straddles two quarters) and declares one
file key result fed by a label.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from integration.apply.mapping_sync import sync_mapping_file
from integration.apply.processing import apply_stored
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event
from webhooks.models import RECEIVED, Delivery

DAYS = 9  # a forecast needs at least 7 days of history, whatever the hour the test runs
SIGNUPS = "signups"
ONBOARDING, REFERRALS, LATENCY = "gh-codertocat-hello-world-10", "gh-codertocat-hello-world-20", \
    "gh-codertocat-hello-world-30"
STALE_DAYS = 3  # the test runtime's OKRBOT_STALE_DAYS: the referrals never move after day 0

OKRS = """\
period: {{start: {start}, end: {end}}}
objectives:
  - id: signups-up
    title: Grow sign-ups
    key_results:
      - id: signups
        title: 1,000 weekly sign-ups
        owner: dave
        sources:
          - github_label: {{repo: Codertocat/Hello-World, label: growth}}
"""

# what the pages must show, from the story alone
DONE_PER_DAY = {ONBOARDING: [0, 0, 1, 1, 2, 2, 2, 2, 3]}  # of 4 items
OWNERS = {ONBOARDING: "alice", REFERRALS: None, LATENCY: "bob", SIGNUPS: "dave"}
NEEDS_OWNER = {REFERRALS, LATENCY}
STALE = {REFERRALS}
OFF_TRACK_OR_AT_RISK = {REFERRALS, LATENCY}


def first_day(today: date) -> date:
    return today - timedelta(days=DAYS - 1)


def okrs_text(today: date) -> str:
    return OKRS.format(start=today - timedelta(days=30), end=today + timedelta(days=60))


def _stamp(day: date, minute: int) -> str:
    return f"{day.isoformat()}T09:{minute:02d}:00Z"


def deliveries(today: date) -> list[list[tuple[str, dict]]]:
    """(X-GitHub-Event, body) per day; the last day is today."""
    d = [first_day(today) + timedelta(days=i) for i in range(DAYS)]
    s0 = _stamp(d[0], 0)
    objective = github_issue(1, title="Grow adoption", labels=("objective",), updated_at=s0)
    onboarding = github_issue(10, title="Ship the new onboarding", labels=("key-result",), assignees=("alice",),
                              updated_at=s0)
    referrals = github_issue(20, title="Launch referrals", labels=("key-result",), updated_at=s0)
    latency = github_issue(30, title="Cut p95 latency", labels=("key-result",), assignees=("bob", "carol"),
                           updated_at=s0)
    children = {10: {11: "bob", 12: "dave", 13: None, 14: "bob"}, 20: {21: "erin", 22: "erin"},
                30: {31: "carol", 32: "carol", 33: "carol"}}
    parents = {10: onboarding, 20: referrals, 30: latency}
    day0 = [("issues", github_issues_event("opened", i)) for i in (objective, onboarding, referrals, latency)]
    day0 += [("sub_issues", github_sub_issue_event("sub_issue_added", objective, kr)) for kr in (onboarding, referrals)]
    for parent, kids in children.items():
        for n, who in kids.items():
            child = github_issue(n, assignees=(who,) if who else (), updated_at=s0)
            day0 += [("issues", github_issues_event("opened", child)),
                     ("sub_issues", github_sub_issue_event("sub_issue_added", parents[parent], child))]
    for n in (41, 42):
        day0.append(("issues", github_issues_event("opened", github_issue(n, labels=("growth",), assignees=("dave",),
                                                                          updated_at=s0))))

    def close(n: int, day: int, who: str | None, reason: str = "completed", labels=()) -> tuple[str, dict]:
        issue = github_issue(n, state="closed", state_reason=reason, assignees=(who,) if who else (), labels=labels,
                             updated_at=_stamp(d[day], 5))
        return "issues", github_issues_event("closed", issue, sender=who or "alice")

    days: list[list[tuple[str, dict]]] = [day0] + [[] for _ in range(DAYS - 1)]
    days[2] = [close(11, 2, "bob")]
    days[4] = [close(12, 4, "dave")]
    days[6] = [close(41, 6, "dave", labels=("growth",))]
    days[7] = [close(31, 7, "carol", "not_planned")]
    days[8] = [close(13, 8, None)]
    return days


def play(rt, post, okrs_path, now: datetime | None = None) -> None:
    """Post each day's deliveries with `post(event, body)` and apply them dated that day, at 10:00 (today: now)."""
    now = now or datetime.now(UTC)
    today = now.date()
    okrs_path.write_text(okrs_text(today))
    for i, todays in enumerate(deliveries(today)):
        day = first_day(today) + timedelta(days=i)
        at = min(datetime.combine(day, time(10, 0), tzinfo=UTC), now)
        if i == 0:
            sync_mapping_file(rt, now=at, force=True)
        if not todays:
            continue
        for event, body in todays:
            response = post(event, body)
            assert response == 202, response
        rt.doorbell.flush()
        with rt.sessions() as session:
            ids = list(session.scalars(select(Delivery.id).where(Delivery.status == RECEIVED).order_by(Delivery.id)))
        assert ids, f"day {i}: nothing stored"
        apply_stored(rt, ids, now=at)


