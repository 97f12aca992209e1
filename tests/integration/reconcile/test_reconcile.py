"""Backfill and reconcile through the real readers; only GitHub's and Jira's HTTP is faked."""

from __future__ import annotations

import re

import pytest
import responses
from click.testing import CliRunner

from integration.reconcile.sync import sync_key_result
from integration.web.app import create_app
from tests.conftest import as_body, drain, github_headers, jira_headers
from tests.fake_trackers import FakeGithub, FakeJira, Forced
from tests.integration.conftest import TOKEN, app_key
from tests.payloads import DONE, github_issue, github_issues_event, jira_issue_event

KR = "gh-codertocat-hello-world-10"


@pytest.fixture
def rt(token_rt):
    return token_rt


@pytest.fixture
def client(rt):
    return create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()


def post(rt, client, body: dict, event: str = "issues"):
    raw = as_body(body)
    assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, event)).status_code == 202
    drain(rt)


def numbers(client, kr_id=KR) -> tuple:
    p = client.get(f"/api/v1/key-results/{kr_id}").get_json()["progress"]
    return p["done"], p["dropped"], p["total"]


def anchor(t="2026-11-02T10:00:00Z"):
    return github_issue(10, title="Ship it", labels=("key-result",), assignees=("alice",), updated_at=t)


def children(n: int, closed=(), dropped=(), t="2026-11-01T10:00:00Z") -> list[dict]:
    out = []
    for i in range(n):
        state, reason = ("closed", "completed") if i in closed else ("closed", "not_planned") if i in dropped \
            else ("open", None)
        out.append(github_issue(100 + i, state=state, state_reason=reason, updated_at=t))
    return out


def github_calls(github) -> list[tuple[str, str, str | None, int]]:
    return [(c.request.method, c.request.path_url, c.request.headers.get("If-None-Match"), c.response.status_code)
            for c in github.rsps.calls]


def test_a_key_result_discovered_with_existing_work_gets_its_numbers_at_once(rt, github, client):
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = children(12, closed=range(7), dropped=(7,))
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    post(rt, client, github_issues_event("labeled", anchor()))  # the label makes it a key result: backfilled
    assert numbers(client) == (7, 1, 11)
    paths = [p for m, p, _, _ in github_calls(github) if m == "GET"]
    assert paths == ["/repos/Codertocat/Hello-World/issues/10",
                     "/repos/Codertocat/Hello-World/issues/10/sub_issues?per_page=100"]


def test_pagination_then_a_second_sync_makes_only_304s(rt, github, client):
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = children(250, closed=range(0, 250, 2))
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    post(rt, client, github_issues_event("opened", anchor()))
    assert numbers(client) == (125, 0, 250)
    first = github_calls(github)
    assert [s for _, _, _, s in first] == [200, 200, 200, 200]  # the anchor, then 3 pages
    report = sync_key_result(rt, KR)
    second = github_calls(github)[len(first):]
    assert (report.calls, report.not_modified, report.items) == (4, 4, 0)
    assert all(etag and status == 304 for _, _, etag, status in second)


def test_a_missed_webhook_and_a_deleted_child_are_repaired_by_the_next_sync(rt, github, client):
    kids = children(3)
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = kids
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    post(rt, client, github_issues_event("opened", anchor()))
    assert numbers(client) == (0, 0, 3)
    kids[0] = github_issue(100, state="closed", state_reason="completed", updated_at="2026-11-05T10:00:00Z")
    del kids[2]  # deleted (or moved away): GitHub lists it no more
    report = sync_key_result(rt, KR)
    assert (report.items, report.left) == (2, 1)
    assert numbers(client) == (1, 0, 2)


def test_a_rate_limit_mid_sync_resumes_later_without_losing_its_place(rt, github, client):
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = children(150)
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    github.forced.append(Forced(403, {"message": "API rate limit exceeded"},
                                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}))
    post(rt, client, github_issues_event("opened", anchor()))  # the backfill meets the rate limit at once
    assert numbers(client) == (0, 0, 1)  # only the anchor's own state so far
    assert len(rt.huey.scheduled()) >= 1  # rescheduled through the queue, not slept on
    report = sync_key_result(rt, KR)
    assert report.retry_after is None and numbers(client) == (0, 0, 150)
    report = sync_key_result(rt, KR)
    assert report.not_modified == report.calls == 3


