"""The GitHub App's lifecycle: an installation deleted or suspended stops applying and writing, and
created again or unsuspended resumes both (the held comment then goes out); a repository removed from
the installation shows "source removed", keeps its history and gets no write, until it is added back.

The installation bodies are edited copies of octokit's real ones (installation id 42, account and
repositories Codertocat/Hello-World, where the key result lives); GitHub's API is faked with `responses`.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import func, select

from integration.summaries.models import SummaryPost
from integration.summaries.post import claim, deliver
from integration.web.app import create_app
from integration.writeback.models import HELD, PENDING, SENT, OutboxEntry
from integration.writeback.sender import send
from mappings.models import KeyResult, KeyResultEvent
from tests.conftest import as_body, drain, github_headers, load_fixture
from tests.fake_trackers import FakeGithub
from tests.integration.conftest import app_key
from tests.payloads import REPO, github_issue, github_issues_event, github_sub_issue_event
from webhooks.inbox import IncomingDelivery
from webhooks.models import IGNORED, PROCESSED, Delivery

KR = "gh-codertocat-hello-world-10"
INSTALLATION = {"id": 42, "account": {"login": "Codertocat", "id": 21031067, "type": "User"}}
TOKEN_URL = "/app/installations/42/access_tokens"


def installation_event(kind: str, action: str) -> dict:
    """octokit's `installation.<action>` / `installation_repositories.<action>` body, edited (see above)."""
    body = copy.deepcopy(load_fixture(f"github/{kind}/octokit-webhooks__{action}.payload.json"))
    body["installation"] = {**body["installation"], **INSTALLATION}
    for field in ("repositories", "repositories_added", "repositories_removed"):
        if body.get(field):
            body[field] = [{**body[field][0], "full_name": REPO, "name": "Hello-World"}]
    if kind == "installation_repositories" and action == "added":
        body["repositories_removed"] = []
    return body


@pytest.fixture
def app_rt(make_runtime, settings):
    _key, pem = app_key()
    return make_runtime(settings.with_overrides(github_app_id="12345", github_private_key=pem))


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rsps.add("POST", re.compile(r"https://api\.github\.com(:443)?/app/installations/42/access_tokens"), status=201,
                 json={"token": "ghs_installation_token", "expires_at": expires, "permissions": {"issues": "write"}})
        fake = FakeGithub(rsps)
        fake.sub_issue_lists[(REPO, 10)] = [github_issue(11, updated_at="2026-11-03T10:00:00Z")]
        yield fake


@pytest.fixture
def client(app_rt):
    return create_app(app_rt.settings, runtime=app_rt, open_to_loopback=True).test_client()


@pytest.fixture
def post(client, app_rt):
    def post(body: dict, event: str) -> None:
        raw = as_body(body)
        response = client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
        assert response.status_code == 202, response.get_json()
        drain(app_rt)
    return post


def with_installation(body: dict) -> dict:
    return body | {"installation": {"id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI="}}


def parent() -> dict:
    return github_issue(10, title="Ship it", labels=("key-result",), assignees=("alice",),
                        updated_at="2026-11-02T10:00:00Z")


def child(state: str = "open", at: str = "2026-11-03T10:00:00Z") -> dict:
    return github_issue(11, state=state, state_reason="completed" if state == "closed" else None,
                        assignees=("bob",), updated_at=at)


def key_result_on_installation(post) -> None:
    post(installation_event("installation", "created"), "installation")
    post(with_installation(github_issues_event("opened", parent())), "issues")
    post(with_installation(github_sub_issue_event("sub_issue_added", parent(), child())), "sub_issues")


def requests_since(api: FakeGithub, start: int) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.path_url) for c in api.rsps.calls[start:]]


def summary_text(rt) -> str:
    """The weekly summary as it would be posted elsewhere (a target covering every key result)."""
    from integration.summaries.build import SummaryTarget, build_view, render

    target = SummaryTarget(id="github:acme/okrs#1", anchor="github:acme/okrs#1", tracker="github", objectives=None,
                           container=None)
    with rt.sessions() as s:
        return render("github", build_view(rt, s, target, datetime.now(UTC), {}))


def entry(rt) -> OutboxEntry:
    with rt.sessions() as s:
        return s.scalar(select(OutboxEntry).where(OutboxEntry.kr_id == KR))


def last_delivery(rt) -> tuple[str, str | None]:
    with rt.sessions() as s:
        d = s.scalar(select(Delivery).order_by(Delivery.id.desc()).limit(1))
        return d.status, d.last_error


def done(rt) -> int:
    with rt.sessions() as s:
        return s.get(KeyResult, KR).n_done


