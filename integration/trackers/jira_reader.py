"""Reading a key result's Jira work for reconcile: a JQL search, every page, REST API v2.

Cheap when nothing changed: the caller adds `updated_since(last sync - margin)` to its JQL, so an
unchanged epic costs one request that returns no issue.

Which endpoint: Jira Server / Data Center `GET /rest/api/2/search` (startAt/maxResults/total paging);
Jira Cloud `GET /rest/api/2/search/jql`, the enhanced search (nextPageToken paging, no total). Cloud
removed `/rest/api/{2,3}/search` in 2025 (410 Gone, CHANGE-2046), and v2 of the enhanced search is used
because, like webhook bodies, it keeps wiki-markup strings where v3 sends ADF documents.

Through the jira library's session and `_get_json` (the same call `search_issues(json_result=True)` and
`enhanced_search_issues(json_result=True)` end in), not `search_issues` itself: built with
`get_server_info=False`, the library does not know a site is Cloud and would send Cloud to the removed
endpoint; and with a `fields` list it first GETs /rest/api/2/field to translate JQL names (one more
request, one more way to fail). With `json_result=True` it reads one page anyway, so the paging is here.

Requests per call: one GET per page of up to 100 issues (the server may send fewer: paging goes by what
came back, not by what was asked); a JQL longer than `_POST_ABOVE` characters is sent as a POST with the
same parameters in a JSON body, so the URL stays short. Constructing a reader sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira import JIRA

from .base import Transient
from .jira_client import PAGE, TIMEOUT, JiraClient, _translated

# What okrbot's webhook parser reads; `fields` passed to `search` are asked for besides.
DEFAULT_FIELDS = ("summary", "status", "resolution", "assignee", "parent", "labels", "issuetype", "updated",
                  "project")
_POST_ABOVE = 1500  # characters of JQL: well below the 8 KB URL limit of common proxies once encoded
_MAX_PAGES = 1000  # 100,000 issues: a guard against a server that keeps handing out page tokens


class JiraReader:
    """Searches one Jira site; the credential is the same as its JiraClient's (one account, one budget)."""

    def __init__(self, jira: JIRA, host: str, cloud: bool):
        self._jira = jira
        self._cloud = cloud
        self.credential = f"jira:{host}"

    @classmethod
    def cloud(cls, url: str, email: str, api_token: str, timeout: float = TIMEOUT) -> JiraReader:
        """Jira Cloud: basic auth with an Atlassian account's email and API token (JiraClient.cloud's set-up)."""
        client = JiraClient.cloud(url, email, api_token, timeout=timeout)
        return cls(client._jira, client.credential.removeprefix("jira:"), cloud=True)

    @classmethod
    def server(cls, url: str, pat: str, timeout: float = TIMEOUT) -> JiraReader:
        """Jira Server / Data Center: a personal access token as `Authorization: Bearer` (JiraClient.server's)."""
        client = JiraClient.server(url, pat, timeout=timeout)
        return cls(client._jira, client.credential.removeprefix("jira:"), cloud=False)

    def search(self, jql: str, fields: tuple[str, ...] | None = None) -> tuple[list[dict], int]:
        """(every issue matching `jql`, requests made), reading all pages.

        Issues are the raw JSON objects (`id`, `key`, `self`, `fields`, ...), the representation webhook
        bodies carry as `issue`, with DEFAULT_FIELDS and `fields` (custom fields: epic link, story points).
        An issue updated while the pages are read can move between them: it is returned once (its latest
        copy, in the place it was first seen), and an issue it pushed onto an already read page is caught
        by the next sync's `updated >=` window, which covers the time of this read.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/#api-rest-api-2-search-jql-get
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/search-search
        """
        if not jql.strip():
            raise ValueError("an empty JQL would read the whole site")
        wanted = list(dict.fromkeys(DEFAULT_FIELDS + tuple(fields or ())))
        found: dict[str, dict] = {}
        calls = 0
        read = self._cloud_pages if self._cloud else self._server_pages
        for issues in read(jql, wanted):
            calls += 1
            for issue in issues:
                found[str(issue.get("id") or issue.get("key"))] = issue
        return list(found.values()), calls

    def time_zone(self) -> tzinfo:
        """The account's time zone, in which JQL reads date literals: `timeZone` of GET /rest/api/2/myself.

        One request; worth keeping for the reader's life (a profile's zone rarely changes).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-myself/#api-rest-api-2-myself-get
        """
        with _translated(creating=False):
            me = self._jira._get_json("myself")
        name = me.get("timeZone") if isinstance(me, dict) else None
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Jira gave no usable time zone for this account: {name!r}") from None

    def fields(self) -> list[dict]:
        """Every field of the site, system and custom (`id`, `name`, `custom`, `schema`, ...): GET /rest/api/2/field.

        One request, not paged; what finds a custom field's per-site id from its name (story points).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-fields/#api-rest-api-2-field-get
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/field-getFields
        """
        with _translated(creating=False):
            found = self._jira._get_json("field")
        if not isinstance(found, list):
            raise Transient(f"Jira fields answered {type(found).__name__}, not a list")
        return [field for field in found if isinstance(field, dict)]

    def _server_pages(self, jql: str, fields: list[str]):
        """GET /rest/api/2/search?jql=&startAt=&maxResults=100&fields=, until `total` is reached."""
        start = 0
        for _ in range(_MAX_PAGES):
            page = self._get("search", {"jql": jql, "startAt": start, "maxResults": PAGE}, fields)
            issues = page.get("issues") or []
            yield issues
            start += len(issues)
            if not issues or start >= int(page.get("total") or 0):
                return
        raise Transient(f"Jira search still had pages after {_MAX_PAGES}: {jql[:100]}")

    def _cloud_pages(self, jql: str, fields: list[str]):
        """GET /rest/api/2/search/jql?jql=&maxResults=100&fields=[&nextPageToken=], until no token comes back."""
        token: str | None = None
        for _ in range(_MAX_PAGES):
            params: dict[str, Any] = {"jql": jql, "maxResults": PAGE}
            if token:
                params["nextPageToken"] = token
            page = self._get("search/jql", params, fields)
            issues = page.get("issues") or []
            yield issues
            previous, token = token, page.get("nextPageToken")
            if page.get("isLast") or not token or not issues or token == previous:
                return
        raise Transient(f"Jira search still had pages after {_MAX_PAGES}: {jql[:100]}")

    def _get(self, path: str, params: dict[str, Any], fields: list[str]) -> dict:
        """One page. GET takes `fields` comma-separated; the POST body takes it as a list."""
        use_post = len(params["jql"]) > _POST_ABOVE
        params = {**params, "fields": fields if use_post else ",".join(fields)}
        with _translated(creating=False):
            page = self._jira._get_json(path, params=params, use_post=use_post)
        if not isinstance(page, dict):
            raise Transient(f"Jira search answered {type(page).__name__}, not an object")
        return page


def jql_quote(value: str) -> str:
    """`value` as a JQL string literal: in double quotes, with backslash, quote and control characters escaped.

    https://support.atlassian.com/jira-software-cloud/docs/use-advanced-search-with-jira-query-language-jql/
    """
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def updated_since(dt: datetime, tz: tzinfo = UTC) -> str:
    """`updated >= "yyyy-MM-dd HH:mm"`: `dt` written in `tz` (default UTC), seconds dropped (rounded down).

    JQL reads the literal in the searching account's time zone (its profile setting), at minute
    precision. Written in UTC, it is exact only when okrbot's Jira account is set to UTC (or to a zone
    east of it, where it reads further back: more issues, none missed); pass the account's zone (the
    `JiraReader.time_zone()`) otherwise. No margin is
    taken here: the caller subtracts one from its last sync time (index lag, clock skew between okrbot
    and Jira), as reconcile does with JIRA_MARGIN. A naive `dt` is taken as UTC.
    """
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return f'updated >= "{aware.astimezone(tz):%Y-%m-%d %H:%M}"'
