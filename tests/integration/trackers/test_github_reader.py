"""GithubReader against recorded (octokit/fixtures) and hand-made GitHub responses: the exact requests, the pages."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import responses
from github import GithubException
from github.Requester import Requester

from integration.trackers.base import Gone, RateLimited, Transient
from integration.trackers.github_reader import GithubReader, Page
from tests.conftest import FIXTURES
from tests.integration.conftest import app_key, jwt_claims

HERE = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "api/github/octokit-fixtures"
API_SENT = "https://api.github.com:443"  # PyGithub writes the port into the URL it sends
GHES = "https://ghe.example.com/api/v3"
GHES_SENT = "https://ghe.example.com:443/api/v3"
TOKEN = "ghp_test0000000000000000000000000000000"
REPO = "octokit-fixture-org/paginate-issues"
ISSUE_1 = f"{API_SENT}/repos/{REPO}/issues/1"
ISSUES = f"{API_SENT}/repos/{REPO}/issues"
RECORDED_ETAG = '"00000000000000000000000000000000"'  # as octokit/fixtures normalized it


def recorded(name: str) -> list[dict]:
    return json.loads((RECORDED / name / "normalized-fixture.json").read_text())


def recorded_headers(exchange: dict, **changes: str | None) -> dict[str, str]:
    """The recorded response headers, as strings, without content-length (`responses` sets its own)."""
    headers = {k: str(v) for k, v in exchange["headers"].items() if k not in ("content-length", "connection")}
    for name, value in changes.items():
        headers.pop(name, None)
        if value is not None:
            headers[name] = value
    return headers


def pull_request(issue: dict, number: int) -> dict:
    """Hand-made: an issue object as GitHub lists a pull request among issues (with a `pull_request` key)."""
    pr = copy.deepcopy(issue)
    base = f"https://api.github.com/repos/{REPO}"
    pr.update(number=number, id=issue["id"] + number, title=f"Test pull request {number}",
              html_url=f"https://github.com/{REPO}/pull/{number}", url=f"{base}/issues/{number}")
    pr["pull_request"] = {"url": f"{base}/pulls/{number}", "html_url": f"https://github.com/{REPO}/pull/{number}",
                          "diff_url": f"https://github.com/{REPO}/pull/{number}.diff",
                          "patch_url": f"https://github.com/{REPO}/pull/{number}.patch", "merged_at": None}
    return pr


def sent(call) -> tuple[str, str, str | None]:
    return call.request.method, call.request.url, call.request.headers.get("If-None-Match")


@pytest.fixture
def reader() -> GithubReader:
    return GithubReader.from_token(TOKEN)


PAGES = recorded("paginate-issues")  # GET /repos/octokit-fixture-org/paginate-issues/issues, 5 pages of 3
RECORDED_ISSUE_1 = PAGES[4]["response"][0]


# --- one issue, conditionally --------------------------------------------------------------------


def test_get_issue_then_304_on_the_second_read_with_its_etag(api, reader):
    api.get(ISSUE_1, json=RECORDED_ISSUE_1, headers=recorded_headers(PAGES[4], link=None))
    api.get(ISSUE_1, status=304, headers={"etag": RECORDED_ETAG, "x-ratelimit-remaining": "4999"})

    first = reader.get_issue(REPO, 1)
    second = reader.get_issue(REPO, 1, etag=first.etag)

    assert first == Page(items=(RECORDED_ISSUE_1,), etag=RECORDED_ETAG, not_modified=False, next_url=None, calls=1)
    assert second == Page(items=(), etag=RECORDED_ETAG, not_modified=True, next_url=None, calls=1)
    assert [sent(c) for c in api.calls] == [("GET", ISSUE_1, None), ("GET", ISSUE_1, RECORDED_ETAG)]
    assert all(c.request.headers["Authorization"] == f"token {TOKEN}" for c in api.calls)
    assert all(c.request.body is None for c in api.calls)


def test_a_304_without_an_etag_keeps_the_one_sent(api, reader):
    api.get(ISSUE_1, status=304)

    assert reader.get_issue(REPO, 1, etag='W/"abc"') == Page((), 'W/"abc"', True, None)


def test_a_304_raised_as_a_github_exception_is_not_modified_too(reader, monkeypatch):
    def raising(self, *args, **kwargs):
        raise GithubException(304, None, {"ETag": 'W/"abc"'})

    monkeypatch.setattr(Requester, "requestJson", raising)

    assert reader.get_issue(REPO, 1, etag='W/"abc"') == Page((), 'W/"abc"', True, None)


def test_requests_carry_the_timeout(api):
    api.get(ISSUE_1, json=RECORDED_ISSUE_1)

    GithubReader.from_token(TOKEN, timeout=2.5).get_issue(REPO, 1)

    assert api.calls[0].request.req_kwargs["timeout"] == 3  # PyGithub takes whole seconds: rounded up


def test_ghes_reads_under_its_api_prefix(api):
    api.get(f"{GHES_SENT}/repos/{REPO}/issues/1", json=RECORDED_ISSUE_1, headers={"etag": 'W/"e"'})

    page = GithubReader.from_token(TOKEN, api_url=GHES).get_issue(REPO, 1)

    assert page.items == (RECORDED_ISSUE_1,) and page.etag == 'W/"e"'


# --- sub-issues: one page per call, Link rel="next" ----------------------------------------------

SUB_ISSUES = json.loads((HERE / "github__list_sub_issues.3_pages.handmade.json").read_text())


def register(mock: responses.RequestsMock, exchanges: list[dict], host: str = API_SENT) -> None:
    for exchange in exchanges:
        mock.add(exchange["method"].upper(), host + exchange["path"], json=exchange["response"],
                 status=exchange["status"], headers=exchange["headers"])


def test_sub_issues_follow_link_headers_across_three_pages(api, reader):
    register(api, SUB_ISSUES)

    pages = [reader.sub_issues(REPO, 1)]
    while pages[-1].next_url:
        pages.append(reader.sub_issues(REPO, 1, url=pages[-1].next_url))

    assert [[i["number"] for i in p.items] for p in pages] == [[13, 12, 11], [10, 9, 8], [7, 6, 5]]
    assert [p.items for p in pages] == [tuple(e["response"]) for e in SUB_ISSUES]
    assert [p.etag for p in pages] == [f'W/"handmade-sub-issues-page-{n}"' for n in (1, 2, 3)]
    assert [p.next_url for p in pages] == [
        "https://api.github.com/repositories/1000/issues/1/sub_issues?per_page=100&page=2",
        "https://api.github.com/repositories/1000/issues/1/sub_issues?per_page=100&page=3",
        None,
    ]
    assert all(not p.not_modified and p.calls == 1 for p in pages)
    assert [sent(c) for c in api.calls] == [
        ("GET", f"{API_SENT}/repos/{REPO}/issues/1/sub_issues?per_page=100", None),
        # the `next` link's path and query on the configured host, parameters sorted by PyGithub
        ("GET", f"{API_SENT}/repositories/1000/issues/1/sub_issues?page=2&per_page=100", None),
        ("GET", f"{API_SENT}/repositories/1000/issues/1/sub_issues?page=3&per_page=100", None),
    ]


def test_sub_issues_reread_with_stored_etags_is_three_304s(api, reader):
    stored = [("", 'W/"handmade-sub-issues-page-1"'),
              ("https://api.github.com/repositories/1000/issues/1/sub_issues?per_page=100&page=2",
               'W/"handmade-sub-issues-page-2"'),
              ("https://api.github.com/repositories/1000/issues/1/sub_issues?per_page=100&page=3",
               'W/"handmade-sub-issues-page-3"')]
    for exchange, (_, etag) in zip(SUB_ISSUES, stored, strict=True):
        api.get(API_SENT + exchange["path"], status=304, headers={"etag": etag})

    pages = [reader.sub_issues(REPO, 1, etag=etag, url=url or None) for url, etag in stored]

    assert all(p.not_modified and p.items == () and p.next_url is None and p.calls == 1 for p in pages)
    assert [c.request.headers["If-None-Match"] for c in api.calls] == [etag for _, etag in stored]


def test_a_next_url_of_another_host_is_refused_before_any_request(api, reader):
    with pytest.raises(ValueError, match="not a URL of https://api.github.com"):
        reader.sub_issues(REPO, 1, url="https://evil.example.com/repositories/1000/issues/1/sub_issues?page=2")
    with pytest.raises(ValueError):
        GithubReader.from_token(TOKEN, api_url=GHES).sub_issues(
            REPO, 1, url="https://api.github.com/repositories/1000/issues/1/sub_issues?page=2")
    assert len(api.calls) == 0


@pytest.mark.parametrize(("repo", "number"), [("paginate-issues", 1), ("a/b/c", 1), ("a/b", 0), ("a/b", True)])
def test_bad_repositories_and_numbers_are_refused(api, reader, repo, number):
    with pytest.raises(ValueError):
        reader.sub_issues(repo, number)
    assert len(api.calls) == 0


# --- milestone and label listings: pull requests dropped -----------------------------------------


def test_issues_of_a_milestone_drop_pull_requests(api, reader):
    real = PAGES[0]["response"]  # issues 13, 12, 11
    api.get(f"{ISSUES}?milestone=3&per_page=100&state=all", json=[real[0], pull_request(real[0], 14), *real[1:]],
            headers=recorded_headers(PAGES[0], link=None))

    page = reader.issues(REPO, milestone=3)

    assert page == Page(items=tuple(real), etag=RECORDED_ETAG, not_modified=False, next_url=None, calls=1)
    assert [sent(c) for c in api.calls] == [("GET", f"{ISSUES}?milestone=3&per_page=100&state=all", None)]


def test_issues_of_a_label_follow_the_recorded_pagination(api, reader):
    """The five recorded pages, their Link headers as GitHub sent them; a hand-made PR on page 3."""
    first = f"{ISSUES}?labels=Growth+Q4&per_page=100&state=all"
    api.get(first, json=PAGES[0]["response"], headers=recorded_headers(PAGES[0]))
    for index, exchange in enumerate(PAGES[1:], start=1):
        body = exchange["response"] + ([pull_request(exchange["response"][0], 14)] if index == 2 else [])
        api.get(API_SENT + exchange["path"], json=body, headers=recorded_headers(exchange))

    pages = [reader.issues(REPO, label="Growth Q4")]
    while pages[-1].next_url:
        pages.append(reader.issues(REPO, label="Growth Q4", url=pages[-1].next_url))

    assert [i["number"] for p in pages for i in p.items] == list(range(13, 0, -1))
    assert all("pull_request" not in i for p in pages for i in p.items)
    assert sum(p.calls for p in pages) == 5
    assert [c.request.url for c in api.calls] == [first] + [
        f"{API_SENT}/repositories/1000/issues?page={n}&per_page=3" for n in (2, 3, 4, 5)]


def test_a_304_on_a_listing(api, reader):
    api.get(f"{ISSUES}?labels=growth&per_page=100&state=all", status=304, headers={"etag": RECORDED_ETAG})

    page = reader.issues(REPO, label="growth", etag=RECORDED_ETAG)

    assert page == Page((), RECORDED_ETAG, True, None, 1)
    assert api.calls[0].request.headers["If-None-Match"] == RECORDED_ETAG


def test_search_result_issues_are_read_as_they_come(api, reader):
    """The recorded search-issues items are issue objects too: a listing passes them through untouched."""
    items = recorded("search-issues")[0]["response"]["items"]
    api.get(f"{API_SENT}/repos/octokit-fixture-org/search-issues/issues?labels=sesame&per_page=100&state=all",
            json=[*items, pull_request(items[0], 3)])

    page = reader.issues("octokit-fixture-org/search-issues", label="sesame")

    assert page.items == tuple(items)


@pytest.mark.parametrize("kwargs", [{}, {"label": "a,b"}, {"label": " "}, {"milestone": 0}, {"milestone": "3"}])
def test_a_listing_needs_one_milestone_number_or_one_label(api, reader, kwargs):
    with pytest.raises(ValueError):
        reader.issues(REPO, **kwargs)
    assert len(api.calls) == 0


# --- errors, translated as the write-side client does --------------------------------------------


def test_primary_rate_limit_waits_until_the_reset(api, reader):
    reset = int(time.time()) + 600
    api.get(ISSUE_1, status=403, json={"message": "API rate limit exceeded for installation ID 42."},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000"})

    with pytest.raises(RateLimited) as raised:
        reader.get_issue(REPO, 1, etag=RECORDED_ETAG)

    assert raised.value.status == 403
    assert raised.value.retry_after == pytest.approx(reset - time.time(), abs=2)
    assert len(api.calls) == 1


def test_a_bare_403_with_the_limit_spent_is_a_rate_limit(api, reader):
    api.get(f"{API_SENT}/repos/{REPO}/issues/1/sub_issues?per_page=100", status=403, json={"message": "Forbidden"},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 60)})

    with pytest.raises(RateLimited):
        reader.sub_issues(REPO, 1)


def test_429_with_retry_after(api, reader):
    api.get(ISSUE_1, status=429, json={"message": ""}, headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as raised:
        reader.get_issue(REPO, 1)

    assert raised.value.retry_after == 30


@pytest.mark.parametrize(("status", "message"), [
    (404, "Not Found"), (410, "This issue was deleted"), (401, "Bad credentials"),
    (403, "Resource not accessible by integration"),
])
def test_permanent_refusals_are_gone(api, reader, status, message):
    api.get(ISSUE_1, status=status, json={"message": message, "documentation_url": "https://docs.github.com/rest"})

    with pytest.raises(Gone) as raised:
        reader.get_issue(REPO, 1)

    assert raised.value.status == status and message in raised.value.message
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("answer", [
    {"status": 502, "json": {"message": "Bad Gateway"}},
    {"status": 503, "body": "<html>unavailable</html>"},
    {"status": 200, "body": "<html>a proxy's login page</html>"},
    {"body": requests.ReadTimeout("read timed out")},
    {"body": requests.ConnectionError("reset")},
], ids=["502", "503-html", "200-not-json", "timeout", "connection"])
def test_server_errors_and_lost_answers_are_transient_and_certain(api, reader, answer):
    api.get(ISSUE_1, **answer)

    with pytest.raises(Transient) as raised:
        reader.get_issue(REPO, 1)

    assert raised.value.uncertain is False and len(api.calls) == 1  # retry=None: never re-sent by PyGithub


def test_a_listing_that_is_not_a_list_is_transient(api, reader):
    api.get(f"{API_SENT}/repos/{REPO}/issues/1/sub_issues?per_page=100", json={"message": "odd"})

    with pytest.raises(Transient):
        reader.sub_issues(REPO, 1)


# --- GitHub App: installation reads, JWT for webhook deliveries ----------------------------------

APP_ID = 123456
ACCESS_TOKENS = f"{API_SENT}/app/installations/42/access_tokens"
DELIVERIES = f"{API_SENT}/app/hook/deliveries"


def delivery(id: int, guid: str, at: str, status: str = "OK", code: int = 200, redelivery: bool = False) -> dict:
    """Hand-made, in the documented shape of GET /app/hook/deliveries items."""
    return {"id": id, "guid": guid, "delivered_at": at, "redelivery": redelivery, "duration": 0.27,
            "status": status, "status_code": code, "event": "issues", "action": "edited",
            "installation_id": 42, "repository_id": 1000, "throttled_at": None}


NEWEST = [  # newest first, as GitHub lists them
    delivery(105, "g-ok", "2026-11-30T13:50:00Z"),
    delivery(104, "g-redelivered", "2026-11-30T13:40:00Z", redelivery=True),
    delivery(103, "g-failed-twice", "2026-11-30T13:30:00Z", "Invalid HTTP Response: 503", 503, redelivery=True),
]
OLDER = [
    delivery(102, "g-redelivered", "2026-11-30T13:00:00Z", "Invalid HTTP Response: 500", 500),
    delivery(101, "g-failed-twice", "2026-11-30T12:30:00Z", "timed out", 0),
    delivery(100, "g-before-since", "2026-11-30T11:59:00Z", "timed out", 0),
]
SINCE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_installation_reads_use_the_installation_token(api):
    api.post(ACCESS_TOKENS, status=201, json={"token": "ghs_installation", "expires_at": "2099-01-01T00:00:00Z",
                                              "permissions": {"issues": "read"}})
    api.get(ISSUE_1, json=RECORDED_ISSUE_1)
    reader = GithubReader.from_app(APP_ID, app_key()[1], 42)

    reader.get_issue(REPO, 1)

    assert [c.request.url for c in api.calls] == [ACCESS_TOKENS, ISSUE_1]
    assert api.calls[1].request.headers["Authorization"] == "token ghs_installation"
    assert reader.credential == "github:installation:42"


def test_failed_deliveries_pages_back_to_since_as_the_app(api):
    key, pem = app_key()
    cursor = "https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_102"
    api.get(f"{DELIVERIES}?per_page=100", json=NEWEST, headers={"link": f'<{cursor}>; rel="next"'})
    api.get(f"{DELIVERIES}?cursor=v1_102&per_page=100", json=OLDER,
            headers={"link": '<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_99>; rel="next"'})
    reader = GithubReader.from_app(APP_ID, pem, 42)

    failed = reader.failed_deliveries(SINCE)

    # g-ok and g-redelivered have an OK delivery; g-failed-twice is returned once, its latest attempt;
    # g-before-since is older than `since`; the page after it is not read.
    assert failed == [NEWEST[2]]
    assert [(c.request.method, c.request.url) for c in api.calls] == [
        ("GET", f"{DELIVERIES}?per_page=100"), ("GET", f"{DELIVERIES}?cursor=v1_102&per_page=100")]
    for call in api.calls:  # the App's own JWT, no installation token
        claims = jwt_claims(call, key)
        assert claims["iss"] == str(APP_ID) and claims["iat"] < time.time() < claims["exp"]


def test_failed_deliveries_stops_on_the_last_page(api):
    api.get(f"{DELIVERIES}?per_page=100", json=[delivery(7, "g", "2026-11-30T12:01:00+00:00", "timed out", 0)])

    failed = GithubReader.from_app(APP_ID, app_key()[1], 42).failed_deliveries(datetime(2026, 11, 30, 12, 0))

    assert [d["id"] for d in failed] == [7] and len(api.calls) == 1  # a naive `since` is UTC


def test_redeliver_posts_an_attempt_as_the_app(api):
    key, pem = app_key()
    api.post(f"{DELIVERIES}/103/attempts", status=202, json={})

    GithubReader.from_app(APP_ID, pem, 42).redeliver(103)

    (call,) = api.calls
    assert (call.request.method, call.request.url, call.request.body) == ("POST", f"{DELIVERIES}/103/attempts", None)
    assert jwt_claims(call, key)["iss"] == str(APP_ID)


def test_a_redelivery_accepted_with_a_body_that_is_not_json_is_done(api):
    api.post(f"{DELIVERIES}/103/attempts", status=202, body="Accepted")

    assert GithubReader.from_app(APP_ID, app_key()[1], 42).redeliver(103) is None


def test_a_lost_answer_to_a_redelivery_is_uncertain(api):
    api.post(f"{DELIVERIES}/103/attempts", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(Transient) as raised:
        GithubReader.from_app(APP_ID, app_key()[1], 42).redeliver(103)

    assert raised.value.uncertain is True and len(api.calls) == 1


def test_a_deliveries_rate_limit_is_rate_limited(api):
    api.get(f"{DELIVERIES}?per_page=100", status=429, json={"message": ""}, headers={"Retry-After": "12"})

    with pytest.raises(RateLimited) as raised:
        GithubReader.from_app(APP_ID, app_key()[1], 42).failed_deliveries(SINCE)

    assert raised.value.retry_after == 12


def test_a_token_reader_has_no_app_endpoints(api, reader):
    with pytest.raises(ValueError, match="from_app"):
        reader.failed_deliveries(SINCE)
    with pytest.raises(ValueError, match="from_app"):
        reader.redeliver(103)
    assert len(api.calls) == 0


def test_an_app_only_reader_reads_deliveries_but_no_repository(api):
    key, pem = app_key()
    api.get(f"{DELIVERIES}?per_page=100", json=OLDER)
    reader = GithubReader.from_app(APP_ID, pem, None)

    assert [d["id"] for d in reader.failed_deliveries(SINCE)] == [102, 101]  # newest first
    with pytest.raises(ValueError, match="App-only"):
        reader.get_issue(REPO, 1)
    assert reader.credential == "github:app"
    assert len(api.calls) == 1 and jwt_claims(api.calls[0], key)["iss"] == str(APP_ID)


def test_constructing_a_reader_sends_nothing(api):
    GithubReader.from_token(TOKEN)
    GithubReader.from_app(APP_ID, app_key()[1], 42, api_url=GHES)
    assert len(api.calls) == 0