_TICKS = iter(range(10_000))


def later() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=61 + 2 * next(_TICKS))


COMMENT_WRITE = [("POST", TOKEN_URL), ("GET", f"/repos/{REPO}/issues/10/comments?per_page=100"),
                 ("POST", f"/repos/{REPO}/issues/10/comments")]


@pytest.mark.parametrize(("stop", "resume", "shown"), [
    ("deleted", "created", "installation deleted"),
    ("suspend", "unsuspend", "installation suspended"),
])
def test_installation_stopped_then_resumed(app_rt, api, post, client, stop, resume, shown):
    key_result_on_installation(post)
    assert entry(app_rt).state == PENDING
    post(installation_event("installation", stop), "installation")
    assert last_delivery(app_rt) == (PROCESSED, None)
    assert client.get(f"/api/v1/key-results/{KR}").get_json()["source"] == "installation suspended"

    start = len(api.rsps.calls)
    assert send(app_rt, entry(app_rt).id, now=later()) is None
    assert requests_since(api, start) == []  # no token asked, nothing read, nothing written
    assert (entry(app_rt).state, entry(app_rt).last_error) == (HELD, shown)

    post(with_installation(github_issues_event("closed", child("closed", "2026-11-04T10:00:00Z"), sender="bob")),
         "issues")
    assert last_delivery(app_rt) == (IGNORED, shown)
    assert done(app_rt) == 0  # not applied

    post(installation_event("installation", resume), "installation")
    assert client.get(f"/api/v1/key-results/{KR}").get_json()["source"] == "ok"
    assert entry(app_rt).state == PENDING  # released: the held comment goes out now
    start = len(api.rsps.calls)
    assert send(app_rt, entry(app_rt).id, now=later()) is None
    assert requests_since(api, start) == COMMENT_WRITE
    assert entry(app_rt).state == SENT
    post(with_installation(github_issues_event("closed", child("closed", "2026-11-05T10:00:00Z"), sender="bob")),
         "issues")
    assert last_delivery(app_rt) == (PROCESSED, None) and done(app_rt) == 1  # applying resumed too


def test_repository_removed_then_added_back(app_rt, api, post, client):
    key_result_on_installation(post)
    with app_rt.sessions() as s:
        history = s.scalar(select(func.count()).select_from(KeyResultEvent))
    post(installation_event("installation_repositories", "removed"), "installation_repositories")
    body = client.get(f"/api/v1/key-results/{KR}").get_json()
    assert body["source"] == "source removed"
    assert [i["key"] for i in body["work_items"]] == [f"github:{REPO}#11"]  # history kept
    listed = client.get("/api/v1/key-results").get_json()["key_results"]
    assert [(k["id"], k["source"]) for k in listed] == [(KR, "source removed")]
    with app_rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(KeyResultEvent)) == history
    for page in ("/", f"/key-results/{KR}"):
        assert '<span class="flag flag-source">source removed</span>' in client.get(page).get_data(as_text=True)
    assert f"[Ship it](https://github.com/{REPO}/issues/10)** (source removed) — " in summary_text(app_rt)

    start = len(api.rsps.calls)
    assert send(app_rt, entry(app_rt).id, now=later()) is None
    assert requests_since(api, start) == []
    assert (entry(app_rt).state, entry(app_rt).last_error) == (HELD, "source removed")
    post(with_installation(github_issues_event("closed", child("closed", "2026-11-04T10:00:00Z"))), "issues")
    assert last_delivery(app_rt) == (IGNORED, "repository removed from the installation")

    post(installation_event("installation_repositories", "added"), "installation_repositories")
    assert client.get(f"/api/v1/key-results/{KR}").get_json()["source"] == "ok"
    assert "flag-source" not in client.get("/").get_data(as_text=True)
    assert "(source removed)" not in summary_text(app_rt)
    start = len(api.rsps.calls)
    assert send(app_rt, entry(app_rt).id, now=later()) is None
    assert requests_since(api, start) == COMMENT_WRITE