def test_backfill_and_webhooks_racing_on_one_item_converge(rt, github, client):
    stale = children(1)  # the listing was read before the item was closed
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = stale
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    post(rt, client, github_issues_event("opened", anchor()))
    closed = github_issue(100, state="closed", state_reason="completed", updated_at="2026-11-06T10:00:00Z")
    post(rt, client, github_issues_event("closed", closed))
    sync_key_result(rt, KR, full=True)  # the stale listing again: the newer webhook state stands
    assert numbers(client) == (1, 0, 1)


def test_jira_epic_backfill_then_one_updated_since_search(make_runtime, settings):
    from tests.payloads import jira_host

    host = jira_host("cloud")
    rt = make_runtime(settings.with_overrides(jira_url=f"https://{host}", jira_email="bot@example.com",
                                              jira_api_token="jira-token-not-real"))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    children_now = [jira_issue_event(f"PROJ-{n}", parent="PROJ-1", category=DONE if n < 4 else {"key": "new",
                                     "id": 2, "name": "To Do"}, resolution="Done" if n < 4 else None,
                                     updated="2026-11-01T10:00:00.000+0000")["issue"] for n in (2, 3, 4)]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        jira = FakeJira(rsps, f"https://{host}")
        jira.search_results = children_now
        raw = as_body(jira_issue_event("PROJ-1", issue_type="Epic", labels=("key-result",),
                                       updated="2026-11-02T10:00:00.000+0000"))
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)
        assert numbers(client, "jira-proj-1") == (2, 0, 3)
        jira.search_results = []
        sync_key_result(rt, "jira-proj-1")
        searches = [c.request for c in rsps.calls if "/search" in c.request.url]
        assert len(searches) == 2
        assert "updated" not in _jql(searches[0]) and "updated >=" in _jql(searches[1])
        assert "parent = " in _jql(searches[1])


def _jql(request) -> str:
    import json
    from urllib.parse import parse_qs, urlsplit

    if request.body:
        return json.loads(request.body).get("jql", "")
    return parse_qs(urlsplit(request.url).query).get("jql", [""])[0]


