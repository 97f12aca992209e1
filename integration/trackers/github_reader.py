"""Reading a key result's GitHub work for reconcile: issues, sub-issues, milestone and label listings.

Cheap when nothing changed: every read takes the ETag of its last answer and sends it back as
`If-None-Match`; GitHub then answers `304 Not Modified`, which does not count against the primary rate
limit when the request is authorized.
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate

ETags are specific to the token that read them (GitHub support, eclipse-csi/otterdog#201): an App's
installation token changes every hour, so the first read of each page after a new token answers 200 again.
That costs one request per page per hour, never a wrong answer.

Requests per call: `get_issue`, `sub_issues`, `issues`: one GET (`Page.calls` is 1) — one page per call,
the caller follows `next_url`. `failed_deliveries`: one GET per page of 100 deliveries, newest first,
stopping at the first page that reaches back past `since`. `redeliver`: one POST. With App auth, add one
POST for the installation token on first use and about once an hour after (not counted in `Page.calls`:
it is signed with the app's JWT and does not count against the installation's rate limit).

The raw calls go through PyGithub's requester (`Requester.requestJson`), so authentication (token, App
installation token and its refresh, App JWT), the GHES base URL and the timeout stay PyGithub's. It is
`requestJson`, not `requestJsonAndCheck`: in PyGithub 2.x a 304 is no error (only a status >= 400 raises),
and `requestJsonAndCheck` returns `(headers, None)` for it without the status; `requestJson` returns the
status itself. A `GithubException` with status 304 (what an older or patched PyGithub might raise) is
read as not-modified too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException
from github.Requester import Requester

from mappings.keys import WorkItemKey

from .base import Transient
from .github_client import DEFAULT_API_URL, TIMEOUT, _github, _translated

PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    items: tuple[dict, ...]  # raw GitHub issue JSON objects, as the REST API returns them
    etag: str | None  # the response's ETag (store it; send it back next time)
    not_modified: bool  # True when GitHub answered 304 to If-None-Match (items empty then)
    next_url: str | None  # the Link rel="next" URL, None on the last page
    calls: int = 1  # HTTP requests this cost


class GithubReader:
    """Reads for reconcile, on GitHub.com or GitHub Enterprise Server (`api_url="https://<host>/api/v3"`)."""

    def __init__(
        self, github: Github | None, credential: str, api_url: str = DEFAULT_API_URL, app: Github | None = None,
    ):
        self._github = github  # None: an App-only reader, for webhook deliveries
        self._app = app  # authenticated as the App itself (JWT): the only way into /app endpoints
        self._api_url = api_url.rstrip("/")
        self.credential = credential

    @classmethod
    def from_token(cls, token: str, api_url: str = DEFAULT_API_URL, timeout: float = TIMEOUT) -> GithubReader:
        """A personal access token (or any token), sent as `Authorization: token <token>`."""
        return cls(_github(Auth.Token(token), api_url, timeout), "github:token", api_url)

    @classmethod
    def from_app(
        cls, app_id: int | str, private_key_pem: str, installation_id: int | None,
        api_url: str = DEFAULT_API_URL, timeout: float = TIMEOUT,
    ) -> GithubReader:
        """Reads as one installation of a GitHub App; `failed_deliveries` and `redeliver` act as the App (JWT).

        Same construction and credential as `GithubClient.from_app`: reads and writes of one installation
        are counted on one budget. `installation_id=None`: the App alone ("github:app"), for its webhook
        deliveries only; issue reads then raise ValueError.
        """
        app_auth = Auth.AppAuth(app_id, private_key_pem)
        app = _github(app_auth, api_url, timeout)
        if installation_id is None:
            return cls(None, "github:app", api_url, app=app)
        installation = app_auth.get_installation_auth(installation_id)
        return cls(_github(installation, api_url, timeout), f"github:installation:{installation_id}", api_url,
                   app=app)

    # --- issues ------------------------------------------------------------------------------------

    def get_issue(self, repo: str, number: int, etag: str | None = None) -> Page:
        """GET /repos/{owner}/{repo}/issues/{n}; `items` is `(issue,)` unless GitHub answered 304.

        A pull request is returned too (GitHub serves PRs at this path), with its `pull_request` key.
        https://docs.github.com/en/rest/issues/issues#get-an-issue
        """
        path = f"{_repo_path(repo, number)}/issues/{number}"
        status, headers, data = self._get(path, {}, etag)
        if status == 304:
            return _not_modified(headers, etag)
        if not isinstance(data, dict):
            raise Transient(f"GitHub {status}: an issue was expected, not {type(data).__name__}", status)
        return Page((data,), headers.get("etag"), False, None)

    def sub_issues(self, repo: str, number: int, etag: str | None = None, url: str | None = None) -> Page:
        """GET /repos/{owner}/{repo}/issues/{n}/sub_issues?per_page=100, or the given next-page `url`.

        One page per call; follow `next_url` for the rest.
        https://docs.github.com/en/rest/issues/sub-issues#list-sub-issues
        """
        path = f"{_repo_path(repo, number)}/issues/{number}/sub_issues"
        return self._page(path, {"per_page": PER_PAGE}, etag, url)

    def issues(
        self, repo: str, *, milestone: int | None = None, label: str | None = None,
        etag: str | None = None, url: str | None = None,
    ) -> Page:
        """GET /repos/{owner}/{repo}/issues?state=all&per_page=100 with `milestone=N` and/or `labels=<label>`.

        One page per call. GitHub lists pull requests here too: they are dropped from `items`, so a page
        may hold fewer than 100 items and still have a `next_url`.
        https://docs.github.com/en/rest/issues/issues#list-repository-issues
        """
        if milestone is None and label is None:
            raise ValueError("issues() needs a milestone or a label: a whole repository is not a key result's work")
        if label is not None and ("," in label or not label.strip()):
            # `labels` is a comma-separated list: a name with a comma cannot be asked for on its own
            raise ValueError(f"cannot list issues by label {label!r}")
        params: dict[str, Any] = {"state": "all", "per_page": PER_PAGE}
        if milestone is not None:
            if isinstance(milestone, bool) or not isinstance(milestone, int) or milestone < 1:
                raise ValueError(f"not a milestone number: {milestone!r}")
            params["milestone"] = str(milestone)
        if label is not None:
            params["labels"] = label
        page = self._page(f"{_repo_path(repo)}/issues", params, etag, url)
        kept = tuple(item for item in page.items if "pull_request" not in item)
        return Page(kept, page.etag, page.not_modified, page.next_url, page.calls)

    # --- App webhook deliveries --------------------------------------------------------------------

    def failed_deliveries(self, since: datetime) -> list[dict]:
        """The App's webhook deliveries since `since` that failed and were not delivered since, newest first.

        GET /app/hook/deliveries?per_page=100, then the `Link: rel="next"` (cursor) pages, until a page
        reaches a delivery older than `since`. Each item is the raw delivery (id, guid, delivered_at,
        redelivery, status, status_code, event, action, installation_id, repository_id, ...).

        A redelivery is a new delivery with the same `guid`; so a guid with any "OK" delivery in the window
        is left out, and of a guid that failed several times only the newest attempt is returned (one
        redelivery per event, not one per failed attempt) — as GitHub's own redelivery script does:
        https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries
        A naive `since` is taken as UTC.
        https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
        """
        app = self._app_github()
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        window: list[dict] = []
        url: str | None = None
        while True:
            status, headers, data = self._get("/app/hook/deliveries", {"per_page": PER_PAGE}, None, url, app)
            if not isinstance(data, list):
                raise Transient(f"GitHub {status}: a list of deliveries was expected", status)
            reached_back = False
            for delivery in data:
                if _delivered_at(delivery) < since:
                    reached_back = True
                    break
                window.append(delivery)
            url = _next_link(headers)
            if reached_back or not url or not data:
                break
        delivered = {d.get("guid") for d in window if d.get("status") == "OK"}
        failed: dict[object, dict] = {}
        for delivery in window:  # newest first: the first of a guid is its latest attempt
            if delivery.get("status") != "OK" and delivery.get("guid") not in delivered:
                failed.setdefault(delivery.get("guid"), delivery)
        return list(failed.values())

    def redeliver(self, delivery_id: int) -> None:
        """POST /app/hook/deliveries/{id}/attempts (GitHub answers 202 and delivers again, as a new delivery).

        A lost answer may hide a redelivery that was made: that Transient is `uncertain`.
        https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
        """
        if isinstance(delivery_id, bool) or not isinstance(delivery_id, int) or delivery_id < 1:
            raise ValueError(f"not a delivery id: {delivery_id!r}")
        self._request("POST", f"/app/hook/deliveries/{delivery_id}/attempts", {}, {}, self._app_github(),
                      creating=True)

    # --- requests ----------------------------------------------------------------------------------

    def _app_github(self) -> Github:
        if self._app is None:
            raise ValueError("webhook deliveries are read as a GitHub App: build the reader with from_app()")
        return self._app

    def _page(self, path: str, params: dict[str, Any], etag: str | None, url: str | None) -> Page:
        status, headers, data = self._get(path, params, etag, url)
        if status == 304:
            return _not_modified(headers, etag)
        if not isinstance(data, list):
            raise Transient(f"GitHub {status}: a list was expected, not {type(data).__name__}", status)
        return Page(tuple(data), headers.get("etag"), False, _next_link(headers))

    def _get(
        self, path: str, params: dict[str, Any], etag: str | None, url: str | None = None,
        github: Github | None = None,
    ) -> tuple[int, dict[str, Any], Any]:
        """GET `path` with `params`, or the next-page `url` as GitHub gave it (its query holds the parameters)."""
        if url is not None:
            if not url.startswith(self._api_url + "/"):
                raise ValueError(f"not a URL of {self._api_url}: {url!r}")
            path, params = url, {}  # PyGithub sends its path and query to the configured host
        headers = {"If-None-Match": etag} if etag else {}
        if github is None:
            if self._github is None:
                raise ValueError("an App-only reader (no installation) cannot read repositories")
            github = self._github
        return self._request("GET", path, params, headers, github)

    def _request(
        self, verb: str, url: str, params: dict[str, Any], headers: dict[str, str], github: Github,
        creating: bool = False,
    ) -> tuple[int, dict[str, Any], Any]:
        """(status, lower-case headers, parsed JSON) of a 2xx or 304; anything else raised as a TrackerError."""
        with _translated(creating=creating):
            try:
                status, response_headers, body = github.requester.requestJson(
                    verb, url, parameters=params, headers=headers)
            except GithubException as exc:
                if exc.status == 304:  # not how PyGithub 2.x reports it (see the module doc), but harmless
                    return 304, {k.lower(): v for k, v in (exc.headers or {}).items()}, None
                raise
            if status == 304:
                return status, response_headers, None
            data = _json(body)
            if status >= 400:
                output = data if isinstance(data, dict) else {"message": str(body)[:300]}
                raise Requester.createException(status, response_headers, output)  # translated by _translated
        if data is _NOT_JSON:
            if verb != "GET":
                return status, response_headers, None  # a 2xx to a POST is its answer, whatever the body
            raise Transient(f"GitHub {status}: the answer is not JSON", status)  # a proxy's or portal's page
        return status, response_headers, data


_NOT_JSON = object()


def _json(body: str) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


def _repo_path(repo: str, number: int = 1) -> str:
    """/repos/{owner}/{repo}, refusing what is not a GitHub issue key (`owner/repo`, a positive issue number)."""
    return "/repos/" + quote(WorkItemKey.github(repo, number).repo, safe="/")


def _not_modified(headers: dict[str, Any], etag: str | None) -> Page:
    """A 304 carries the ETag again; the sent one stands in if it does not."""
    return Page((), headers.get("etag") or etag, True, None)


def _next_link(headers: dict[str, Any]) -> str | None:
    for link in requests.utils.parse_header_links(headers.get("link") or ""):
        if link.get("rel") == "next" and link.get("url"):
            return link["url"]
    return None


def _delivered_at(delivery: dict) -> datetime:
    stamp = datetime.fromisoformat(str(delivery["delivered_at"]).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