def test_a_summary_post_is_held_not_lost_and_goes_out_on_resume(app_rt, api, post):
    key_result_on_installation(post)
    post(installation_event("installation", "suspend"), "installation")
    now = datetime.now(UTC)
    post_id = claim(app_rt, "summary", "weekly", f"github:{REPO}#10", "2026-W45", "The week", {"marker": "m"}, now)
    start = len(api.rsps.calls)
    assert deliver(app_rt, post_id, now) is None
    assert requests_since(api, start) == []
    with app_rt.sessions() as s:
        held = s.get(SummaryPost, post_id)
        assert (held.state, held.last_error) == (HELD, "installation suspended")
    post(installation_event("installation", "unsuspend"), "installation")
    with app_rt.sessions() as s:
        assert s.get(SummaryPost, post_id).state == "pending"
    assert deliver(app_rt, post_id, datetime.now(UTC) + timedelta(seconds=5)) is None
    assert requests_since(api, start) == [("POST", TOKEN_URL), ("POST", f"/repos/{REPO}/issues/10/comments")]
    with app_rt.sessions() as s:
        assert s.get(SummaryPost, post_id).state == "sent"


def test_installation_events_out_of_order_newest_delivery_wins(app_rt, post):
    from integration.apply.processing import process_deliveries
    from integration.trackers.models import AppInstallation

    # stored in this order (suspend first), applied in the other: the later delivery (unsuspend) still wins
    ids = []
    for action in ("suspend", "unsuspend"):
        raw = as_body(installation_event("installation", action))
        ids.append(app_rt.inbox.store(IncomingDelivery("github", f"d-{action}", "installation", action,
                                                       {"Content-Type": "application/json"}, raw, datetime.now(UTC))))
    process_deliveries(app_rt, [ids[1]])
    process_deliveries(app_rt, [ids[0]])
    with app_rt.sessions() as s:
        assert s.get(AppInstallation, 42).state == "active"


def test_reconcile_reads_nothing_where_okrbot_may_not_act(app_rt, api, post):
    from integration.reconcile.sync import sync_key_result

    key_result_on_installation(post)
    post(installation_event("installation_repositories", "removed"), "installation_repositories")
    start = len(api.rsps.calls)
    report = sync_key_result(app_rt, KR)
    assert requests_since(api, start) == []
    assert report.errors == [f"sub_issues:github:{REPO}#10: not read: source removed"]
    post(installation_event("installation_repositories", "added"), "installation_repositories")
    report = sync_key_result(app_rt, KR)
    assert report.errors == [] and ("GET", f"/repos/{REPO}/issues/10/sub_issues?per_page=100") in \
        requests_since(api, start)


def test_reconcile_applies_nothing_out_of_scope(make_runtime, settings):
    from core.events import Event
    from integration.reconcile.sync import apply_snapshots
    from mappings.models import WorkItem
    from webhooks.github import GithubOptions, issue_snapshot

    rt = make_runtime(settings.with_overrides(github_allowed=("codertocat",)))
    options = GithubOptions(points_label_pattern=rt.settings.github_points_label_pattern)
    inside = issue_snapshot(github_issue(1, updated_at="2026-11-02T10:00:00Z"), options)
    outside = issue_snapshot(github_issue(2, repo="evil-corp/x", updated_at="2026-11-02T10:00:00Z"), options)
    apply_snapshots(rt, [Event("github", "updated", inside), Event("github", "updated", outside)], "reconcile")
    with rt.sessions() as s:
        assert list(s.scalars(select(WorkItem.key))) == [f"github:{REPO}#1"]


def test_a_checkin_answer_is_held_while_suspended_and_goes_out_on_resume(app_rt, api, post):
    from integration.writeback.checkin_answers import send_answer
    from integration.writeback.models import CheckinAnswer
    from mappings.checkins import EXAMPLE
    from tests.fake_trackers import Forced
    from tests.payloads import github_comment_event

    def answer() -> CheckinAnswer:
        with app_rt.sessions() as s:
            return s.scalar(select(CheckinAnswer))

    key_result_on_installation(post)
    api.forced.append(Forced(502, {"message": "Bad gateway"}))  # the first try fails: the answer waits for a retry
    post(with_installation(github_comment_event("created", parent(), comment_id=501, body=EXAMPLE)), "issue_comment")
    assert (answer().kind, answer().state, answer().last_error is not None) == ("reaction", PENDING, True)

    post(installation_event("installation", "suspend"), "installation")
    start = len(api.rsps.calls)
    assert send_answer(app_rt, answer().id, now=later()) is None
    assert requests_since(api, start) == []  # nothing sent while suspended
    assert (answer().state, answer().last_error) == (HELD, "installation suspended")

    post(installation_event("installation", "unsuspend"), "installation")
    assert (answer().state, answer().last_error) == (PENDING, None)  # released: the outbox sweep sends it
    start = len(api.rsps.calls)
    assert send_answer(app_rt, answer().id, now=later()) is None
    assert requests_since(api, start)[-1] == ("POST", f"/repos/{REPO}/issues/comments/501/reactions")
    assert answer().state == SENT and api.reactions == {501: {"+1"}}
