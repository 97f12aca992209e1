"""The living comment, written through the real clients; only the trackers' HTTP is faked."""

from __future__ import annotations

import itertools
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import delete, select, update

from integration.web.app import create_app
from integration.writeback.models import DRY_RUN, PENDING, SENT, WRITE_FAILED, CredentialBudget, OutboxEntry
from integration.writeback.sender import send
from tests.conftest import as_body, drain, github_headers, jira_headers
from tests.fake_trackers import FakeGithub, FakeJira, Forced
from tests.integration.conftest import TOKEN, app_key
from tests.payloads import DONE, github_issue, github_issues_event, github_sub_issue_event, jira_issue_event

KR = "gh-codertocat-hello-world-10"


@pytest.fixture
def rt(token_rt):
    return token_rt  # write_delay: the default 60 s


@pytest.fixture
def post(rt):
    client = create_app(rt.settings, runtime=rt).test_client()

    def post(body: dict, event: str = "issues"):
        raw = as_body(body)
        response = client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
        assert response.status_code == 202, response.get_json()
        drain(rt)

    return post


_TICKS = itertools.count()


def later(seconds: float = 61) -> datetime:
    """Past the quiet period; each call 2 s after the last, so the write budget never holds a test up."""
    return datetime.now(UTC) + timedelta(seconds=seconds + 2 * next(_TICKS))


def entry(rt, kr_id: str = KR) -> OutboxEntry:
    with rt.sessions() as s:
        return s.scalar(select(OutboxEntry).where(OutboxEntry.kr_id == kr_id))


def parent(**kw) -> dict:
    return github_issue(10, title="Ship the new onboarding", labels=("key-result",), assignees=("alice",),
                        updated_at=kw.pop("updated_at", "2026-11-02T10:00:00Z"), **kw)


def key_result_with_children(post, states=("open", "open")) -> None:
    post(github_issues_event("opened", parent()))
    for i, state in enumerate(states):
        child = github_issue(11 + i, state=state, assignees=("bob",), updated_at="2026-11-03T10:00:00Z")
        post(github_sub_issue_event("sub_issue_added", parent(), child), event="sub_issues")


def close(post, n: int, t: str = "2026-11-04T10:00:00Z", reason: str = "completed") -> None:
    post(github_issues_event("closed", github_issue(n, state="closed", state_reason=reason, assignees=("bob",),
                                                    updated_at=t), sender="bob"))


def test_first_create_then_edits_in_place(rt, github, post):
    key_result_with_children(post)
    e = entry(rt)
    assert (e.state, e.attempts) == (PENDING, 0)
    assert send(rt, e.id, now=datetime.now(UTC)) == pytest.approx(60, abs=2)  # the quiet period first
    assert github.writes() == []
    assert send(rt, e.id, now=later()) is None
    [(method, path, body)] = github.writes()
    assert (method, path) == ("POST", "/repos/Codertocat/Hello-World/issues/10/comments")
    assert body.startswith(f"<!-- okrbot:kr={KR} -->\n### 🎯 Key result: Ship the new onboarding\n")
    assert "`░░░░░░░░░░` 0% · 0 of 2 done" in body
    assert "**Owner:** alice" in body and "@" not in body
    auth = [c.request.headers["Authorization"] for c in github.rsps.calls]
    assert set(auth) == {f"token {TOKEN}"}
    assert (entry(rt).state, entry(rt).comment_id) == (SENT, "1001")

    close(post, 11)
    send(rt, entry(rt).id, now=later())
    assert [(m, p) for m, p, _ in github.writes()] == [
        ("POST", "/repos/Codertocat/Hello-World/issues/10/comments"),
        ("PATCH", "/repos/Codertocat/Hello-World/issues/comments/1001")]
    body = github.writes()[-1][2]
    assert "`▓▓▓▓▓░░░░░` 50% · 1 of 2 done" in body and "- #11 closed by bob" in body
    assert len(github.on(10)) == 1


def test_nothing_written_when_the_comment_would_not_change(rt, github, post):
    key_result_with_children(post)
    send(rt, entry(rt).id, now=later())
    post(github_issues_event("edited", github_issue(11, assignees=("bob",), updated_at="2026-11-05T10:00:00Z")))
    from integration.db import unit_of_work
    from integration.writeback.outbox import note_changes

    with unit_of_work(rt.sessions) as s:  # a change that changes nothing the comment shows
        note_changes(s, {KR}, datetime.now(UTC), 60)
    send(rt, entry(rt).id, now=later())
    assert len(github.writes()) == 1
    assert entry(rt).state == SENT


