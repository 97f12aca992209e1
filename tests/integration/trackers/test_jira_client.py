"""JiraClient against recorded (jira-ruby) and hand-made Jira responses, on Cloud and on Server."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from integration.trackers.base import Anchor, CommentMissing, Gone, RateLimited, RemoteComment, Transient
from integration.trackers.jira_client import JiraClient, site_host
from tests.conftest import FIXTURES
from tests.integration.trackers.conftest import sent

HERE = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "api/jira/jira-ruby/issue/10002"  # recorded on a Server at http://localhost:2990/jira
EMAIL, API_TOKEN, PAT = "bot@example.com", "ATATT3xTestApiToken0000", "NjM4OTk0TestPersonalAccessToken"


@dataclass(frozen=True)
class Site:
    name: str
    url: str
    authorization: str

    def client(self, timeout: float = 10.0) -> JiraClient:
        if self.name == "cloud":
            return JiraClient.cloud(self.url, EMAIL, API_TOKEN, timeout=timeout)
        return JiraClient.server(self.url, PAT, timeout=timeout)

    @property
    def anchor(self) -> Anchor:
        return Anchor(f"jira:{site_host(self.url)}/SAMPLEPROJECT-1")

    def rest(self, path: str) -> str:
        return f"{self.url}/rest/api/2/{path}"


BASIC = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
CLOUD = Site("cloud", "https://example.atlassian.net", f"Basic {BASIC}")
SERVER = Site("server", "http://localhost:2990/jira", f"Bearer {PAT}")
SITES = pytest.mark.parametrize("site", [CLOUD, SERVER], ids=lambda s: s.name)
FIRST_PAGE = "issue/SAMPLEPROJECT-1/comment?startAt=0&maxResults=100"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


# --- the three calls -------------------------------------------------------------------------------


@SITES
def test_find_returns_the_first_comment_holding_the_marker(api, site):
    api.get(site.rest(FIRST_PAGE), json=recorded("comment.json"))

    assert site.client().find_comment(site.anchor, "new comment") == RemoteComment("10001", "new comment")
    assert [sent(c) for c in api.calls] == [("GET", site.rest(FIRST_PAGE), None, site.authorization)]


def test_find_follows_startat_and_total_when_the_server_sends_fewer_than_asked(api):
    for exchange in json.loads((HERE / "jira__issue_comment.2_pages_capped_at_1.handmade.json").read_text()):
        api.get("http://localhost:2990" + exchange["path"], json=exchange["response"], status=exchange["status"])

    found = SERVER.client().find_comment(SERVER.anchor, "okrbot:kr=growth-1")

    assert found == RemoteComment("10001", "{panel}okrbot:kr=growth-1{panel}\nh3. Key result: 40%")
    assert [c.request.url for c in api.calls] == [
        SERVER.rest(FIRST_PAGE), SERVER.rest("issue/SAMPLEPROJECT-1/comment?startAt=1&maxResults=100")]


def test_find_without_the_marker_stops_at_total(api):
    api.get(SERVER.rest(FIRST_PAGE), json=recorded("comment.json"))

    assert SERVER.client().find_comment(SERVER.anchor, "okrbot:kr=growth-1") is None
    assert len(api.calls) == 1


def test_find_on_an_issue_without_comments(api):
    api.get(SERVER.rest(FIRST_PAGE), json={"startAt": 0, "maxResults": 100, "total": 0, "comments": []})

    assert SERVER.client().find_comment(SERVER.anchor, "okrbot") is None
    assert len(api.calls) == 1


@SITES
def test_create_posts_the_body_once(api, site):
    api.post(site.rest("issue/SAMPLEPROJECT-1/comment"), json=recorded("comment.post.json"), status=201)

    assert site.client().create_comment(site.anchor, "new comment") == RemoteComment("10001", "new comment")
    assert [sent(c) for c in api.calls] == [
        ("POST", site.rest("issue/SAMPLEPROJECT-1/comment"), {"body": "new comment"}, site.authorization)]


@SITES
def test_edit_puts_the_body_in_one_request(api, site):
    url = site.rest("issue/SAMPLEPROJECT-1/comment/10000")
    api.put(url, json=recorded("comment/10000.put.json"))

    assert site.client().edit_comment(site.anchor, "10000", "new body") == RemoteComment("10000", "new body")
    assert [sent(c) for c in api.calls] == [("PUT", url, {"body": "new body"}, site.authorization)]


@SITES
def test_constructing_a_client_sends_nothing(api, site):
    client = site.client()
    assert client.credential == f"jira:{site_host(site.url)}"
    assert len(api.calls) == 0


def test_credentials_are_counted_per_site():
    assert CLOUD.client().credential == "jira:example.atlassian.net"
    assert SERVER.client().credential == "jira:localhost:2990"
    assert JiraClient.server("https://JIRA.example.com:443/", PAT).credential == "jira:jira.example.com"


# --- errors ----------------------------------------------------------------------------------------


def _timeout_after_checking(expected: float):
    def callback(request):
        assert request.req_kwargs["timeout"] == expected  # the timeout reached requests
        raise requests.ReadTimeout("read timed out")
    return callback


@SITES
def test_a_timeout_on_create_is_uncertain_and_not_retried(api, site):
    api.add_callback("POST", site.rest("issue/SAMPLEPROJECT-1/comment"), callback=_timeout_after_checking(7.5))

    with pytest.raises(Transient) as raised:
        site.client(timeout=7.5).create_comment(site.anchor, "body")

    assert raised.value.uncertain is True and len(api.calls) == 1


def test_a_timeout_while_finding_is_certain(api):
    api.add_callback("GET", SERVER.rest(FIRST_PAGE), callback=_timeout_after_checking(10.0))

    with pytest.raises(Transient) as raised:
        SERVER.client().find_comment(SERVER.anchor, "okrbot")

    assert raised.value.uncertain is False


def test_a_dropped_connection_on_create_is_not_retried(api):
    # with its default max_retries=3, ResilientSession would sleep up to a minute and POST again, three times
    api.post(CLOUD.rest("issue/SAMPLEPROJECT-1/comment"), body=requests.ConnectionError("connection reset"))

    with pytest.raises(Transient) as raised:
        CLOUD.client().create_comment(CLOUD.anchor, "body")

    assert raised.value.uncertain is True and len(api.calls) == 1


@pytest.mark.parametrize(("status", "headers"), [(500, {}), (503, {"Retry-After": "5"})])
def test_5xx_on_create_is_uncertain_and_sent_once(api, status, headers):
    api.post(CLOUD.rest("issue/SAMPLEPROJECT-1/comment"), status=status, headers=headers,
             json={"errorMessages": ["Internal server error"], "errors": {}})

    with pytest.raises(Transient) as raised:
        CLOUD.client().create_comment(CLOUD.anchor, "body")

    assert (raised.value.uncertain, raised.value.status, len(api.calls)) == (True, status, 1)


def test_5xx_on_edit_is_certain(api):
    api.put(CLOUD.rest("issue/SAMPLEPROJECT-1/comment/10000"), status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(Transient) as raised:
        CLOUD.client().edit_comment(CLOUD.anchor, "10000", "body")

    assert raised.value.uncertain is False


@pytest.mark.parametrize(("headers", "wait"), [({"Retry-After": "30"}, 30), ({}, 60)])
def test_429_is_rate_limited_and_sent_once(api, headers, wait):
    api.post(CLOUD.rest("issue/SAMPLEPROJECT-1/comment"), status=429, headers=headers, body="Rate limit exceeded.")

    with pytest.raises(RateLimited) as raised:
        CLOUD.client().create_comment(CLOUD.anchor, "body")

    assert (raised.value.retry_after, raised.value.status, len(api.calls)) == (wait, 429, 1)


def test_404_on_edit_means_the_comment_was_deleted(api):
    api.put(SERVER.rest("issue/SAMPLEPROJECT-1/comment/10000"), status=404,
            json={"errorMessages": ["Can not find a comment for the id: 10000."], "errors": {}})

    with pytest.raises(CommentMissing) as raised:
        SERVER.client().edit_comment(SERVER.anchor, "10000", "body")

    assert raised.value.message == "Jira 404: Can not find a comment for the id: 10000."


@SITES
@pytest.mark.parametrize(("status", "body"), [
    (401, {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]}),
    (403, {"errorMessages": ["You do not have the permission to comment on this issue."]}),
    (404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
    (400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}}),
])
def test_refusals_of_a_create_are_gone_and_say_nothing_of_the_credential(api, site, status, body):
    api.post(site.rest("issue/SAMPLEPROJECT-1/comment"), status=status, json=body)

    with pytest.raises(Gone) as raised:
        site.client().create_comment(site.anchor, "body")

    error = raised.value
    assert error.status == status and not isinstance(error, CommentMissing)
    assert error.message.startswith(f"Jira {status}: ")
    assert API_TOKEN not in str(error) and PAT not in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # a traceback will not print the JIRAError


def test_the_library_error_is_not_chained_since_it_prints_response_headers(api):
    """str(JIRAError) lists the response headers: a Server's session cookie would reach the logs."""
    api.post(SERVER.rest("issue/SAMPLEPROJECT-1/comment"), status=403, json={"errorMessages": ["no"]},
             headers={"Set-Cookie": "JSESSIONID=0123SECRETSESSION; Path=/jira; HttpOnly"})

    with pytest.raises(Gone) as raised:
        SERVER.client().create_comment(SERVER.anchor, "body")

    assert "0123SECRETSESSION" in str(raised.value.__context__)  # what `from None` keeps out of tracebacks
    assert raised.value.__suppress_context__ and "0123SECRETSESSION" not in raised.value.message


def test_a_2xx_that_is_not_json_is_transient(api):
    api.get(SERVER.rest(FIRST_PAGE), body="<html>Log in</html>", content_type="text/html")

    with pytest.raises(Transient):
        SERVER.client().find_comment(SERVER.anchor, "okrbot")


# --- anchors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["jira:other.atlassian.net/SAMPLEPROJECT-1", "github:a/b#1", "jira:localhost:2990/",
                                 "jira:localhost:2990/10002", "jira:localhost:2990/PROJ-1/comment",
                                 "jira:localhost:2990/PROJ-1?x=1"])
def test_anchors_of_other_sites_or_not_issue_keys_are_refused_before_any_request(api, key):
    with pytest.raises(ValueError):
        SERVER.client().find_comment(Anchor(key), "okrbot")
    assert len(api.calls) == 0


def test_a_comment_id_that_is_not_a_number_is_refused(api):
    with pytest.raises(ValueError):
        SERVER.client().edit_comment(SERVER.anchor, "10000/../1", "body")
