"""Ownership, progress and health: pure functions, tested at their edges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.events import Person
from integration.config import Settings
from mappings.progress import (
    NO_WORK,
    Counters,
    Thresholds,
    compute_health,
    compute_ownership,
    compute_progress,
    objective_percent,
    period_fraction,
)

DEFAULTS = Settings().thresholds  # 10 and 25 points: the defaults of the one place they live

Q4 = (date(2026, 10, 1), date(2026, 12, 31))


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_count_leaves_dropped_out_of_both_sides():
    p = compute_progress("count", Counters(open=3, done=6, dropped=1), None, "open")
    assert (p.done, p.dropped, p.total, p.percent, p.display_percent) == (6, 1, 9, pytest.approx(66.666, 0.01),
                                                                          pytest.approx(66.666, 0.01))


def test_points_count_unestimated_items_as_one_and_report_them():
    c = Counters(open=2, done=1, points_open=1.0 + 5.0, points_done=3.0, unestimated=1)
    p = compute_progress("points", c, None, None)
    assert (p.done, p.total, p.percent, p.unestimated) == (3.0, 9.0, pytest.approx(33.333, 0.01), 1)


def test_target_keeps_the_raw_percentage_and_caps_the_display():
    p = compute_progress("count", Counters(open=40, done=25), 20, None)
    assert (p.percent, p.display_percent, p.target) == (125.0, 100.0, 20)
    assert compute_progress("count", Counters(open=1, done=5), 20, None).percent == 25.0


@pytest.mark.parametrize(("state", "percent"), [("open", 0.0), ("done", 100.0)])
def test_key_result_issue_without_work_is_its_own_state(state, percent):
    p = compute_progress("count", Counters(), None, state)
    assert (p.done, p.total, p.percent, p.note) == (1 if state == "done" else 0, 1, percent, None)


def test_no_work_and_no_state_is_zero_of_zero():
    p = compute_progress("count", Counters(), None, None)
    assert (p.done, p.total, p.percent, p.note) == (0, 0, None, NO_WORK)


def test_all_work_dropped_has_no_percentage():
    assert compute_progress("count", Counters(dropped=3), None, "open").percent is None


@pytest.mark.parametrize(
    ("assignees", "override", "status", "owner", "others", "team"),
    [
        ([], None, "none", None, (), None),
        ([{"login": "alice", "name": "Alice"}], None, "ok", Person("alice", "Alice"), (), None),
        ([{"login": "a"}, {"login": "b"}], None, "shared", Person("a"), (Person("b"),), None),
        ([{"login": "a"}, {"login": "b"}], "carol", "ok", Person("carol"), (), None),
        ([], "@carol", "ok", Person("carol"), (), None),
        ([{"login": "a"}], "@acme/platform", "team", None, (), "@acme/platform"),
        ([], "group:jira-developers", "team", None, (), "group:jira-developers"),
    ],
)
def test_ownership(assignees, override, status, owner, others, team):
    o = compute_ownership(assignees, override)
    assert (o.status, o.owner, o.others, o.team) == (status, owner, others, team)


def test_period_fraction_edges():
    assert period_fraction(*Q4, at("2026-09-30", 23)) == 0.0
    assert period_fraction(*Q4, at("2026-10-01")) == 0.0
    assert period_fraction(*Q4, at("2027-01-01")) == 1.0
    assert period_fraction(*Q4, at("2026-11-16")) == pytest.approx(0.5, abs=0.001)


@pytest.mark.parametrize(
    ("percent", "now", "health"),
    [
        (None, at("2026-11-15"), "unknown"),
        (0.0, at("2026-09-30"), "not_started"),
        (0.0, at("2026-10-01", 1), "on_track"),
        (40.0, at("2026-11-16"), "on_track"),  # expected 50: 10 below is still on track
        (39.9, at("2026-11-16"), "at_risk"),
        (25.0, at("2026-11-16"), "at_risk"),  # 25 below: at risk down to here
        (24.9, at("2026-11-16"), "off_track"),
        (100.0, at("2027-02-01"), "on_track"),
        (80.0, at("2027-02-01"), "at_risk"),  # after the period the bar is 100
        (74.9, at("2027-02-01"), "off_track"),
    ],
)
def test_health_at_the_edges(percent, now, health):
    assert compute_health(percent, *Q4, now, DEFAULTS) == health


def test_health_thresholds_are_configurable():
    assert compute_health(45.0, *Q4, at("2026-11-16"), Thresholds(at_risk=5, off_track=10)) == "on_track"
    assert compute_health(44.9, *Q4, at("2026-11-16"), Thresholds(at_risk=5, off_track=10)) == "at_risk"
    assert compute_health(39.0, *Q4, at("2026-11-16"), Thresholds(at_risk=5, off_track=10)) == "off_track"


def test_objective_progress_is_the_weighted_mean_of_capped_key_results():
    assert objective_percent([(50.0, None), (100.0, None)]) == 75.0
    assert objective_percent([(50.0, 3), (100.0, 1)]) == 62.5
    assert objective_percent([(150.0, None), (50.0, None)]) == 75.0
    assert objective_percent([(None, 2), (40.0, None)]) == 40.0
    assert objective_percent([]) is None