def test_a_write_that_keeps_failing_is_failed_after_max_attempts_the_limit_of_deliveries_too(rt, github, post):
    key_result_with_children(post)
    github.forced += [Forced(500, {"message": "Server Error"})] * rt.settings.max_attempts
    delays = [send(rt, entry(rt).id, now=later(61 + 3600 * n)) for n in range(rt.settings.max_attempts)]
    base = rt.settings.retry_base_seconds
    assert delays == [base * 2 ** n for n in range(rt.settings.max_attempts - 1)] + [None]
    e = entry(rt)
    assert (e.state, e.attempts) == (WRITE_FAILED, 8)
    assert e.last_error == "Transient: GitHub 500: Server Error"
    assert [m for m, _, _ in github.writes()] == ["POST"] * 8 and github.on(10) == []  # 8 tries, no comment


def test_nothing_to_write_is_skipped_with_the_reason_and_nothing_is_sent(rt, github, post):
    post(github_issues_event("opened", parent()))  # a key result with no work yet
    assert send(rt, entry(rt).id, now=later()) is None
    assert (entry(rt).state, entry(rt).last_error) == ("skipped", "no progress to show yet")
    key_result_with_children(post)
    unlabelled = github_issue(10, title="Ship the new onboarding", assignees=("alice",),
                              updated_at="2026-11-06T10:00:00Z")
    post(github_issues_event("unlabeled", unlabelled))  # no longer a key result, before its comment went out
    assert send(rt, entry(rt).id, now=later()) is None
    assert (entry(rt).state, entry(rt).last_error) == ("skipped", "key result ended")
    assert github.writes() == []


def test_a_burst_is_coalesced_into_one_write(rt, github, post):
    key_result_with_children(post, states=("open",) * 6)
    send(rt, entry(rt).id, now=later())
    for n in range(11, 17):
        close(post, n, t=f"2026-11-05T10:0{n - 11}:00Z")
        reopened = github_issue(n, assignees=("bob",), updated_at=f"2026-11-05T11:0{n - 11}:00Z")
        post(github_issues_event("reopened", reopened))
        close(post, n, t=f"2026-11-05T12:0{n - 11}:00Z")
    assert len(rt.huey.scheduled()) >= 1
    send(rt, entry(rt).id, now=later())
    assert [m for m, _, _ in github.writes()] == ["POST", "PATCH"]
    assert "100% · 6 of 6 done" in github.writes()[-1][2]


def test_a_create_that_answered_500_but_happened_ends_as_one_comment(rt, github, post):
    key_result_with_children(post)
    github.forced.append(Forced(500, {"message": "Server Error"}, happened=True))
    delay = send(rt, entry(rt).id, now=later())
    assert delay == rt.settings.retry_base_seconds  # retried through the queue, after the first back-off step
    e = entry(rt)
    assert (e.state, e.uncertain, e.attempts) == (PENDING, True, 1)
    assert "Transient" in e.last_error
    send(rt, e.id, now=later(120))
    assert [m for m, _, _ in github.writes()] == ["POST"]  # the marker was found: no second create
    assert len(github.on(10)) == 1
    assert (entry(rt).state, entry(rt).comment_id, entry(rt).uncertain) == (SENT, "1001", False)


@pytest.mark.parametrize(("forced", "wait"), [
    (Forced(429, {"message": "Too Many Requests"}, {"Retry-After": "30"}), 30),
    (Forced(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
            {"Retry-After": "90"}), 90),
])
def test_rate_limits_reschedule_instead_of_sleeping(rt, github, post, forced, wait):
    key_result_with_children(post)
    github.forced.append(forced)
    now = later()
    assert send(rt, entry(rt).id, now=now) == wait
    assert entry(rt).state == PENDING
    with rt.sessions() as s:
        budget = s.get(CredentialBudget, "github:token")
        assert budget.next_write_at >= datetime.now(UTC) + timedelta(seconds=wait - 5)
    calls = len(github.rsps.calls)
    assert send(rt, entry(rt).id, now=now + timedelta(seconds=1)) > wait - 10  # still held: no request
    assert len(github.rsps.calls) == calls
    assert send(rt, entry(rt).id, now=now + timedelta(seconds=wait + 5)) is None
    assert [m for m, _, _ in github.writes()] == ["POST", "POST"]  # the refused one, then the real one
    assert len(github.on(10)) == 1


