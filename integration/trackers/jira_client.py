"""okrbot's living comment on a Jira issue (an epic), through the jira library, REST API v2.

v2 takes and returns wiki markup on Cloud and on Server/Data Center alike (v3 is Cloud-only ADF).
Requests per call: `find_comment` one GET per page (up to 100 comments; the server may send fewer),
stopping at the page holding the marker; `create_comment` one POST; `edit_comment` one PUT.
Constructing a client sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from jira import JIRA, JIRAError
from jira.utils import json_loads

from mappings.keys import WorkItemKey

from ..config import Settings
from .base import Anchor, CommentMissing, Gone, RateLimited, RemoteComment, TrackerError, Transient

PAGE = 100
_DEFAULT_WAIT = 60.0  # seconds, when a 429 comes without Retry-After
# ValueError: a 2xx whose body is not JSON (a proxy's or login page); the library lets it through.
_ERRORS = (JIRAError, requests.RequestException, ValueError)

TIMEOUT = Settings.tracker_timeout_seconds  # the settings' default


class JiraClient:
    """CommentClient for one Jira site; anchors are `jira:<host>/<ISSUE-KEY>`."""

    def __init__(self, jira: JIRA, host: str):
        self._jira = jira
        self._host = host
        self.credential = f"jira:{host}"

    @classmethod
    def cloud(cls, url: str, email: str, api_token: str, timeout: float = TIMEOUT) -> JiraClient:
        """Jira Cloud: basic auth with an Atlassian account's email and API token.

        https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
        """
        return cls._connect(url, timeout, basic_auth=(email, api_token))

    @classmethod
    def server(cls, url: str, pat: str, timeout: float = TIMEOUT) -> JiraClient:
        """Jira Server / Data Center: a personal access token, sent as `Authorization: Bearer <pat>`.

        https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
        """
        return cls._connect(url, timeout, token_auth=pat)

    @classmethod
    def _connect(cls, url: str, timeout: float, **auth: object) -> JiraClient:
        jira = JIRA(
            url.rstrip("/"),
            options={"rest_api_version": "2"},
            timeout=timeout,  # the library's default is none: a hung server would hang the worker
            max_retries=0,  # its ResilientSession re-sends POSTs after a 429/503 or a dropped connection
            get_server_info=False,  # no GET /serverInfo at construction
            **auth,
        )
        return cls(jira, site_host(url))

    def find_comment(self, anchor: Anchor, marker: str) -> RemoteComment | None:
        """The first comment whose body holds `marker`, reading pages until `total` is reached."""
        key, start = self._issue_key(anchor), 0
        while True:
            page = self._comment_page(key, start)
            comments = page.get("comments") or []
            for raw in comments:
                if marker in (raw.get("body") or ""):
                    return RemoteComment(str(raw["id"]), raw["body"])
            start += len(comments)
            if not comments or start >= page.get("total", 0):
                return None

    def _comment_page(self, key: str, start: int) -> dict:
        """GET /rest/api/2/issue/{key}/comment?startAt=&maxResults=100.

        Not `JIRA.comments()`: it drops `total`, and the server may cap maxResults below what was asked,
        so a short page does not mean the last one.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-get
        """
        with _translated(creating=False):
            return self._jira._get_json(f"issue/{key}/comment", params={"startAt": start, "maxResults": PAGE})

    def create_comment(self, anchor: Anchor, body: str) -> RemoteComment:
        """POST /rest/api/2/issue/{key}/comment {"body": ...}, sent once whatever happens.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post
        """
        key = self._issue_key(anchor)
        with _translated(creating=True):
            comment = self._jira.add_comment(key, body)
        return RemoteComment(str(comment.id), comment.body)

    def edit_comment(self, anchor: Anchor, comment_id: str, body: str) -> RemoteComment:
        """PUT /rest/api/2/issue/{key}/comment/{id} {"body": ...}, through the library's session.

        Not `Comment.update()`: it needs the comment fetched first and GETs it again after the PUT.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-id-put
        """
        if not comment_id.isdigit():
            raise ValueError(f"not a Jira comment id: {comment_id!r}")
        url = self._jira._get_url(f"issue/{self._issue_key(anchor)}/comment/{comment_id}")
        with _translated(creating=False, editing=True):
            raw = json_loads(self._jira._session.put(url, data=json.dumps({"body": body})))
        return RemoteComment(str(raw["id"]), raw["body"])

    def _issue_key(self, anchor: Anchor) -> str:
        """`jira:<host>/<KEY>` → KEY, for this client's site only."""
        try:
            key = WorkItemKey.parse(anchor.key)
        except ValueError:
            key = None
        if key is None or key.site != self._host:
            raise ValueError(f"not an issue anchor of {self._host}: {anchor.key!r}")
        return key.issue_key


def site_host(url: str) -> str:
    """The host part of anchors and credentials: lower-case, with the port only when it is not the default."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a Jira site URL: {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port is not None and parts.port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{parts.port}"
    return host


@contextmanager
def _translated(creating: bool, editing: bool = False) -> Iterator[None]:
    try:
        yield
    except _ERRORS as exc:
        # from None: str(JIRAError) dumps the response headers (a Server's JSESSIONID cookie) and body.
        raise _translate(exc, creating, editing) from None


def _translate(exc: Exception, creating: bool, editing: bool = False) -> TrackerError:
    """The TrackerError for a failed call. `creating`: a lost answer may hide a comment that was made."""
    detail = (exc.text or "") if isinstance(exc, JIRAError) else str(exc)  # never str(JIRAError)
    if not isinstance(exc, JIRAError) or exc.status_code is None:
        return Transient(f"Jira unreachable: {type(exc).__name__}: {detail[:300]}", uncertain=creating)
    status = exc.status_code
    message = f"Jira {status}: {detail[:300]}"  # JIRAError.text is parsed from the response body
    headers = exc.response.headers if exc.response is not None else {}
    if status == 429:
        # https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
        return RateLimited(message, _retry_after(headers), status)
    if status >= 500:
        return Transient(message, status, uncertain=creating)
    if status == 404 and editing:
        return CommentMissing(message, status)
    # 401, 403 (also a CAPTCHA demanded after failed logins), 404 (missing, or not visible to us), 400.
    return Gone(message, status)


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(float(headers.get("Retry-After", "")), 1.0)
    except ValueError:
        return _DEFAULT_WAIT
