"""GithubClient against recorded and hand-made GitHub responses: the exact requests, the results, the errors."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import github.Auth
import pytest
import requests
import responses

from integration.trackers.base import Anchor, CommentMissing, Gone, RateLimited, RemoteComment, Transient
from integration.trackers.github_client import GithubClient
from tests.conftest import FIXTURES
from tests.integration.conftest import app_key, jwt_claims
from tests.integration.trackers.conftest import sent

HERE = Path(__file__).parent / "fixtures"
API = "https://api.github.com"
GHES = "https://ghe.example.com/api/v3"
# PyGithub always writes the port into the URL it sends; `responses` matches URLs literally.
API_SENT = "https://api.github.com:443"
GHES_SENT = "https://ghe.example.com:443/api/v3"
TOKEN = "ghp_test0000000000000000000000000000000"
ANCHOR = Anchor("github:Codertocat/Hello-World#1")
MARKER = "<!-- okrbot:kr=growth-1 -->"
COMMENTS = f"{API_SENT}/repos/Codertocat/Hello-World/issues/1/comments"
COMMENT = f"{API_SENT}/repos/Codertocat/Hello-World/issues/comments/492700400"
SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
             "If you reach out to GitHub Support for help, please include the request ID 0000:0000.")


def real_comment(action: str) -> dict:
    """The `comment` of a real issue_comment webhook: the same representation as the REST API's."""
    path = FIXTURES / f"github/issue_comment/octokit-webhooks__{action}.payload.json"
    return json.loads(path.read_text())["comment"]


def register_recorded(mock: responses.RequestsMock, name: str, host: str) -> None:
    for exchange in json.loads((HERE / name).read_text()):
        mock.add(exchange["method"].upper(), host + exchange["path"], json=exchange["response"],
                 status=exchange["status"], headers=exchange["headers"])


@pytest.fixture
def client() -> GithubClient:
    return GithubClient.from_token(TOKEN)


# --- the three calls -------------------------------------------------------------------------------


def test_find_follows_link_headers_to_the_first_comment_with_the_marker(api):
    register_recorded(api, "github__list_issue_comments.2_pages.handmade.json", "https://ghe.example.com:443")
    client = GithubClient.from_token(TOKEN, api_url=GHES)

    found = client.find_comment(ANCHOR, MARKER)

    assert found == RemoteComment("492700402", "<!-- okrbot:kr=growth-1 -->\n**Key result** 40% (2 of 5 done)")
    assert [sent(c) for c in api.calls] == [
        ("GET", f"{GHES_SENT}/repos/Codertocat/Hello-World/issues/1/comments?per_page=100", None, f"token {TOKEN}"),
        # the `next` link, as PyGithub re-sends it: its path and query on the configured host, parameters sorted
        ("GET", f"{GHES_SENT}/repositories/186853002/issues/1/comments?page=2&per_page=100", None, f"token {TOKEN}"),
    ]


def test_find_without_the_marker_reads_every_page_and_returns_none(api):
    register_recorded(api, "github__list_issue_comments.2_pages.handmade.json", "https://ghe.example.com:443")

    assert GithubClient.from_token(TOKEN, api_url=GHES).find_comment(ANCHOR, "<!-- okrbot:kr=other -->") is None
    assert len(api.calls) == 2


def test_find_on_an_issue_without_comments_is_one_request(api, client):
    api.get(f"{COMMENTS}?per_page=100", json=[])

    assert client.find_comment(ANCHOR, MARKER) is None
    assert len(api.calls) == 1


def test_create_posts_the_body_once(api, client):
    created = real_comment("created")
    api.post(COMMENTS, json=created, status=201)

    result = client.create_comment(ANCHOR, created["body"])

    assert result == RemoteComment("492700400", "You are totally right! I'll get this fixed right away.")
    assert [sent(c) for c in api.calls] == [("POST", COMMENTS, {"body": created["body"]}, f"token {TOKEN}")]


def test_edit_patches_the_comment_by_id_without_fetching_anything_first(api, client):
    edited = real_comment("edited")
    api.patch(COMMENT, json=edited)

    result = client.edit_comment(ANCHOR, "492700400", edited["body"])

    assert result == RemoteComment("492700400", "You are totally right! I'll get this fixed today.")
    assert [sent(c) for c in api.calls] == [("PATCH", COMMENT, {"body": edited["body"]}, f"token {TOKEN}")]


