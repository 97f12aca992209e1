"""Key results declared in okrs.yml, fed by both trackers; reload; the read API's access rules."""

from __future__ import annotations

import logging
import os
import textwrap

import pytest

from integration.apply.mapping_sync import sync_mapping_file
from integration.web.app import create_app
from tests.conftest import as_body, drain, github_headers, jira_headers
from tests.mappings.test_github_key_results import assert_recount_agrees, numbers
from tests.payloads import DONE, github_issue, github_issues_event, github_sub_issue_event, jira_issue_event

OKRS = textwrap.dedent("""\
    period:
      start: 2026-10-01
      end: 2026-12-31
    objectives:
      - id: retention
        title: Keep the customers we have
        key_results:
          - id: churn
            title: Cut churn to 2%
            weight: 3
            sources:
              - github_issue: Codertocat/Hello-World#10
              - jira_epic: PROJ-1
          - id: bugs
            title: Close 4 customer bugs
            owner: "@acme/support"
            target: 4
            sources:
              - github_label: {repo: Codertocat/Hello-World, label: customer-bug}
              - jira_label: {project: OPS, label: customer-bug}
          - id: launch
            title: Launch milestone
            owner: erin
            sources:
              - github_milestone: Codertocat/Hello-World/7
    """)


@pytest.fixture
def rt(make_runtime, settings, okrs_path):
    rt = make_runtime(settings.with_overrides(mappings=str(okrs_path)))
    assert sync_mapping_file(rt) is not None  # as a worker does at its start
    return rt


@pytest.fixture
def post(client, rt):
    def post(tracker: str, body: dict, event: str = "issues"):
        raw = as_body(body)
        headers = github_headers(raw, event) if tracker == "github" else jira_headers(raw)
        response = client.post(f"/webhooks/{tracker}", data=raw, headers=headers)
        assert response.status_code == 202, response.get_json()
        drain(rt)

    return post


def kr(client, kr_id):
    return client.get(f"/api/v1/key-results/{kr_id}").get_json()