def test_sync_command(rt, github, client):
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = children(2, closed=(0,))
    github.issues[("Codertocat/Hello-World", 10)] = anchor()
    post(rt, client, github_issues_event("opened", anchor()))
    from integration.cli.main import main

    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url,
           "OKRBOT_GITHUB_TOKEN": TOKEN, "OKRBOT_GITHUB_WEBHOOK_SECRET": "x"}
    result = CliRunner().invoke(main, ["sync", "--all"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output == f"{KR}: 2 API call(s), 2 unchanged page(s), 0 item(s) read, 0 left\n"
    assert CliRunner().invoke(main, ["sync"], env=env).exit_code == 2


def test_an_apps_failed_deliveries_are_redelivered_unless_stored(make_runtime, settings):
    import re
    from datetime import UTC, datetime, timedelta

    from integration.reconcile.sync import redeliver_failed

    key, pem = app_key()
    rt = make_runtime(settings.with_overrides(github_app_id="12345", github_private_key=pem))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    raw = as_body("github/issues/octokit-webhooks__opened.payload.json")
    client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues", delivery="guid-stored"))
    now = datetime.now(UTC)

    def delivery(i, guid, status, age_hours):
        at = (now - timedelta(hours=age_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"id": i, "guid": guid, "delivered_at": at, "redelivery": False, "duration": 0.3,
                "status": status, "status_code": 502 if status != "OK" else 202, "event": "issues",
                "action": "opened", "installation_id": 42, "repository_id": 1}

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add("GET", re.compile(r"https://api\.github\.com(:443)?/app/hook/deliveries.*"), json=[
            delivery(5, "guid-missed", "Bad Gateway", 1), delivery(4, "guid-stored", "Bad Gateway", 2),
            delivery(3, "guid-ok", "OK", 3), delivery(2, "guid-old", "Bad Gateway", 24 * 10)])
        rsps.add("POST", re.compile(r"https://api\.github\.com(:443)?/app/hook/deliveries/5/attempts"), status=202,
                 json={})
        assert redeliver_failed(rt) == 1
        posts = [c.request for c in rsps.calls if c.request.method == "POST"]
        assert [p.path_url for p in posts] == ["/app/hook/deliveries/5/attempts"]
        assert posts[0].headers["Authorization"].startswith("Bearer ")  # the App's JWT


def test_milestone_source_reads_the_milestones_issues_and_leavers_are_refetched(make_runtime, settings, tmp_path):
    okrs = tmp_path / "okrs.yml"
    okrs.write_text("objectives:\n  - id: o\n    title: O\n    key_results:\n      - id: launch\n"
                    "        title: Launch\n        owner: erin\n        sources:\n"
                    "          - github_milestone: Codertocat/Hello-World/7\n")
    rt = make_runtime(settings.with_overrides(github_token=TOKEN, mappings=str(okrs)))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    in_milestone = [github_issue(n, milestone=7, state="closed" if n == 1 else "open",
                                 updated_at="2026-11-01T10:00:00Z") for n in (1, 2)]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        github = FakeGithub(rsps)
        rsps.add_callback("GET", re.compile(r"https://api\.github\.com(:443)?/repos/Codertocat/Hello-World/issues\?.*"),
                          lambda request: github._conditional(request, in_milestone))
        report = sync_key_result(rt, "launch")
        assert (report.items, numbers(client, "launch")) == (2, (1, 0, 2))
        query = [c.request.url for c in rsps.calls if "/issues?" in c.request.url][0]
        assert "milestone=7" in query and "state=all" in query
        moved = github_issue(2, updated_at="2026-11-05T10:00:00Z")  # taken out of the milestone
        github.issues[("Codertocat/Hello-World", 2)] = moved
        in_milestone.pop()
        report = sync_key_result(rt, "launch")
        assert (report.left, numbers(client, "launch")) == (1, (1, 0, 1))


def test_jira_members_that_moved_or_were_deleted_leave(make_runtime, settings):
    from tests.payloads import jira_host

    host = jira_host("cloud")
    rt = make_runtime(settings.with_overrides(jira_url=f"https://{host}", jira_email="bot@example.com",
                                              jira_api_token="jira-token-not-real"))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        jira = FakeJira(rsps, f"https://{host}")

        def post(body):
            raw = as_body(body)
            assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
            drain(rt)

        post(jira_issue_event("PROJ-1", issue_type="Epic", labels=("key-result",),
                              updated="2026-11-02T10:00:00.000+0000"))
        for n in (2, 3):
            post(jira_issue_event(f"PROJ-{n}", parent="PROJ-1", updated="2026-11-03T10:00:00.000+0000"))
        assert numbers(client, "jira-proj-1") == (0, 0, 2)
        moved = jira_issue_event("PROJ-2", parent="PROJ-9", updated="2026-11-05T10:00:00.000+0000")["issue"]
        jira.search_results = [moved]  # PROJ-2 moved to another epic (no webhook); PROJ-3 was deleted
        report = sync_key_result(rt, "jira-proj-1")  # incremental: the move shows, the deletion cannot
        assert "key in (" in _jql([c.request for c in rsps.calls if "/search" in c.request.url][-1])
        assert members(client) == ["PROJ-3"]
        report = sync_key_result(rt, "jira-proj-1", full=True)
        assert report.left == 1 and members(client) == []


def members(client, kr_id="jira-proj-1") -> list[str]:
    items = client.get(f"/api/v1/key-results/{kr_id}").get_json()["work_items"]
    return [w["key"].rsplit("/", 1)[1] for w in items]


def test_a_file_anchor_in_another_case_is_read_once_as_github_spells_it(make_runtime, settings, tmp_path):
    okrs = tmp_path / "okrs.yml"
    okrs.write_text("objectives:\n  - id: o\n    title: O\n    key_results:\n      - id: ship\n"
                    "        title: Ship\n        sources:\n          - github_issue: codertocat/hello-world#10\n")
    rt = make_runtime(settings.with_overrides(github_token=TOKEN, mappings=str(okrs)))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        github = FakeGithub(rsps)
        github.sub_issue_lists[("Codertocat/Hello-World", 10)] = children(3, closed=(0,))
        github.issues[("Codertocat/Hello-World", 10)] = anchor()
        post(rt, client, github_issues_event("opened", anchor()))
        before = len(github_calls(github))
        report = sync_key_result(rt, "ship")
        paths = [p for m, p, _, _ in github_calls(github)[before:] if m == "GET"]
        assert paths == ["/repos/Codertocat/Hello-World/issues/10",
                         "/repos/Codertocat/Hello-World/issues/10/sub_issues?per_page=100"]
        assert (report.errors, numbers(client, "ship")) == ([], (1, 0, 3))


def test_every_kind_of_source_can_be_listed_by_its_tracker():
    from integration.reconcile.sync import _LISTINGS
    from mappings.sources import KINDS

    assert set(_LISTINGS) == set(KINDS)
    assert [kind for kind, listing in _LISTINGS.items() if (listing.page is None) == (KINDS[kind].tracker == "github")
            ] == []
