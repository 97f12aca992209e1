"""GitHub owner and repository names ignore case: okrs.yml and `okr:` labels may spell them as they like.

The webhook fixtures say `Codertocat/Hello-World`; the file below says `codertocat/hello-world`. Every
step goes through the signed webhook path and is checked through the read API.
"""

from __future__ import annotations

import os
import textwrap

import pytest

from tests.conftest import drain
from tests.mappings.test_github_key_results import assert_recount_agrees, kr_json, numbers
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

ANCHOR_KEY = "github:Codertocat/Hello-World#10"  # as GitHub spells it
OKRS = textwrap.dedent("""\
    period: {start: 2026-10-01, end: 2026-12-31}
    objectives:
      - id: onboarding
        title: Onboard faster
        key_results:
          - id: ship
            title: Ship the new onboarding
            sources:
              - github_issue: codertocat/hello-world#10
    """)
LATER = """\
      - id: later
        title: Found on reload
        sources:
          - github_issue: CODERTOCAT/HELLO-WORLD#20
          - github_milestone: codertocat/hello-world/7
          - github_label: {repo: codertocat/HELLO-world, label: Growth}
"""


@pytest.fixture
def rt(make_runtime, settings, okrs_path):
    return make_runtime(settings.with_overrides(mappings=str(okrs_path)))


@pytest.fixture
def post(post_github, rt):
    def post(body: dict, event: str = "issues"):
        response = post_github(body, event=event)
        assert response.status_code == 202, response.get_json()
        drain(rt)

    return post


def rewrite(path, text: str, stamp: int) -> None:
    path.write_text(text)
    os.utime(path, (1, stamp))


def feed_anchor_with_children(post, number: int, children: tuple[int, ...], owner: str = "alice") -> None:
    parent = github_issue(number, assignees=(owner,), updated_at="2026-11-02T10:00:00Z")
    post(github_issues_event("opened", parent))
    for n, child in enumerate(children):
        state = "closed" if n == 0 else "open"
        sub = github_issue(child, state=state, updated_at="2026-11-03T10:00:00Z")
        post(github_sub_issue_event("sub_issue_added", parent, sub), event="sub_issues")


def test_a_file_anchor_spelt_in_lower_case_is_the_webhooks_issue_and_stays_so_on_reload(client, post, rt,
                                                                                        okrs_path):
    feed_anchor_with_children(post, 10, (11, 12))
    ship = kr_json(client, "ship")
    assert (ship["anchor"]["key"], ship["owner"]["login"], numbers(ship)) == (ANCHOR_KEY, "alice", (1, 0, 2, 50.0))

    rewrite(okrs_path, OKRS.replace("Ship the new onboarding", "Ship onboarding"), 2_000_000_000)
    post(github_issues_event("edited", github_issue(99, updated_at="2026-11-04T10:00:00Z")))  # reloads
    ship = kr_json(client, "ship")
    assert (ship["title"], ship["anchor"]["key"], ship["owner"]["login"]) == ("Ship onboarding", ANCHOR_KEY,
                                                                              "alice")
    assert (ship["ownership"], numbers(ship)) == ("ok", (1, 0, 2, 50.0))
    assert_recount_agrees(rt)


def test_a_key_result_added_on_reload_finds_the_stored_work_of_every_source_whatever_the_case(
        client, post, rt, okrs_path):
    feed_anchor_with_children(post, 20, (21,), owner="bob")
    post(github_issues_event("milestoned", github_issue(30, milestone=7, updated_at="2026-11-04T10:00:00Z")))
    post(github_issues_event("labeled", github_issue(31, state="closed", labels=("growth",),
                                                     updated_at="2026-11-04T10:00:00Z")))
    rewrite(okrs_path, OKRS + LATER, 2_000_000_000)
    post(github_issues_event("edited", github_issue(99, updated_at="2026-11-05T10:00:00Z")))  # reloads
    later = kr_json(client, "later")
    assert (later["anchor"]["key"], later["owner"]["login"]) == ("github:Codertocat/Hello-World#20", "bob")
    assert sorted(w["key"] for w in later["work_items"]) == [
        "github:Codertocat/Hello-World#21", "github:Codertocat/Hello-World#30", "github:Codertocat/Hello-World#31"]
    assert numbers(later) == (2, 0, 3, pytest.approx(66.7, abs=0.05))
    assert_recount_agrees(rt)


def test_okr_labels_name_a_key_result_in_any_case_before_and_after_it_exists(client, post, rt):
    early = github_issue(40, labels=("okr:GH-Codertocat-Hello-World-50",), updated_at="2026-11-02T10:00:00Z")
    post(github_issues_event("labeled", early))
    post(github_issues_event("opened", github_issue(50, labels=("key-result",), assignees=("carol",),
                                                    updated_at="2026-11-02T11:00:00Z")))
    post(github_issues_event("labeled", github_issue(41, state="closed", labels=("OKR:Ship",),
                                                     updated_at="2026-11-03T10:00:00Z")))
    post(github_issues_event("labeled", github_issue(42, state="closed", labels=("okr:gh-codertocat-hello-world-50",),
                                                     updated_at="2026-11-03T10:00:00Z")))
    convention = kr_json(client, "gh-codertocat-hello-world-50")
    assert convention["anchor"]["key"] == "github:Codertocat/Hello-World#50"
    assert [w["key"] for w in convention["work_items"]] == ["github:Codertocat/Hello-World#40",
                                                            "github:Codertocat/Hello-World#42"]
    assert numbers(convention) == (1, 0, 2, 50.0)
    assert [w["key"] for w in kr_json(client, "ship")["work_items"]] == ["github:Codertocat/Hello-World#41"]
    assert_recount_agrees(rt)
