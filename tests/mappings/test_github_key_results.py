"""A GitHub key result through the real HTTP path: every step asserted through the read API."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from mappings.models import KeyResultEvent
from mappings.progress import compute_health
from tests.conftest import drain, key_result_json
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

KR = "gh-codertocat-hello-world-10"


@pytest.fixture
def feed(post_github, rt):
    def feed(body: dict, event: str = "issues", delivery: str | None = None):
        response = post_github(body, event=event, delivery=delivery)
        drain(rt)
        return response

    return feed


def kr_json(client, kr_id: str = KR) -> dict:
    return key_result_json(client, kr_id)


def numbers(body: dict) -> tuple:
    p = body["progress"]
    return p["done"], p["dropped"], p["total"], p["percent"]


def anchor(**kw) -> dict:
    return github_issue(10, title="Ship the new onboarding", labels=("key-result",), **kw)


def test_key_result_from_a_labelled_issue_with_five_sub_issues(feed, client, rt):
    feed(github_issues_event("opened", anchor(assignees=("alice",), updated_at="2026-11-02T10:00:00Z")))
    body = kr_json(client)
    assert body["title"] == "Ship the new onboarding"
    assert body["anchor"] == {"key": "github:Codertocat/Hello-World#10",
                              "url": "https://github.com/Codertocat/Hello-World/issues/10"}
    assert (body["owner"], body["ownership"]) == ({"login": "alice", "name": None}, "ok")
    assert numbers(body) == (0, 0, 1, 0.0)  # an issue with no work under it: 0% while open

    parent = anchor(assignees=("alice",), updated_at="2026-11-02T10:00:00Z")
    owners = {11: ("bob",), 12: ("dave",), 13: (), 14: ("bob",), 15: ("bob",)}
    for n in range(11, 16):
        child = github_issue(n, assignees=owners[n], updated_at="2026-11-03T10:00:00Z")
        feed(github_issues_event("opened", child))
        feed(github_sub_issue_event("sub_issue_added", parent, child), event="sub_issues")
    body = kr_json(client)
    assert numbers(body) == (0, 0, 5, 0.0)
    assert [w["key"] for w in body["work_items"]] == [f"github:Codertocat/Hello-World#{n}" for n in range(11, 16)]

    closed = github_issue(11, state="closed", state_reason="completed", assignees=("bob",),
                          updated_at="2026-11-04T10:00:00Z")
    feed(github_issues_event("closed", closed, sender="bob"), delivery="close-11")
    feed(github_issues_event("closed", github_issue(12, state="closed", state_reason="completed",
                                                    assignees=("dave",), updated_at="2026-11-04T11:00:00Z")))
    assert numbers(kr_json(client)) == (2, 0, 5, 40.0)

    feed(github_issues_event("closed", github_issue(13, state="closed", state_reason="not_planned",
                                                    updated_at="2026-11-05T10:00:00Z")))
    assert numbers(kr_json(client)) == (2, 1, 4, 50.0)  # dropped leaves both sides

    feed(github_issues_event("closed", github_issue(14, state="closed", state_reason="completed",
                                                    assignees=("bob",), updated_at="2026-11-05T11:00:00Z")))
    assert numbers(kr_json(client)) == (3, 1, 4, 75.0)
    feed(github_issues_event("reopened", github_issue(14, assignees=("bob",), updated_at="2026-11-05T12:00:00Z")))
    assert numbers(kr_json(client)) == (2, 1, 4, 50.0)  # reopened is open again

    for assignees, status, owner, t in ((("bob",), "ok", "bob", "11:00"), (("bob", "carol"), "shared", "bob", "12:00"),
                                        (("carol",), "ok", "carol", "13:00")):
        feed(github_issues_event("assigned", anchor(assignees=assignees, updated_at=f"2026-11-06T{t}:00Z")))
        body = kr_json(client)
        assert (body["ownership"], body["owner"]["login"]) == (status, owner)
        if status == "shared":
            assert body["ownership_detail"] == {"status": "shared", "others": [{"login": "carol", "name": None}]}

    duplicate = feed(github_issues_event("closed", closed, sender="bob"), delivery="close-11")
    assert duplicate.get_json() == {"status": "duplicate"}
    assert numbers(kr_json(client)) == (2, 1, 4, 50.0)

    newer = github_issue(15, state="closed", state_reason="completed", assignees=("bob",),
                         updated_at="2026-11-08T10:00:00Z")
    older = github_issue(15, title="Issue 15, renamed", assignees=("bob",), updated_at="2026-11-07T10:00:00Z")
    feed(github_issues_event("closed", newer))
    feed(github_issues_event("edited", older))  # arrives late: the newer state stands
    body = kr_json(client)
    assert numbers(body) == (3, 1, 4, 75.0)
    assert body["contributors"] == [{"login": "bob", "done": 2, "open": 1}, {"login": "dave", "done": 1, "open": 0}]
    now = datetime.now(UTC)
    period = body["period"]
    expected = compute_health(75.0, date.fromisoformat(period["start"]), date.fromisoformat(period["end"]), now,
                              rt.settings.thresholds)
    assert body["health"] == expected

    with rt.sessions() as s:
        kinds = [(e.kind, e.data.get("owner")) for e in s.scalars(
            select(KeyResultEvent).where(KeyResultEvent.kr_id == KR, KeyResultEvent.kind == "owner")
            .order_by(KeyResultEvent.id))]
    assert kinds == [("owner", "alice"), ("owner", "bob"), ("owner", "bob"), ("owner", "carol")]
    assert_recount_agrees(rt)


def assert_recount_agrees(rt):
    from integration.db import unit_of_work
    from mappings.recount import recount

    with unit_of_work(rt.sessions) as session:
        assert recount(rt.domain.context(session, cause="recount")) == []


def test_removing_the_label_ends_the_key_result_and_keeps_its_history(feed, client, rt):
    feed(github_issues_event("opened", anchor(updated_at="2026-11-02T10:00:00Z")))
    assert kr_json(client)["ownership"] == "none"
    unlabelled = github_issue(10, title="Ship the new onboarding", updated_at="2026-11-03T10:00:00Z")
    feed(github_issues_event("unlabeled", unlabelled))
    body = kr_json(client)
    assert body["status"] == "ended"
    assert client.get("/api/v1/key-results").get_json() == {"key_results": []}
    with rt.sessions() as s:
        kinds = [e.kind for e in s.scalars(select(KeyResultEvent).where(KeyResultEvent.kr_id == KR)
                                           .order_by(KeyResultEvent.id))]
    assert kinds[0] == "created" and kinds[-1] == "ended"
    feed(github_issues_event("labeled", anchor(updated_at="2026-11-04T10:00:00Z")))
    assert kr_json(client)["status"] == "active"


def test_issue_type_key_result_and_objective_with_sub_issues(feed, client):
    objective = github_issue(1, title="Grow adoption", issue_type="Objective", updated_at="2026-11-01T10:00:00Z")
    kr = github_issue(10, title="Typed key result", issue_type="Key Result", updated_at="2026-11-01T10:00:00Z")
    feed(github_issues_event("opened", objective))
    feed(github_issues_event("opened", kr))
    feed(github_sub_issue_event("sub_issue_added", objective, kr), event="sub_issues")
    [obj] = client.get("/api/v1/objectives").get_json()["objectives"]
    assert (obj["id"], obj["title"], obj["key_results"]) == ("gh-codertocat-hello-world-1", "Grow adoption", [KR])
    assert obj["progress"] == {"percent": 0.0}
    assert kr_json(client)["objective"] == {"id": "gh-codertocat-hello-world-1", "title": "Grow adoption"}
    feed(github_issues_event("closed", github_issue(10, title="Typed key result", issue_type="Key Result",
                                                    state="closed", updated_at="2026-11-02T10:00:00Z")))
    assert client.get("/api/v1/objectives").get_json()["objectives"][0]["progress"] == {"percent": 100.0}


def test_okr_label_attaches_an_issue_from_anywhere(feed, client, rt):
    feed(github_issues_event("opened", github_issue(30, labels=(f"okr:{KR}",), updated_at="2026-11-01T09:00:00Z"),
                             repo="Codertocat/Elsewhere"))
    feed(github_issues_event("opened", anchor(updated_at="2026-11-02T10:00:00Z")))  # the key result comes later
    assert [w["key"] for w in kr_json(client)["work_items"]] == ["github:Codertocat/Elsewhere#30"]
    feed(github_issues_event("closed", github_issue(30, state="closed", labels=(f"okr:{KR}",),
                                                    updated_at="2026-11-03T10:00:00Z"), repo="Codertocat/Elsewhere"))
    assert numbers(kr_json(client)) == (1, 0, 1, 100.0)
    feed(github_issues_event("unlabeled", github_issue(30, state="closed", updated_at="2026-11-04T10:00:00Z"),
                             repo="Codertocat/Elsewhere"))
    assert numbers(kr_json(client)) == (0, 0, 1, 0.0)  # back to the anchor's own state
    assert_recount_agrees(rt)


def test_deleted_and_moved_sub_issues_leave(feed, client, rt):
    parent = anchor(updated_at="2026-11-02T10:00:00Z")
    other = github_issue(20, title="Another key result", labels=("key-result",), updated_at="2026-11-02T10:00:00Z")
    feed(github_issues_event("opened", parent))
    feed(github_issues_event("opened", other))
    a, b = (github_issue(n, updated_at="2026-11-03T10:00:00Z") for n in (11, 12))
    for child in (a, b):
        feed(github_sub_issue_event("sub_issue_added", parent, child), event="sub_issues")
    assert numbers(kr_json(client)) == (0, 0, 2, 0.0)
    feed(github_issues_event("deleted", github_issue(11, updated_at="2026-11-04T10:00:00Z")))
    assert numbers(kr_json(client)) == (0, 0, 1, 0.0)
    moved = github_issue(12, updated_at="2026-11-05T10:00:00Z")
    feed(github_sub_issue_event("sub_issue_removed", parent, moved), event="sub_issues")
    feed(github_sub_issue_event("sub_issue_added", other, moved), event="sub_issues")
    assert kr_json(client)["work_items"] == []
    assert [w["key"] for w in kr_json(client, "gh-codertocat-hello-world-20")["work_items"]] == [
        "github:Codertocat/Hello-World#12"]
    assert_recount_agrees(rt)


def test_points_from_labels(feed, client, make_runtime, settings, tmp_path):
    feed(github_issues_event("opened", anchor(updated_at="2026-11-02T10:00:00Z")))
    parent = anchor(updated_at="2026-11-02T10:00:00Z")
    for n, labels, state in ((11, ("points:3",), "closed"), (12, ("size:5",), "open"), (13, (), "open")):
        child = github_issue(n, labels=labels, state=state, updated_at="2026-11-03T10:00:00Z")
        feed(github_sub_issue_event("sub_issue_added", parent, child), event="sub_issues")
    with make_runtime(settings).sessions() as s:
        from mappings.models import KeyResult

        kr = s.get(KeyResult, KR)
        assert (kr.points_done, kr.points_open, kr.n_unestimated) == (3.0, 6.0, 1)


def test_a_sub_issue_transferred_away_leaves(feed, client, rt):
    from tests.conftest import load_fixture

    parent = anchor(updated_at="2026-11-02T10:00:00Z")
    feed(github_issues_event("opened", parent))
    child = github_issue(11, updated_at="2026-11-03T10:00:00Z")
    feed(github_sub_issue_event("sub_issue_added", parent, child), event="sub_issues")
    assert numbers(kr_json(client)) == (0, 0, 1, 0.0)
    real = load_fixture("github/issues/octokit-webhooks__transferred.payload.json")  # its `changes`, as sent
    body = github_issues_event("transferred", github_issue(11, updated_at="2026-11-04T10:00:00Z"))
    body["changes"] = real["changes"]
    feed(body)
    assert kr_json(client)["work_items"] == []
    assert numbers(kr_json(client)) == (0, 0, 1, 0.0)  # back to the anchor's own state
    assert_recount_agrees(rt)