def test_requests_carry_the_timeout(api):
    api.get(f"{COMMENTS}?per_page=100", json=[])

    GithubClient.from_token(TOKEN, timeout=2.5).find_comment(ANCHOR, MARKER)

    assert api.calls[0].request.req_kwargs["timeout"] == 3  # PyGithub takes whole seconds: rounded up


def test_threads_sharing_a_client_send_one_request_at_a_time(api, client):
    in_flight, most = [0], [0]

    def slow_create(request):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        in_flight[0] -= 1
        return 201, {}, json.dumps(real_comment("created"))

    api.add_callback("POST", COMMENTS, callback=slow_create)
    threads = [threading.Thread(target=client.create_comment, args=(ANCHOR, "body")) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(api.calls) == 3 and most[0] == 1


def test_constructing_a_client_sends_nothing(api):
    GithubClient.from_token(TOKEN)
    GithubClient.from_app(1, app_key()[1], 42)
    assert len(api.calls) == 0


# --- errors ----------------------------------------------------------------------------------------


def test_500_on_create_is_uncertain_and_is_not_retried(api, client):
    api.post(COMMENTS, json={"message": "Server Error"}, status=500)

    with pytest.raises(Transient) as raised:
        client.create_comment(ANCHOR, "body")

    assert raised.value.uncertain is True and raised.value.status == 500
    assert len(api.calls) == 1  # PyGithub's default retry would have POSTed again


@pytest.mark.parametrize("error", [requests.ReadTimeout("read timed out"), requests.ConnectionError("reset")])
def test_a_lost_answer_to_a_create_is_uncertain(api, client, error):
    api.post(COMMENTS, body=error)

    with pytest.raises(Transient) as raised:
        client.create_comment(ANCHOR, "body")

    assert raised.value.uncertain is True and len(api.calls) == 1


def test_a_timeout_while_finding_is_transient_and_certain(api, client):
    api.get(f"{COMMENTS}?per_page=100", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(Transient) as raised:
        client.find_comment(ANCHOR, MARKER)

    assert raised.value.uncertain is False


def test_502_on_edit_is_transient_and_certain(api, client):
    api.patch(COMMENT, json={"message": "Bad Gateway"}, status=502)

    with pytest.raises(Transient) as raised:
        client.edit_comment(ANCHOR, "492700400", "body")

    assert raised.value.uncertain is False and len(api.calls) == 1


@pytest.mark.parametrize(("status", "headers", "message", "wait"), [
    (429, {"Retry-After": "30"}, "", 30),
    (429, {}, "", 60),
    (403, {}, SECONDARY, 60),
    (403, {"Retry-After": "120"}, SECONDARY, 120),
    (403, {"Retry-After": "5"}, "Forbidden", 5),
], ids=["429-retry-after", "429-bare", "403-secondary", "403-secondary-retry-after", "403-retry-after"])
def test_rate_limits(api, client, status, headers, message, wait):
    api.post(COMMENTS, json={"message": message}, status=status, headers=headers)

    with pytest.raises(RateLimited) as raised:
        client.create_comment(ANCHOR, "body")

    assert raised.value.retry_after == wait and raised.value.status == status
    assert len(api.calls) == 1


def test_primary_rate_limit_waits_until_the_reset(api, client):
    reset = int(time.time()) + 600
    api.get(f"{COMMENTS}?per_page=100", status=403,
            json={"message": "API rate limit exceeded for installation ID 42."},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000"})

    with pytest.raises(RateLimited) as raised:
        client.find_comment(ANCHOR, MARKER)

    assert raised.value.retry_after == pytest.approx(reset - time.time(), abs=2)


def test_a_reset_already_past_still_waits_one_second(api, client):
    api.get(f"{COMMENTS}?per_page=100", status=429, json={"message": ""},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) - 5)})

    with pytest.raises(RateLimited) as raised:
        client.find_comment(ANCHOR, MARKER)

    assert raised.value.retry_after == 1


def test_a_5xx_stays_transient_even_with_the_rate_limit_spent(api, client):
    api.post(COMMENTS, status=503, json={"message": "Unavailable"}, headers={"x-ratelimit-remaining": "0"})

    with pytest.raises(Transient) as raised:
        client.create_comment(ANCHOR, "body")

    assert raised.value.uncertain is True


