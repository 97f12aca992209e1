"""Summaries that tell the truth (issue 13): each case that was found, through the real webhook path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from integration.summaries.build import targets
from integration.summaries.post import compose
from mappings.models import KeyResultEvent
from tests.integration.summaries import test_summaries as base
from tests.payloads import github_issue, github_issues_event

rt, world = base.rt, base.world  # the fixtures: a labelled summary issue and one key result with two items


def summary(rt, now=None) -> str:
    with rt.sessions() as session:
        [target] = targets(rt, session)
        return compose(rt, session, target, now or datetime.now(UTC))[0]


def kr_line(body: str) -> str:
    lines = body.splitlines()
    return lines[next(i for i, line in enumerate(lines) if "Ship the new onboarding" in line) + 1]


def close(post, n, stamp, reason="completed"):
    post(github_issues_event("closed", github_issue(n, state="closed", state_reason=reason,
                                                    updated_at=f"2026-11-04T{stamp}:00Z")))


def reopen(post, n, stamp):
    post(github_issues_event("reopened", github_issue(n, updated_at=f"2026-11-04T{stamp}:00Z")))


def test_closed_then_reopened_in_the_week_is_not_done(rt, world):
    close(world, 12, "10:00")
    reopen(world, 12, "11:00")
    body = summary(rt)
    assert "done this week" not in kr_line(body)
    assert "Nothing was finished this week." in body
    assert "#12" not in body


def test_closed_reopened_and_closed_again_counts_once(rt, world):
    close(world, 12, "10:00")
    reopen(world, 12, "11:00")
    close(world, 12, "12:00")
    body = summary(rt)
    assert "1 done this week" in kr_line(body)
    assert body.count("#12") == 1
    assert "(1)" in body  # the contributor's count


def test_a_brand_new_key_result_has_no_forecast_and_no_movement_to_report(rt, world):
    body = summary(rt)
    assert kr_line(body).endswith("not enough history yet")
    assert "no movement" not in body.lower()


def test_no_movement_is_counted_from_creation_when_the_history_is_older(rt, world):
    with rt.engine.begin() as conn:  # history older than the key result itself (e.g. an earlier one of that id)
        conn.execute(update(KeyResultEvent).values(at=datetime.now(UTC) - timedelta(days=30)))
    body = summary(rt)
    assert "No movement" not in body and "unchanged for" not in body


def test_scope_leaves_dropped_work_out_in_the_burnup(rt, world):
    close(world, 12, "10:00", reason="not_planned")
    body = summary(rt)
    assert "100%" in kr_line(body)  # 1 done of 1: the dropped item left both sides
    scope_line = [line for line in body.splitlines() if line.startswith("    line [")][1]
    assert scope_line.endswith(", 1]")
