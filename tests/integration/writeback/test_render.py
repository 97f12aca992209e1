"""The progress comment's exact text on GitHub and Jira (golden files in tests/integration/golden)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from integration.markup import GITHUB, JIRA, bar
from integration.writeback.render import Change, CommentView, numbers_line, render_comment
from tests.golden import golden

VIEW = CommentView(
    kr_id="gh-acme-web-12", title="Ship the new onboarding", objective="Grow adoption",
    period=("2026-10-01", "2026-12-31"), measure="count", done=6, dropped=1, total=10, target=None,
    percent=60.0, unestimated=0, health="on_track", ownership="ok", owner="alice", others=(), team=None,
    contributors=(("alice", 4, 1), ("bob", 2, 3)),
    changes=(Change("#12", "closed", "alice"), Change("#14", "dropped (not planned)", "bob"),
             Change("acme/api#3", "added")),
    updated_at=datetime(2026, 11, 20, 14, 5, tzinfo=UTC))



@pytest.mark.parametrize(("name", "view"), [
    ("ok", VIEW),
    ("none", replace(VIEW, ownership="none", owner=None)),
    ("shared", replace(VIEW, ownership="shared", owner="alice", others=("bob",))),
    ("team", replace(VIEW, ownership="team", owner=None, team="@acme/growth")),
])
def test_golden_comments(name, view):
    golden(f"comment-{name}.github.md", render_comment(view, GITHUB))
    golden(f"comment-{name}.jira.txt", render_comment(view, JIRA))


def test_no_mentions_anywhere():
    for view in (VIEW, replace(VIEW, ownership="team", owner=None, team="@acme/growth")):
        for text in (render_comment(view, GITHUB), render_comment(view, JIRA)):
            assert "@" not in text and "[~" not in text


def test_markers_and_numbers():
    assert render_comment(VIEW, GITHUB).startswith("<!-- okrbot:kr=gh-acme-web-12 -->\n")
    assert render_comment(VIEW, JIRA).endswith("okrbot:kr=gh-acme-web-12;~\n")
    assert "`▓▓▓▓▓▓░░░░` 60% · 6 of 10 done · 1 dropped" in render_comment(VIEW, GITHUB)
    assert bar(None) == "░" * 10 and bar(99.9) == "▓" * 9 + "░" and bar(130) == "▓" * 10
    assert numbers_line(replace(VIEW, target=20, done=25, percent=125.0, dropped=0)) == \
        "100% · 25 done of a target of 20 (125%)"
    assert numbers_line(replace(VIEW, measure="points", unestimated=2)) == \
        "60% · 6 of 10 points done · 1 points dropped · 2 without an estimate, counted as 1"
    assert numbers_line(replace(VIEW, percent=None, total=0, dropped=0, done=0)) == "no work linked yet"