def test_at_most_one_write_per_second_per_credential(rt, github, post):
    key_result_with_children(post)
    post(github_issues_event("opened", github_issue(20, title="Second", labels=("key-result",),
                                                    updated_at="2026-11-02T10:00:00Z")))
    child = github_issue(21, updated_at="2026-11-03T10:00:00Z")
    post(github_sub_issue_event("sub_issue_added", github_issue(20, title="Second", labels=("key-result",),
                                                                updated_at="2026-11-02T10:00:00Z"), child),
         event="sub_issues")
    now = later()
    assert send(rt, entry(rt).id, now=now) is None
    wait = send(rt, entry(rt, "gh-codertocat-hello-world-20").id, now=now)
    assert 1.0 <= wait <= 1.1  # the second write waits its turn: more than a second after the first
    assert len(github.writes()) == 1
    assert send(rt, entry(rt, "gh-codertocat-hello-world-20").id, now=now + timedelta(seconds=1.1)) is None
    assert len(github.writes()) == 2


def test_a_comment_deleted_by_a_person_is_recreated_at_the_next_change(rt, github, post):
    key_result_with_children(post)
    send(rt, entry(rt).id, now=later())
    github.deleted.add(1001)
    close(post, 11)
    send(rt, entry(rt).id, now=later())
    assert [m for m, _, _ in github.writes()] == ["POST", "PATCH", "POST"]
    assert entry(rt).comment_id == "1002" and len(github.on(10)) == 1


def test_anchor_gone_is_recorded_and_not_retried(rt, github, post):
    key_result_with_children(post)
    github.forced.append(Forced(410, {"message": "This issue was deleted"}))
    assert send(rt, entry(rt).id, now=later()) is None
    e = entry(rt)
    assert e.state == WRITE_FAILED and e.last_error == "Gone: GitHub 410: This issue was deleted"
    from click.testing import CliRunner

    from integration.cli.main import main

    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url}
    out = CliRunner().invoke(main, ["outbox", "--failed"], env=env).output
    assert KR in out and "failed" in out and "Gone: GitHub 410: This issue was deleted" in out


def test_dry_run_renders_and_logs_but_writes_nothing(make_runtime, settings, caplog):
    rt = make_runtime(settings.with_overrides(github_token=TOKEN, dry_run=True))
    client = create_app(rt.settings, runtime=rt).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        github = FakeGithub(rsps)  # the backfill reads; nothing may be written
        child = github_issue(11, updated_at="2026-11-03T10:00:00Z")
        github.sub_issue_lists[("Codertocat/Hello-World", 10)] = [child]
        raw = as_body(github_issues_event("opened", parent()))
        client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues"))
        raw = as_body(github_sub_issue_event("sub_issue_added", parent(), child))
        client.post("/webhooks/github", data=raw, headers=github_headers(raw, "sub_issues"))
        drain(rt)
        with caplog.at_level(logging.INFO, logger="okrbot"):
            assert send(rt, entry(rt).id, now=later()) is None
        assert github.writes() == []
    assert entry(rt).state == DRY_RUN
    assert f"dry run: would write the comment of {KR}" in caplog.text and "0 of 1 done" in caplog.text
    assert TOKEN not in caplog.text


def test_own_comment_events_are_ignored(rt, github, post):
    key_result_with_children(post)
    send(rt, entry(rt).id, now=later())
    from tests.conftest import load_fixture

    body = load_fixture("github/issue_comment/octokit-webhooks__created.payload.json")
    body["issue"] = parent(updated_at="2026-11-09T10:00:00Z")
    body["comment"]["body"] = github.on(10)[0]["body"]
    post(body, event="issue_comment")
    assert entry(rt).state == SENT  # nothing pending: no loop


