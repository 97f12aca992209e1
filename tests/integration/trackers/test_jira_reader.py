"""JiraReader against hand-made search pages holding real Jira issue objects (the `issue` of real webhook
bodies: the same representation as REST v2), on Cloud and on Server; and the JQL helpers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import responses

from integration.trackers.base import Gone, RateLimited, Transient
from integration.trackers.jira_reader import DEFAULT_FIELDS, JiraReader, jql_quote, updated_since
from tests.conftest import FIXTURES

WEBHOOKS = FIXTURES / "jira"
EMAIL, API_TOKEN, PAT = "bot@example.com", "ATATT3xTestApiToken0000", "NjM4OTk0TestPersonalAccessToken"
CLOUD = "https://example.atlassian.net"
SERVER = "http://localhost:2990/jira"
BASIC = "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
BEARER = f"Bearer {PAT}"
JQL = 'parent = "PROJ-12" AND updated >= "2026-11-30 14:05"'
FIELDS = ",".join(DEFAULT_FIELDS)


def real_issue(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_text())["issue"]


SERVER_ISSUES = [real_issue("issue_updated/mattermost-plugin-jira__webhook-server-issue-updated-many-fields.json"),
                 real_issue("issue_updated/mattermost-plugin-jira__webhook-server-updated-custom-field.json"),
                 real_issue("issue_updated/mattermost-plugin-jira__webhook-server-issue-updated-closed.json")]
CLOUD_ISSUES = [real_issue("issue_created/mattermost-plugin-jira__webhook-cloud-issue-created-many-fields.json"),
                real_issue("issue_updated/mattermost-plugin-jira__webhook-cloud-issue-updated-custom-field.json"),
                real_issue("issue_created/mattermost-plugin-jira__webhook-issue-created.json")]


def query(call) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(call.request.url).query)


def path(call) -> str:
    parts = urlsplit(call.request.url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def cloud() -> JiraReader:
    return JiraReader.cloud(CLOUD, EMAIL, API_TOKEN)


def server() -> JiraReader:
    return JiraReader.server(SERVER, PAT)


# --- Server / Data Center: /rest/api/2/search, startAt and total ----------------------------------


def test_server_search_reads_every_page_by_startat_and_total(api):
    url = f"{SERVER}/rest/api/2/search"
    # the server caps maxResults below the 100 asked: paging goes by what came back
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "0"}, strict_match=False)],
            json={"expand": "schema,names", "startAt": 0, "maxResults": 2, "total": 3, "issues": SERVER_ISSUES[:2]})
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "2"}, strict_match=False)],
            json={"expand": "schema,names", "startAt": 2, "maxResults": 2, "total": 3, "issues": SERVER_ISSUES[2:]})

    issues, calls = server().search(JQL)

    assert issues == SERVER_ISSUES and calls == 2
    assert [i["key"] for i in issues] == ["HEY-15", "TES-8", "TES-4"]
    assert [(c.request.method, path(c), query(c), c.request.headers["Authorization"]) for c in api.calls] == [
        ("GET", url, [("jql", JQL), ("startAt", "0"), ("maxResults", "100"), ("fields", FIELDS)], BEARER),
        ("GET", url, [("jql", JQL), ("startAt", "2"), ("maxResults", "100"), ("fields", FIELDS)], BEARER),
    ]


def test_fields_asked_for_are_added_to_the_defaults(api):
    api.get(f"{SERVER}/rest/api/2/search", json={"startAt": 0, "maxResults": 100, "total": 0, "issues": []})

    assert server().search(JQL, fields=("summary", "customfield_10008", "customfield_10016")) == ([], 1)
    assert dict(query(api.calls[0]))["fields"] == f"{FIELDS},customfield_10008,customfield_10016"


def test_an_issue_seen_on_two_pages_is_returned_once_its_latest_copy(api):
    moved = {**SERVER_ISSUES[1], "fields": {**SERVER_ISSUES[1]["fields"], "summary": "renamed while paging"}}
    url = f"{SERVER}/rest/api/2/search"
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "0"}, strict_match=False)],
            json={"startAt": 0, "maxResults": 2, "total": 3, "issues": SERVER_ISSUES[:2]})
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "2"}, strict_match=False)],
            json={"startAt": 2, "maxResults": 2, "total": 3, "issues": [moved]})

    issues, calls = server().search(JQL)

    assert issues == [SERVER_ISSUES[0], moved] and calls == 2


def test_a_long_jql_is_posted(api):
    keys = ", ".join(f"PROJ-{n}" for n in range(1, 400))
    jql = f"key in ({keys})"
    api.post(f"{SERVER}/rest/api/2/search", json={"startAt": 0, "maxResults": 100, "total": 1,
                                                  "issues": SERVER_ISSUES[:1]})

    assert server().search(jql) == (SERVER_ISSUES[:1], 1)
    (call,) = api.calls
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == {"jql": jql, "startAt": 0, "maxResults": 100,
                                             "fields": list(DEFAULT_FIELDS)}


# --- Cloud: /rest/api/2/search/jql, nextPageToken -------------------------------------------------


def test_cloud_search_follows_next_page_tokens_with_basic_auth(api):
    url = f"{CLOUD}/rest/api/2/search/jql"
    api.get(url, match=[responses.matchers.query_param_matcher({"maxResults": "100"}, strict_match=False)],
            json={"issues": CLOUD_ISSUES[:2], "nextPageToken": "CAEaAggD", "isLast": False})
    api.get(url, match=[responses.matchers.query_param_matcher({"nextPageToken": "CAEaAggD"}, strict_match=False)],
            json={"issues": CLOUD_ISSUES[2:], "isLast": True})

    issues, calls = cloud().search(JQL, fields=("customfield_10014",))

    assert issues == CLOUD_ISSUES and calls == 2
    fields = f"{FIELDS},customfield_10014"
    assert [(c.request.method, path(c), query(c), c.request.headers["Authorization"]) for c in api.calls] == [
        ("GET", url, [("jql", JQL), ("maxResults", "100"), ("fields", fields)], BASIC),
        ("GET", url, [("jql", JQL), ("maxResults", "100"), ("nextPageToken", "CAEaAggD"), ("fields", fields)], BASIC),
    ]


def test_cloud_stops_when_no_token_comes_back(api):
    api.get(f"{CLOUD}/rest/api/2/search/jql", json={"issues": CLOUD_ISSUES[:1]})

    assert cloud().search(JQL) == (CLOUD_ISSUES[:1], 1)


def test_cloud_stops_on_an_empty_page_even_with_a_token(api):
    api.get(f"{CLOUD}/rest/api/2/search/jql", json={"issues": [], "nextPageToken": "again", "isLast": False})

    assert cloud().search(JQL) == ([], 1)


def test_constructing_a_reader_sends_nothing(api):
    assert cloud().credential == "jira:example.atlassian.net"
    assert server().credential == "jira:localhost:2990"
    assert len(api.calls) == 0


def test_requests_carry_the_timeout(api):
    api.get(f"{SERVER}/rest/api/2/search", json={"startAt": 0, "maxResults": 100, "total": 0, "issues": []})

    JiraReader.server(SERVER, PAT, timeout=2.5).search(JQL)

    assert api.calls[0].request.req_kwargs["timeout"] == 2.5


def test_an_empty_jql_is_refused(api):
    with pytest.raises(ValueError):
        server().search("  ")
    assert len(api.calls) == 0


# --- errors ---------------------------------------------------------------------------------------


def test_429_is_rate_limited_and_not_retried(api):
    api.get(f"{CLOUD}/rest/api/2/search/jql", status=429, headers={"Retry-After": "17"},
            json={"errorMessages": ["Rate limit exceeded."]})

    with pytest.raises(RateLimited) as raised:
        cloud().search(JQL)

    assert raised.value.retry_after == 17 and raised.value.status == 429 and len(api.calls) == 1


def test_429_on_a_later_page(api):
    url = f"{SERVER}/rest/api/2/search"
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "0"}, strict_match=False)],
            json={"startAt": 0, "maxResults": 2, "total": 3, "issues": SERVER_ISSUES[:2]})
    api.get(url, match=[responses.matchers.query_param_matcher({"startAt": "2"}, strict_match=False)], status=429,
            body="")

    with pytest.raises(RateLimited) as raised:
        server().search(JQL)

    assert raised.value.retry_after == 60  # no Retry-After: a minute


@pytest.mark.parametrize(("status", "body"), [
    (400, {"errorMessages": ["Field 'cf[10008]' does not exist or you do not have permission to view it."]}),
    (401, {"errorMessages": ["You are not authenticated."]}),
    (410, {"errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]}),
])
def test_refusals_are_gone(api, status, body):
    api.get(f"{SERVER}/rest/api/2/search", status=status, json=body)

    with pytest.raises(Gone) as raised:
        server().search(JQL)

    assert raised.value.status == status and body["errorMessages"][0][:20] in raised.value.message
    assert PAT not in str(raised.value)


@pytest.mark.parametrize("answer", [
    {"status": 503, "json": {"errorMessages": ["unavailable"]}},
    {"body": requests.ReadTimeout("read timed out")},
    {"status": 200, "body": "<html>login</html>"},
    {"status": 200, "json": ["not", "an", "object"]},
], ids=["503", "timeout", "not-json", "not-an-object"])
def test_server_errors_and_lost_answers_are_transient(api, answer):
    api.get(f"{CLOUD}/rest/api/2/search/jql", **answer)

    with pytest.raises(Transient):
        cloud().search(JQL)
    assert len(api.calls) == 1


# --- the account's time zone ----------------------------------------------------------------------


def test_time_zone_is_the_accounts(api):
    api.get(f"{CLOUD}/rest/api/2/myself", json={"accountId": "5b10ac8d82e05b22cc7d4ef5", "timeZone": "Europe/Berlin",
                                                 "displayName": "okrbot"})

    assert cloud().time_zone() == ZoneInfo("Europe/Berlin")
    assert api.calls[0].request.headers["Authorization"] == BASIC


@pytest.mark.parametrize("zone", [None, "Mars/Olympus_Mons", ""])
def test_an_unusable_time_zone_is_refused(api, zone):
    api.get(f"{SERVER}/rest/api/2/myself", json={"name": "okrbot", "timeZone": zone})

    with pytest.raises(ValueError, match="time zone"):
        server().time_zone()


# --- JQL helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "literal"), [
    ("PROJ-12", '"PROJ-12"'),
    ('Say "hi"', r'"Say \"hi\""'),
    ("C:\\temp", r'"C:\\temp"'),
    ('a\\"b', r'"a\\\"b"'),
    ("two\nlines\tand\r", r'"two\nlines\tand\r"'),
    ("growth q4 'okr'", "\"growth q4 'okr'\""),
    ("", '""'),
])
def test_jql_quote(value, literal):
    assert jql_quote(value) == literal


def test_updated_since_in_utc_at_minute_precision():
    assert updated_since(datetime(2026, 11, 30, 14, 5, 59, 999999, tzinfo=UTC)) == 'updated >= "2026-11-30 14:05"'
    assert updated_since(datetime(2026, 11, 30, 14, 5)) == 'updated >= "2026-11-30 14:05"'  # naive: UTC
    plus_two = timezone(timedelta(hours=2))
    assert updated_since(datetime(2026, 12, 1, 1, 5, tzinfo=plus_two)) == 'updated >= "2026-11-30 23:05"'


def test_updated_since_in_the_accounts_zone():
    at = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert updated_since(at, ZoneInfo("America/New_York")) == 'updated >= "2026-11-30 09:05"'
    assert updated_since(at - timedelta(minutes=5), ZoneInfo("Asia/Kolkata")) == 'updated >= "2026-11-30 19:30"'
