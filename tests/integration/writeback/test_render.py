"""The progress comment's exact text on GitHub and Jira (golden files in tests/integration/golden)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt

from core.events import Person
from integration.markup import GITHUB, JIRA, bar
from integration.writeback.render import Change, CommentView, numbers_line, render_comment
from mappings.checkins import Checkin, CheckinStatus
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


# --- the owner's check-in (issue 13) --------------------------------------------------------------

ALICE = Person(login="alice", name="Alice Liddell")
CHECKIN = Checkin(kr_id=VIEW.kr_id, status=CheckinStatus.AT_RISK, confidence=6, note="vendor API slipped a week",
                  by="alice", at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
                  updated_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC), url="https://github.com/acme/web/issues/12#c1")
WITH_CHECKIN = replace(VIEW, checkin=CHECKIN, owner_person=ALICE, updated_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC))


def _checkin_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Check-in by"))


def test_golden_comment_with_checkin():
    golden("comment-checkin.github.md", render_comment(WITH_CHECKIN, GITHUB))
    golden("comment-checkin.jira.txt", render_comment(WITH_CHECKIN, JIRA))


def test_checkin_line_as_the_issue_writes_it():
    # GitHub shows "@alice" (a zero-width space after the "@": an edit of the comment pings nobody)
    assert _checkin_line(render_comment(WITH_CHECKIN, GITHUB)) == \
        "Check-in by @&#8203;alice, 2 Dec: at risk (6/10): vendor API slipped a week"
    # Jira: the owner's display name, never a [~mention]
    assert _checkin_line(render_comment(WITH_CHECKIN, JIRA)) == \
        "Check-in by Alice Liddell, 2 Dec: at risk (6/10): vendor API slipped a week"


@pytest.mark.parametrize(("confidence", "note", "line"), [
    (None, "vendor API slipped a week", "Check-in by @&#8203;alice, 2 Dec: at risk: vendor API slipped a week"),
    (6, "", "Check-in by @&#8203;alice, 2 Dec: at risk (6/10)"),
    (None, "  ", "Check-in by @&#8203;alice, 2 Dec: at risk"),
    (0, "", "Check-in by @&#8203;alice, 2 Dec: at risk (0/10)"),
])
def test_checkin_line_without_confidence_or_note(confidence, note, line):
    view = replace(WITH_CHECKIN, checkin=replace(CHECKIN, confidence=confidence, note=note))
    assert _checkin_line(render_comment(view, GITHUB)) == line


def test_checkin_of_another_year_says_the_year():
    view = replace(WITH_CHECKIN, updated_at=datetime(2027, 1, 4, tzinfo=UTC))
    assert _checkin_line(render_comment(view, JIRA)).startswith("Check-in by Alice Liddell, 2 Dec 2026: ")
    # a check-in newer than the key result's last change is this year's news: no year
    fresh = replace(CHECKIN, at=datetime(2027, 1, 5, tzinfo=UTC))
    view = replace(WITH_CHECKIN, checkin=fresh, updated_at=datetime(2026, 12, 20, tzinfo=UTC))
    assert _checkin_line(render_comment(view, JIRA)).startswith("Check-in by Alice Liddell, 5 Jan: ")


def test_no_checkin_no_line():
    assert "Check-in" not in render_comment(VIEW, GITHUB) and "Check-in" not in render_comment(VIEW, JIRA)


EVIL = ("@bob and @acme/team, see [~carol] [~accountid:5b10ac8d82e05b22cc7d4ef5] <img src=x onerror=alert(1)> "
        "**bold** [link](https://evil.example) ![i](https://evil.example/i.png) &amp; {html}<b>x</b>{html} "
        "!pic.png! [x|https://evil.example] {{mono}}\n# not a heading\n> not a quote")


def test_a_note_notifies_no_one_and_brings_no_markup():
    view = replace(WITH_CHECKIN, checkin=replace(CHECKIN, note=EVIL))
    github = _checkin_line(render_comment(view, GITHUB))
    assert re.search(r"@[\w-]", github) is None  # every "@" is followed by the zero-width space
    # rendered as Markdown (CommonMark, raw HTML on, as GitHub allows some): no tag, link or emphasis from
    # the note, only its characters, on one line
    note = github.split(": ", 2)[2]
    shown = MarkdownIt("commonmark", {"html": True}).renderInline(note)
    assert "<" not in shown.replace("&lt;", "")
    assert html.unescape(shown).replace("\u200b", "") == " ".join(EVIL.split())
    jira = _checkin_line(render_comment(view, JIRA)).split(": ", 2)[2]
    # wiki markup: every special character escaped with a backslash, nothing else changed but the line breaks
    bare = re.sub(r"\\.", "", jira)
    assert not set(bare) & set("*_+^~{}[]|!?#-\\")
    assert re.sub(r"\\(.)", r"\1", jira) == " ".join(EVIL.split())


def test_a_backslash_in_a_note_breaks_no_line_on_jira_and_escapes_nothing_on_github():
    view = replace(WITH_CHECKIN, checkin=replace(CHECKIN, note="C:\\temp \\\\ \\[~bob]"))
    assert _checkin_line(render_comment(view, JIRA)).endswith(": C:\u29f5temp \u29f5\u29f5 \u29f5\\[\\~bob\\]")
    github = _checkin_line(render_comment(view, GITHUB)).split(": ", 2)[2]
    assert html.unescape(MarkdownIt("commonmark").renderInline(github)) == "C:\\temp \\\\ \\[~bob]"