def test_a_crash_between_commit_and_write_is_written_after_restart_once(make_runtime, rt, github, post):
    key_result_with_children(post)
    rt.huey.flush()  # the scheduled send is lost with the crashed worker
    with rt.engine.begin() as conn:
        conn.execute(update(OutboxEntry).values(due_at=datetime.now(UTC) - timedelta(minutes=5)))
    restarted = make_runtime(rt.settings)
    assert restarted.tasks.sweep_outbox.call_local() == 1
    drain(restarted)
    assert [m for m, _, _ in github.writes()] == ["POST"]
    # crashed again, this time after claiming and creating, before recording it
    close(post, 11)
    with rt.engine.begin() as conn:
        conn.execute(update(OutboxEntry).values(state="sending", comment_id=None, uncertain=True,
                                                claimed_until=datetime.now(UTC) - timedelta(seconds=1),
                                                due_at=datetime.now(UTC) - timedelta(minutes=5)))
        conn.execute(delete(CredentialBudget))  # the minutes since then have freed the write budget
    assert restarted.tasks.sweep_outbox.call_local() == 1
    drain(restarted)
    assert [m for m, _, _ in github.writes()] == ["POST", "PATCH"]  # found by its marker, edited
    assert len(github.on(10)) == 1


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_jira_epic_gets_its_comment_in_wiki_markup(make_runtime, settings, flavour):
    from tests.payloads import jira_host

    host = jira_host(flavour)
    scheme = "https" if flavour == "cloud" else "http"
    creds = ({"jira_email": "bot@example.com", "jira_api_token": "jira-token-not-real"} if flavour == "cloud"
             else {"jira_pat": "jira-pat-not-real"})
    rt = make_runtime(settings.with_overrides(jira_url=f"{scheme}://{host}", **creds))
    client = create_app(rt.settings, runtime=rt).test_client()
    rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
    rsps.start()
    jira = FakeJira(rsps, f"{scheme}://{host}")  # the backfill's searches too

    def post(body):
        raw = as_body(body)
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)

    try:
        post(jira_issue_event("PROJ-1", flavour=flavour, summary="Cut churn", issue_type="Epic",
                              labels=("key-result",), assignee="alice", updated="2026-11-02T10:00:00.000+0000"))
        post(jira_issue_event("PROJ-2", flavour=flavour, parent="PROJ-1", category=DONE, resolution="Done",
                              updated="2026-11-03T10:00:00.000+0000"))
        assert send(rt, entry(rt, "jira-proj-1").id, now=later()) is None
        [(method, path, body)] = jira.writes()
        assert (method, path) == ("POST", "/rest/api/2/issue/PROJ-1/comment")
        assert body.startswith("h3. Key result: Cut churn\n")
        assert "{{▓▓▓▓▓▓▓▓▓▓}} 100% · 1 of 1 done" in body and "*Owner:* Alice" in body
        assert body.endswith("okrbot:kr=jira-proj-1;~\n")
        auth = rsps.calls[-1].request.headers["Authorization"]
    finally:
        rsps.stop()
        rsps.reset()
    assert auth.startswith("Basic " if flavour == "cloud" else "Bearer ")


def test_github_app_acts_per_installation_from_the_delivery(make_runtime, settings):
    import json as _json

    import jwt
    key, pem = app_key()
    rt = make_runtime(settings.with_overrides(github_app_id="12345", github_private_key=pem))
    client = create_app(rt.settings, runtime=rt).test_client()
    rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
    rsps.start()
    github = FakeGithub(rsps)
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = [github_issue(11, updated_at="2026-11-03T10:00:00Z")]
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rsps.add("POST", re.compile(r"https://api\.github\.com(:443)?/app/installations/42/access_tokens"), status=201,
             json={"token": "ghs_installation_token", "expires_at": expires, "permissions": {"issues": "write"}})
    for event, body in (("issues", github_issues_event("opened", parent())),
                        ("sub_issues", github_sub_issue_event("sub_issue_added", parent(),
                                                              github_issue(11, updated_at="2026-11-03T10:00:00Z")))):
        body["installation"] = {"id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI="}
        raw = as_body(body)
        client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
    drain(rt)  # the backfill reads with the installation token too
    try:
        assert send(rt, entry(rt).id, now=later()) is None
        token_call = next(c for c in rsps.calls if c.request.url.endswith("/access_tokens"))
        claims = jwt.decode(token_call.request.headers["Authorization"].removeprefix("Bearer "),
                            key.public_key(), algorithms=["RS256"])
        assert claims["iss"] == "12345"
        comment_calls = [c for c in rsps.calls if "/issues/" in c.request.url]
        assert {c.request.headers["Authorization"] for c in comment_calls} == {"token ghs_installation_token"}
        assert [m for m, _, _ in github.writes()] == ["POST"]
        assert _json.loads(comment_calls[-1].request.body)["body"].startswith(f"<!-- okrbot:kr={KR} -->")
    finally:
        rsps.stop()
        rsps.reset()


