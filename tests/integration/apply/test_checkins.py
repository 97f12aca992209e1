"""`/checkin` comments end to end: signed deliveries in, stored check-ins, and okrbot's answers as the
faked GitHub / Jira APIs received them (the real clients; only the network is replaced)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import select

from integration.web.app import create_app
from integration.writeback.checkin_answers import due_answers, send_answer
from integration.writeback.models import CheckinAnswer
from mappings.checkins import EXAMPLE, USAGE, checkin_history, current_checkins
from mappings.models import CheckinRow
from tests.conftest import as_body, drain, github_poster, jira_headers
from tests.fake_trackers import FakeJira, Forced
from tests.payloads import (
    github_comment_event,
    github_issue,
    github_issues_event,
    jira_comment_event,
    jira_host,
    jira_issue_event,
)
from webhooks.models import FAILED, Delivery

KR = "gh-codertocat-hello-world-10"
ISSUE = "/repos/Codertocat/Hello-World/issues"
_TICKS = itertools.count()


@pytest.fixture
def rt(token_rt):
    return token_rt


@pytest.fixture
def post(rt):
    return github_poster(rt, "issue_comment")


def send_all(rt) -> None:
    """Every pending answer sent, each a little later than the last (the write budget never holds one)."""
    for answer_id in due_answers(rt, now=datetime.now(UTC) + timedelta(seconds=3600)):
        send_answer(rt, answer_id, now=datetime.now(UTC) + timedelta(seconds=3600 + 2 * next(_TICKS)))


def anchor(assignees=("alice",)) -> dict:
    return github_issue(10, title="Ship onboarding", labels=("key-result",), assignees=assignees,
                        updated_at="2026-11-02T10:00:00Z")


def comment(action="created", *, cid=501, body=EXAMPLE, author="alice", created="2026-11-05T10:00:00Z",
            updated=None, issue=None) -> dict:
    return github_comment_event(action, issue or anchor(), comment_id=cid, body=body, author=author,
                                created_at=created, updated_at=updated)


def rows(rt) -> dict[str, CheckinRow]:
    with rt.sessions() as s:
        return {r.comment_key: r for r in s.scalars(select(CheckinRow))}


def answers(rt) -> list[CheckinAnswer]:
    with rt.sessions() as s:
        return list(s.scalars(select(CheckinAnswer).order_by(CheckinAnswer.id)))


def current(rt):
    with rt.sessions() as s:
        return current_checkins(s, [KR]).get(KR)


def test_owner_checks_in_and_gets_one_thumbs_up(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment())
    row = rows(rt)["github:Codertocat/Hello-World#10@501"]
    assert (row.kr_id, row.verdict, row.status, row.confidence, row.note) == (
        KR, "accepted", "at_risk", 6, "vendor API slipped a week")
    assert (row.author_login, row.author_account_id, row.url) == (
        "alice", None, "https://github.com/Codertocat/Hello-World/issues/10#issuecomment-501")
    assert row.written_at == datetime(2026, 11, 5, 10, tzinfo=UTC)
    send_all(rt)
    assert github.requests("POST", "PATCH") == [("POST", f"{ISSUE}/comments/501/reactions", {"content": "+1"})]
    assert [(a.kind, a.state, a.remote_id) for a in answers(rt)] == [("reaction", "sent", "7501")]

    post(comment())  # a redelivery
    post(comment("edited", body="/checkin on-track 8/10 vendor back on plan", updated="2026-11-05T11:00:00Z"))
    send_all(rt)
    assert len(github.requests("POST", "PATCH")) == 1  # nothing new
    got = current(rt)
    assert (got.status.value, got.confidence, got.note, got.by) == ("on_track", 8, "vendor back on plan", "alice")
    assert len(answers(rt)) == 1


def test_someone_else_gets_one_reply_naming_the_owner_without_pinging(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment(author="Mallory", body="/checkin on-track 9/10 all fine @everyone [~bob]"))
    send_all(rt)
    [(method, path, sent)] = github.requests("POST", "PATCH")
    assert (method, path) == ("POST", f"{ISSUE}/10/comments")
    assert sent["body"] == ("<!-- okrbot:answer=github:Codertocat/Hello-World#10@501 -->\n"
                            "Only `@alice` can check in on this key result. This comment changed nothing.\n")
    assert rows(rt)["github:Codertocat/Hello-World#10@501"].verdict == "not_owner" and current(rt) is None
    post(comment(author="Mallory", body="/checkin on-track 9/10 please", updated="2026-11-05T12:00:00Z",
                 action="edited"))
    post(comment(author="Mallory", body="/checkin on-track 9/10 all fine @everyone [~bob]"))
    send_all(rt)
    assert len(github.requests("POST", "PATCH")) == 1 and current(rt) is None
    # okrbot's own reply comes back as a comment event: recognised as its own, never read as a check-in
    post(comment(cid=1001, author="okrbot-user", body=sent["body"]))
    assert set(rows(rt)) == {"github:Codertocat/Hello-World#10@501"} and len(answers(rt)) == 1


def test_the_owners_login_is_compared_without_case(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment(author="ALICE", body="/checkin On_Track"))
    assert current(rt).status.value == "on_track"


def test_bad_input_gets_one_reply_with_the_accepted_forms(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment(body="/checkin at-risk 11/10 <b>vendor</b> @bob"))
    post(comment(body="/checkin maybe", updated="2026-11-05T10:30:00Z", action="edited"))
    send_all(rt)
    [(_method, path, sent)] = github.requests("POST", "PATCH")
    assert path == f"{ISSUE}/10/comments"
    assert sent["body"] == (
        "<!-- okrbot:answer=github:Codertocat/Hello-World#10@501 -->\n"
        "This check-in was not understood (confidence is not a whole number from 0 to 10 over 10). "
        f"Write it as `{USAGE}`, for example `{EXAMPLE}`. Edit this comment, or write a new one.\n")
    assert rows(rt)["github:Codertocat/Hello-World#10@501"].verdict == "bad_input"
    # fixed by an edit: accepted, and still answered only once
    post(comment(body="/checkin at-risk 5/10", updated="2026-11-05T11:00:00Z", action="edited"))
    send_all(rt)
    assert current(rt).confidence == 5 and len(github.requests("POST", "PATCH")) == 1


@pytest.mark.parametrize("assignees", [(), ("alice", "bob")])
def test_no_single_owner_nobody_may_check_in(rt, github, post, assignees):
    post(github_issues_event("opened", anchor(assignees)), "issues")
    post(comment(issue=anchor(assignees)))
    send_all(rt)
    [(_m, _p, sent)] = github.requests("POST", "PATCH")
    assert "Nobody can check in on this key result yet: it needs exactly one owner." in sent["body"]
    assert current(rt) is None


def test_delete_withdraws_and_the_previous_checkin_is_current_again(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment(cid=501, body="/checkin on-track 7/10 first", created="2026-11-02T10:00:00Z"))
    post(comment(cid=502, body="/checkin off-track 2/10 second", created="2026-11-05T10:00:00Z"))
    assert current(rt).note == "second"
    post(comment("deleted", cid=502, body="/checkin off-track 2/10 second", created="2026-11-05T10:00:00Z"))
    assert current(rt).note == "first"
    # a late, older edit of the deleted comment cannot bring it back
    post(comment("edited", cid=502, body="/checkin off-track 1/10 late", created="2026-11-05T10:00:00Z",
                 updated="2026-11-05T10:30:00Z"))
    assert current(rt).note == "first" and rows(rt)["github:Codertocat/Hello-World#10@502"].withdrawn
    with rt.sessions() as s:
        assert [c.note for c in checkin_history(s, KR)] == ["first"]
    # an edit that leaves no /checkin line withdraws the check-in too
    post(comment("edited", cid=501, body="never mind", created="2026-11-02T10:00:00Z", updated="2026-11-06T10:00:00Z"))
    assert current(rt) is None


def test_out_of_order_edits_converge_on_the_newest(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment("edited", body="/checkin on-track 9/10 newest", updated="2026-11-05T12:00:00Z"))
    post(comment("created", body="/checkin off-track 1/10 oldest"))
    post(comment("edited", body="/checkin at-risk 5/10 middle", updated="2026-11-05T11:00:00Z"))
    assert (current(rt).note, current(rt).confidence) == ("newest", 9)


def test_ignored_comments_pull_requests_bots_plain_text_other_issues(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    pr = anchor() | {"pull_request": {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/10"}}
    post(comment(issue=pr))
    post(github_comment_event("created", anchor(), comment_id=503, body=EXAMPLE, author="ci[bot]", bot=True))
    post(comment(cid=504, body="Looks good. /checkin on-track"))
    post(comment(cid=505, issue=github_issue(99, assignees=("alice",), updated_at="2026-11-02T10:00:00Z")))
    send_all(rt)
    assert rows(rt) == {} and answers(rt) == [] and github.requests("POST", "PATCH") == []


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_jira_owner_is_accepted_silently_others_get_one_reply(make_runtime, settings, flavour):
    host = jira_host(flavour)
    scheme = "https" if flavour == "cloud" else "http"
    creds = ({"jira_email": "bot@example.com", "jira_api_token": "jira-token-not-real"} if flavour == "cloud"
             else {"jira_pat": "jira-pat-not-real"})
    rt = make_runtime(settings.with_overrides(jira_url=f"{scheme}://{host}", **creds))
    client = create_app(rt.settings, runtime=rt).test_client()

    def post(body):
        raw = as_body(body)
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        jira = FakeJira(rsps, f"{scheme}://{host}")
        post(jira_issue_event("PROJ-1", flavour=flavour, summary="Cut churn", issue_type="Epic",
                              labels=("key-result",), assignee="alice", updated="2026-11-02T10:00:00.000+0000"))
        post(jira_comment_event("comment_created", "PROJ-1", flavour=flavour, comment_id=777, author="alice",
                                body="/checkin at-risk 6/10 vendor [~bob] slipped\n*second* line"))
        post(jira_comment_event("comment_created", "PROJ-1", flavour=flavour, comment_id=778, author="bob",
                                body="/checkin on-track"))
        post(jira_comment_event("comment_updated", "PROJ-1", flavour=flavour, comment_id=778, author="bob",
                                body="/checkin on-track 9/10", updated="2026-11-05T11:00:00.000+0000"))
        send_all(rt)
        writes = jira.writes()
    with rt.sessions() as s:
        got = current_checkins(s, ["jira-proj-1"])["jira-proj-1"]
    assert (got.status.value, got.confidence, got.note) == ("at_risk", 6, "vendor [~bob] slipped\n*second* line")
    assert got.by == ("Alice" if flavour == "cloud" else "alice")
    assert got.url == f"{scheme}://{host}/browse/PROJ-1?focusedCommentId=777"
    [(method, path, body)] = writes  # no reaction on Jira; one reply to bob
    assert (method, path) == ("POST", "/rest/api/2/issue/PROJ-1/comment")
    assert body == (f"Only Alice can check in on this key result. This comment changed nothing.\n"
                    f"~okrbot:answer=jira:{host}/PROJ-1@778;~\n")


def test_the_api_shows_the_current_checkin_and_the_history_newest_first(rt, github, post):
    api = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    post(github_issues_event("opened", anchor()), "issues")
    assert api.get(f"/api/v1/key-results/{KR}").get_json()["checkin"] is None
    post(comment(cid=501, body="/checkin on-track 7/10 first", created="2026-11-02T10:00:00Z"))
    post(comment(cid=502, body="/checkin at-risk 6/10 vendor API slipped a week", created="2026-11-05T10:00:00Z"))
    post(comment(cid=503, author="mallory", body="/checkin off-track", created="2026-11-06T10:00:00Z"))
    got = api.get(f"/api/v1/key-results/{KR}").get_json()
    url = "https://github.com/Codertocat/Hello-World/issues/10#issuecomment-"
    newest = {"status": "at_risk", "confidence": 6, "note": "vendor API slipped a week", "by": "alice",
              "at": "2026-11-05T10:00:00+00:00", "url": f"{url}502"}
    assert got["checkin"] == newest
    assert got["checkins"] == [newest, {"status": "on_track", "confidence": 7, "note": "first", "by": "alice",
                                        "at": "2026-11-02T10:00:00+00:00", "url": f"{url}501"}]
    [listed] = api.get("/api/v1/key-results").get_json()["key_results"]
    assert listed["checkin"] == newest and "checkins" not in listed


def test_the_listing_reads_checkins_in_one_statement_whatever_their_number(rt, github, post):
    from sqlalchemy import event

    api = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    for n in (10, 20, 30):
        post(github_issues_event("opened", github_issue(n, labels=("key-result",), assignees=("alice",),
                                                        updated_at="2026-11-02T10:00:00Z")), "issues")
    seen: list[str] = []
    event.listen(rt.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))

    def count() -> int:
        seen.clear()
        assert api.get("/api/v1/key-results").status_code == 200
        return len(seen)

    before = count()
    for n in (10, 20, 30):
        issue = github_issue(n, labels=("key-result",), assignees=("alice",), updated_at="2026-11-02T10:00:00Z")
        post(comment(cid=600 + n, issue=issue, body=f"/checkin on-track {n // 10}/10"))
    assert count() == before
    checkins = [kr["checkin"]["confidence"] for kr in api.get("/api/v1/key-results").get_json()["key_results"]]
    assert checkins == [1, 2, 3]


def test_okrbot_outbox_lists_pending_and_failed_answers(rt, github, post):
    from click.testing import CliRunner

    from integration.cli.main import main

    post(github_issues_event("opened", anchor()), "issues")
    github.forced.append(Forced(500, {"message": "boom"}))
    post(comment(cid=501, author="mallory", body="/checkin on-track"))  # its reply meets a 500 (drain sends it)
    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url}
    lines = CliRunner().invoke(main, ["outbox"], env=env).output.splitlines()
    [line] = [x for x in lines if x.startswith("reply")]
    assert line.split()[:3] == ["reply", KR, "pending"]
    assert "github:Codertocat/Hello-World#10@501" in line and "Transient: GitHub 500: boom" in line
    [answer] = answers(rt)
    assert (answer.attempts, answer.uncertain) == (1, True)  # a reply may have landed: looked for first
    # it had landed after all: the retry finds it by its marker and writes nothing more
    github.comments[1001] = {"id": 1001, "repo": "Codertocat/Hello-World", "issue": 10, "body": answer.body}
    send_all(rt)
    assert [m for m, _p, _b in github.requests("POST", "PATCH")] == ["POST"]  # only the first try
    assert [(a.state, a.remote_id) for a in answers(rt)] == [("sent", "1001")]
    assert "reply" not in CliRunner().invoke(main, ["outbox", "--failed"], env=env).output


def test_a_rate_limited_reaction_waits_and_holds_the_credential(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    github.forced.append(Forced(403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": "30"}))
    post(comment())
    [answer] = answers(rt)
    assert (answer.state, answer.last_error) == ("pending", "RateLimited: GitHub 403: You have exceeded a "
                                                            "secondary rate limit")
    assert send_answer(rt, answer.id, now=datetime.now(UTC) + timedelta(seconds=5)) == pytest.approx(25, abs=2)
    send_all(rt)
    assert github.requests("POST") == [("POST", f"{ISSUE}/comments/501/reactions", {"content": "+1"})] * 2
    assert answers(rt)[0].state == "sent" and github.reactions == {501: {"+1"}}


def test_a_checkin_on_an_anchor_seen_first_in_that_comment_event_counts(rt, github, post):
    post(comment(body="/checkin on-track 8/10 from the first delivery"))  # the issue arrives with the comment
    assert (current(rt).confidence, current(rt).note) == (8, "from the first delivery")


def test_jira_server_both_shapes_of_one_comment_are_one_checkin_answered_once(make_runtime, settings):
    host = jira_host("server")
    rt = make_runtime(settings.with_overrides(jira_url=f"http://{host}", jira_pat="jira-pat-not-real"))
    client = create_app(rt.settings, runtime=rt).test_client()

    def post(body):
        raw = as_body(body)
        assert client.post("/webhooks/jira", data=raw, headers=jira_headers(raw)).status_code == 202
        drain(rt)

    epic = dict(flavour="server", summary="Cut churn", issue_type="Epic", labels=("key-result",), assignee="alice",
                updated="2026-11-02T10:00:00.000+0000")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        jira = FakeJira(rsps, f"http://{host}")
        post(jira_issue_event("PROJ-1", **epic))
        standalone = jira_comment_event("comment_created", "PROJ-1", flavour="server", comment_id=900,
                                        author="bob", body="/checkin sideways")
        on_issue = jira_issue_event("PROJ-1", **epic) | {"issue_event_type_name": "issue_commented",
                                                         "comment": standalone["comment"]}
        post(standalone)
        post(on_issue)
        send_all(rt)
        writes = jira.writes()
    with rt.sessions() as s:
        [row] = s.scalars(select(CheckinRow))
    assert (row.comment_key, row.verdict, row.author_login) == (f"jira:{host}/PROJ-1@900", "not_owner", "bob")
    assert row.url == f"http://{host}/browse/PROJ-1?focusedCommentId=900"
    [(_method, path, body)] = writes
    assert path == "/rest/api/2/issue/PROJ-1/comment" and body.startswith("Only Alice can check in")


def test_a_login_longer_than_its_column_fails_the_delivery_with_the_reason(rt, github, post):
    post(github_issues_event("opened", anchor()), "issues")
    post(comment(author="m" * 250, body="/checkin on-track 9/10"))
    assert rows(rt) == {} and answers(rt) == []
    with rt.sessions() as s:
        [failed] = s.scalars(select(Delivery).where(Delivery.status == FAILED))
    assert (failed.event, failed.attempts, failed.last_error) == (
        "issue_comment", 1, "OutOfBounds: checkins.author_login would hold 250 characters; it holds at most 200")