def test_404_on_edit_means_the_comment_was_deleted(api, client):
    api.patch(COMMENT, status=404, json={"message": "Not Found"})

    with pytest.raises(CommentMissing) as raised:
        client.edit_comment(ANCHOR, "492700400", "body")

    assert raised.value.status == 404


@pytest.mark.parametrize(("status", "message"), [
    (404, "Not Found"),
    (410, "This issue was deleted"),
    (401, "Bad credentials"),
    (403, "Unable to create comment because issue is locked."),
    (403, "Resource not accessible by integration"),
    (422, "Validation Failed"),
])
def test_permanent_refusals_of_a_create_are_gone(api, client, status, message):
    api.post(COMMENTS, status=status, json={"message": message, "documentation_url": "https://docs.github.com/rest"})

    with pytest.raises(Gone) as raised:
        client.create_comment(ANCHOR, "body")

    assert raised.value.status == status and message in raised.value.message
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.__cause__)


def test_410_on_edit_is_gone(api, client):
    api.patch(COMMENT, status=410, json={"message": "This issue was deleted"})

    with pytest.raises(Gone):
        client.edit_comment(ANCHOR, "492700400", "body")


# --- GitHub App ------------------------------------------------------------------------------------

APP_ID = 123456
ACCESS_TOKENS = f"{GHES_SENT}/app/installations/42/access_tokens"
GHES_COMMENTS = f"{GHES_SENT}/repos/Codertocat/Hello-World/issues/1/comments"


def _installation_token(token: str, expires_in: timedelta) -> dict:
    """The documented answer of POST /app/installations/{id}/access_tokens (hand-made: it expires relative to now)."""
    expires_at = (datetime.now(UTC) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"token": token, "expires_at": expires_at, "permissions": {"issues": "write", "metadata": "read"},
            "repository_selection": "selected"}


def test_app_gets_an_installation_token_with_a_jwt_then_uses_it(api):
    key, pem = app_key()
    api.post(ACCESS_TOKENS, json=_installation_token("ghs_first", timedelta(hours=1)), status=201)
    api.get(f"{GHES_COMMENTS}?per_page=100", json=[])
    api.post(GHES_COMMENTS, json=real_comment("created"), status=201)
    client = GithubClient.from_app(APP_ID, pem, 42, api_url=GHES)

    client.find_comment(Anchor(ANCHOR.key, installation_id=42), MARKER)
    client.create_comment(ANCHOR, "body")

    token_call, find_call, create_call = api.calls
    assert (token_call.request.method, token_call.request.url) == ("POST", ACCESS_TOKENS)
    assert json.loads(token_call.request.body) == {"permissions": {}}
    claims = jwt_claims(token_call, key)
    assert claims["iss"] == str(APP_ID) and claims["iat"] < time.time() < claims["exp"]
    assert find_call.request.headers["Authorization"] == "token ghs_first"
    assert create_call.request.headers["Authorization"] == "token ghs_first"
    assert client.credential == "github:installation:42"


def test_app_gets_a_new_token_when_the_cached_one_has_expired(api, monkeypatch):
    key, pem = app_key()
    api.post(ACCESS_TOKENS, json=_installation_token("ghs_first", timedelta(hours=1)), status=201)
    api.post(ACCESS_TOKENS, json=_installation_token("ghs_second", timedelta(hours=2)), status=201)
    api.get(f"{GHES_COMMENTS}?per_page=100", json=[])
    client = GithubClient.from_app(APP_ID, pem, 42, api_url=GHES)
    client.find_comment(ANCHOR, MARKER)

    monkeypatch.setattr(github.Auth, "datetime", _Clock(timedelta(minutes=59, seconds=45)))  # within 20 s of expiry
    client.find_comment(ANCHOR, MARKER)

    assert [(c.request.method, c.request.url, c.request.headers["Authorization"][:6]) for c in api.calls] == [
        ("POST", ACCESS_TOKENS, "Bearer"), ("GET", f"{GHES_COMMENTS}?per_page=100", "token "),
        ("POST", ACCESS_TOKENS, "Bearer"), ("GET", f"{GHES_COMMENTS}?per_page=100", "token "),
    ]
    assert api.calls[3].request.headers["Authorization"] == "token ghs_second"
    assert jwt_claims(api.calls[2], key)["iss"] == str(APP_ID)