def test_without_credentials_the_write_is_skipped_with_the_reason(make_runtime, settings, caplog):
    rt = make_runtime(settings)
    client = create_app(rt.settings, runtime=rt).test_client()
    for event, body in (("issues", github_issues_event("opened", parent())),
                        ("sub_issues", github_sub_issue_event("sub_issue_added", parent(),
                                                              github_issue(11, updated_at="2026-11-03T10:00:00Z")))):
        raw = as_body(body)
        client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
    drain(rt)
    with caplog.at_level(logging.WARNING, logger="okrbot"):
        assert send(rt, entry(rt).id, now=later()) is None
    assert entry(rt).state == "skipped"
    assert entry(rt).last_error.startswith("no GitHub credentials: set OKRBOT_GITHUB_TOKEN")
    assert "not written: no GitHub credentials" in caplog.text


def test_the_app_manifest_asks_for_exactly_what_okrbot_needs():
    import yaml

    from tests.conftest import ROOT
    from webhooks.github import is_used

    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["default_permissions"] == {"issues": "write", "metadata": "read"}
    assert manifest["hook_attributes"]["url"].endswith("/webhooks/github")
    assert all(is_used(event, None) or event in ("issues", "sub_issues", "issue_comment", "milestone")
               for event in manifest["default_events"])
    assert sorted(manifest["default_events"]) == ["issue_comment", "issues", "milestone", "sub_issues"]


# --- check-ins (issue 13): rows as the check-in apply path writes them ------------------------------


def store_checkin(rt, n: int, status: str = "at_risk", confidence: int | None = 6,
                  note: str = "vendor API slipped a week", at: datetime | None = None, withdrawn: bool = False) -> None:
    from tests.checkins import store_checkin as store

    store(rt, KR, at or datetime(2026, 12, 2, 9, 30, tzinfo=UTC), n, status=status, confidence=confidence, note=note,
          withdrawn=withdrawn)


def note_checkin(rt) -> list[int]:
    from integration.db import unit_of_work
    from integration.writeback.outbox import note_changes

    with unit_of_work(rt.sessions) as s:  # what the apply path does for a key result whose check-in changed
        return note_changes(s, {KR}, datetime.now(UTC), rt.settings.write_delay)


def test_a_checkin_rewrites_the_living_comment(rt, github, post):
    key_result_with_children(post)
    send(rt, entry(rt).id, now=later())
    assert "Check-in" not in github.writes()[-1][2]
    store_checkin(rt, 2001)
    assert note_checkin(rt) == [entry(rt).id]  # the entry is pending again
    send(rt, entry(rt).id, now=later())
    (method, path, body) = github.writes()[-1]
    assert (method, path) == ("PATCH", "/repos/Codertocat/Hello-World/issues/comments/1001")
    assert "\nCheck-in by @&#8203;alice, 2 Dec: at risk (6/10): vendor API slipped a week\n" in body
    assert re.search(r"@\w", body) is None  # nobody is notified by the edit

    store_checkin(rt, 2002, status="on_track", confidence=None, note="", at=datetime(2026, 12, 3, 9, tzinfo=UTC))
    note_checkin(rt)
    send(rt, entry(rt).id, now=later())
    assert "\nCheck-in by @&#8203;alice, 3 Dec: on track\n" in github.writes()[-1][2]
    assert len(github.on(10)) == 1  # still the one living comment


def test_a_key_result_with_a_checkin_and_no_work_gets_its_comment(rt, github, post):
    post(github_issues_event("opened", parent()))
    store_checkin(rt, 2001, confidence=None)
    note_checkin(rt)
    assert send(rt, entry(rt).id, now=later()) is None
    [(method, _path, body)] = github.writes()
    assert method == "POST" and "`░░░░░░░░░░` 0% · 0 of 1 done" in body  # the anchor alone counts as the work
    assert "\nCheck-in by @&#8203;alice, 2 Dec: at risk: vendor API slipped a week\n" in body


def test_a_withdrawn_checkin_is_not_shown(rt, github, post):
    post(github_issues_event("opened", parent()))
    store_checkin(rt, 2001, withdrawn=True)
    note_checkin(rt)
    assert send(rt, entry(rt).id, now=later()) is None
    assert (entry(rt).state, entry(rt).last_error) == ("skipped", "no progress to show yet")
    assert github.writes() == []