def test_file_key_results_mix_trackers(client, post, rt):
    objectives = client.get("/api/v1/objectives").get_json()["objectives"]
    assert objectives == [{"id": "retention", "title": "Keep the customers we have",
                           "period": {"start": "2026-10-01", "end": "2026-12-31"},
                           "progress": {"percent": None}, "key_results": ["bugs", "churn", "launch"]}]
    assert kr(client, "churn")["progress"]["note"] == "no work linked"
    anchor = github_issue(10, assignees=("alice",), updated_at="2026-11-01T10:00:00Z")
    post("github", github_issues_event("opened", anchor))
    post("github", github_sub_issue_event("sub_issue_added", github_issue(10, assignees=("alice",),
                                                                          updated_at="2026-11-01T10:00:00Z"),
                                          github_issue(11, state="closed", updated_at="2026-11-02T10:00:00Z")),
         event="sub_issues")
    post("jira", jira_issue_event("PROJ-2", parent="PROJ-1", updated="2026-11-02T10:00:00.000+0000"))
    post("jira", jira_issue_event("PROJ-3", parent="PROJ-1", category=DONE, resolution="Won't Do",
                                  updated="2026-11-02T10:00:00.000+0000"))
    churn = kr(client, "churn")
    assert numbers(churn) == (1, 1, 2, 50.0)
    assert (churn["owner"]["login"], churn["ownership"]) == ("alice", "ok")  # the anchor's assignee
    assert churn["objective"] == {"id": "retention", "title": "Keep the customers we have"}

    for n in (20, 21, 22):
        post("github", github_issues_event("closed", github_issue(n, state="closed", labels=("customer-bug",),
                                                                  updated_at="2026-11-03T10:00:00Z")))
    post("jira", jira_issue_event("OPS-5", labels=("customer-bug",), category=DONE, resolution="Fixed",
                                  updated="2026-11-03T10:00:00.000+0000"))
    post("jira", jira_issue_event("OPS-6", labels=("customer-bug",), updated="2026-11-03T10:00:00.000+0000"))
    bugs = kr(client, "bugs")
    assert bugs["progress"]["done"] == 4 and bugs["progress"]["target"] == 4
    assert (bugs["progress"]["percent"], bugs["progress"]["raw_percent"]) == (100.0, 100.0)
    assert (bugs["owner"], bugs["ownership"], bugs["ownership_detail"]["team"]) == (None, "team", "@acme/support")
    post("github", github_issues_event("closed", github_issue(23, state="closed", labels=("customer-bug",),
                                                              updated_at="2026-11-04T10:00:00Z")))
    progress = kr(client, "bugs")["progress"]
    assert (progress["percent"], progress["raw_percent"]) == (100.0, 125.0)

    post("github", github_issues_event("milestoned", github_issue(30, milestone=7, updated_at="2026-11-04T10:00:00Z")))
    launch = kr(client, "launch")
    assert (launch["anchor"], launch["owner"]["login"], numbers(launch)) == (None, "erin", (0, 0, 1, 0.0))
    [objective] = client.get("/api/v1/objectives").get_json()["objectives"]
    assert objective["progress"]["percent"] == pytest.approx((50 * 3 + 100 + 0) / 5, abs=0.05)
    assert_recount_agrees(rt)


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good(client, post, rt, okrs_path, caplog):
    post("github", github_issues_event("milestoned", github_issue(30, milestone=7, updated_at="2026-11-04T10:00:00Z")))
    okrs_path.write_text(OKRS.replace("Launch milestone", "Launch the milestone").replace("owner: erin", "owner: fay"))
    os.utime(okrs_path, (1, 2_000_000_000))
    assert rt.tasks.sync_mappings.call_local() is True  # the worker's periodic check
    post("github", github_issues_event("edited", github_issue(31, updated_at="2026-11-04T11:00:00Z")))
    launch = kr(client, "launch")
    assert (launch["title"], launch["owner"]["login"]) == ("Launch the milestone", "fay")
    assert numbers(launch) == (0, 0, 1, 0.0)

    okrs_path.write_text("objectives: [")
    os.utime(okrs_path, (1, 2_000_000_100))
    with caplog.at_level(logging.ERROR, logger="okrbot"):
        assert rt.tasks.sync_mappings.call_local() is False
        post("github", github_issues_event("edited", github_issue(32, updated_at="2026-11-04T12:00:00Z")))
    assert "is invalid, keeping the last good mapping" in caplog.text
    assert kr(client, "launch")["title"] == "Launch the milestone"

    okrs_path.write_text(OKRS.split("      - id: launch")[0])  # launch removed from the file
    os.utime(okrs_path, (1, 2_000_000_200))
    assert rt.tasks.sync_mappings.call_local() is True
    post("github", github_issues_event("edited", github_issue(33, updated_at="2026-11-04T13:00:00Z")))
    assert kr(client, "launch")["status"] == "ended"


def test_a_bad_file_at_start_stops_the_start(make_runtime, settings, tmp_path):
    from mappings.okrs_file import MappingFileError

    bad = tmp_path / "bad.yml"
    bad.write_text("objectives:\n  - id: x\n    title: X\n    key_results:\n      - id: y\n        title: Y\n")
    with pytest.raises(MappingFileError) as info:
        make_runtime(settings.with_overrides(mappings=str(bad)))
    assert f"{bad}:5: key result 'y' has no source" in str(info.value)


def test_api_needs_the_token_when_one_is_set(make_runtime, settings):
    rt = make_runtime(settings.with_overrides(api_token="s3cret-token"))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    assert client.get("/api/v1/key-results").status_code == 401
    assert client.get("/api/v1/key-results", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/api/v1/key-results", headers={"Authorization": "Bearer s3cret-token"})
    assert (ok.status_code, ok.get_json()) == (200, {"key_results": []})


def test_api_without_a_token_answers_only_the_loopback(client):
    assert client.get("/api/v1/objectives").status_code == 200
    far = client.get("/api/v1/objectives", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403
    assert far.get_json() == {"error": "set OKRBOT_API_TOKEN to answer requests from other machines"}
    assert client.get("/api/v1/key-results/nope").status_code == 404