def test_app_never_sends_a_token_that_arrived_already_expiring(api):
    api.post(ACCESS_TOKENS, json=_installation_token("ghs_stale", timedelta(seconds=-5)), status=201)
    api.post(ACCESS_TOKENS, json=_installation_token("ghs_fresh", timedelta(hours=1)), status=201)
    api.get(f"{GHES_COMMENTS}?per_page=100", json=[])

    GithubClient.from_app(APP_ID, app_key()[1], 42, api_url=GHES).find_comment(ANCHOR, MARKER)

    assert [c.request.url for c in api.calls] == [ACCESS_TOKENS, ACCESS_TOKENS, f"{GHES_COMMENTS}?per_page=100"]
    assert api.calls[2].request.headers["Authorization"] == "token ghs_fresh"


def test_an_uninstalled_app_is_gone_even_when_editing(api):
    api.post(ACCESS_TOKENS, status=404, json={"message": "Not Found"})

    with pytest.raises(Gone) as raised:
        GithubClient.from_app(APP_ID, app_key()[1], 42, api_url=GHES).edit_comment(ANCHOR, "492700400", "b")

    assert not isinstance(raised.value, CommentMissing)
    assert [c.request.url for c in api.calls] == [ACCESS_TOKENS]  # the PATCH was never sent


def test_a_timeout_getting_the_token_is_certain_even_for_a_create(api):
    api.post(ACCESS_TOKENS, body=requests.ConnectTimeout("connect timed out"))

    with pytest.raises(Transient) as raised:
        GithubClient.from_app(APP_ID, app_key()[1], 42, api_url=GHES).create_comment(ANCHOR, "body")

    assert raised.value.uncertain is False and len(api.calls) == 1


def test_an_anchor_of_another_installation_is_refused_before_any_request(api):
    client = GithubClient.from_app(APP_ID, app_key()[1], 42, api_url=GHES)

    with pytest.raises(ValueError, match="installation 7"):
        client.find_comment(Anchor(ANCHOR.key, installation_id=7), MARKER)
    assert len(api.calls) == 0


class _Clock:
    """Stands in for `datetime` in github.Auth, which only calls `datetime.now(timezone.utc)` on it."""

    def __init__(self, ahead: timedelta):
        self.ahead = ahead

    def now(self, tz=None) -> datetime:
        return datetime.now(tz) + self.ahead


# --- anchors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["jira:x/PROJ-1", "github:Codertocat#1", "github:a/b#0"])
def test_an_anchor_that_is_not_a_github_issue_is_refused_before_any_request(api, client, key):
    with pytest.raises(ValueError):
        client.create_comment(Anchor(key), "body")
    assert len(api.calls) == 0


# --- reactions (check-in answers) ------------------------------------------------------------------

_REACTION = {"id": 1, "node_id": "MDg6UmVhY3Rpb24x", "content": "+1", "created_at": "2026-11-05T10:00:05Z",
             "user": real_comment("created")["user"]}  # hand-made, shaped as GitHub documents the answer


@pytest.mark.parametrize("status", [201, 200])  # 201 made; 200 it already existed (a repeat is harmless)
def test_add_reaction_posts_the_content_once(api, client, status):
    api.add("POST", f"{COMMENT}/reactions", json=_REACTION, status=status)
    assert client.add_reaction(ANCHOR, "492700400", "+1") == "1"
    [call] = api.calls
    assert sent(call) == ("POST", f"{COMMENT}/reactions", {"content": "+1"}, f"token {TOKEN}")


def test_add_reaction_on_a_deleted_comment_is_gone_and_a_rate_limit_says_how_long(api, client):
    api.add("POST", f"{COMMENT}/reactions", json={"message": "Not Found"}, status=404)
    with pytest.raises(Gone):
        client.add_reaction(ANCHOR, "492700400", "+1")
    api.add("POST", f"{COMMENT}/reactions", json={"message": SECONDARY}, status=403, headers={"Retry-After": "42"})
    with pytest.raises(RateLimited) as limited:
        client.add_reaction(ANCHOR, "492700400", "+1")
    assert limited.value.retry_after == 42
