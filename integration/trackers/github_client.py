"""okrbot's living comment on a GitHub issue, through PyGithub.

Requests per call: `find_comment` one GET per page of 100 comments (it stops at the page holding the
marker); `create_comment` one POST; `edit_comment` one PATCH; `add_reaction` one POST. The client is
lazy, so PyGithub builds the repository, issue and comment objects from their URLs instead of GETting
each first. With App auth, add one POST for the installation token on first use and about once an hour after.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import requests
from github import Auth, Github, GithubException
from github.Issue import Issue

from mappings.keys import WorkItemKey

from ..config import Settings
from .base import Anchor, CommentMissing, Gone, RateLimited, RemoteComment, TrackerError, Transient

DEFAULT_API_URL, TIMEOUT = Settings.github_api_url, Settings.tracker_timeout_seconds  # the settings' defaults
_DEFAULT_WAIT = 60.0  # GitHub: without a header saying how long, "wait for at least one minute"
_ERRORS = (GithubException, requests.RequestException)  # PyGithub lets requests' own errors through


class GithubClient:
    """CommentClient for GitHub.com and GitHub Enterprise Server (`api_url="https://<host>/api/v3"`)."""

    def __init__(self, github: Github, credential: str, installation: Auth.AppInstallationAuth | None = None):
        self._github = github
        self.credential = credential
        self._installation = installation
        # One call at a time: PyGithub's shared connection keeps the pending request's verb, URL and body
        # in attributes, so two threads could swap them (https://github.com/PyGithub/PyGithub/pull/2052).
        self._lock = threading.Lock()

    @classmethod
    def from_token(cls, token: str, api_url: str = DEFAULT_API_URL, timeout: float = TIMEOUT) -> GithubClient:
        """A personal access token (or any token), sent as `Authorization: token <token>`.

        https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
        """
        return cls(_github(Auth.Token(token), api_url, timeout), "github:token")

    @classmethod
    def from_app(
        cls, app_id: int | str, private_key_pem: str, installation_id: int,
        api_url: str = DEFAULT_API_URL, timeout: float = TIMEOUT,
    ) -> GithubClient:
        """Acts as one installation of a GitHub App.

        PyGithub gets the installation token with a JWT signed by the app's key, and gets a new one when
        the cached token is within 20 s of `expires_at` (tokens last one hour):
        https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
        """
        auth = Auth.AppAuth(app_id, private_key_pem).get_installation_auth(installation_id)
        return cls(_github(auth, api_url, timeout), f"github:installation:{installation_id}", auth)

    def find_comment(self, anchor: Anchor, marker: str) -> RemoteComment | None:
        """GET /repos/{owner}/{repo}/issues/{n}/comments?per_page=100, following `Link: rel="next"`.

        https://docs.github.com/en/rest/issues/comments#list-issue-comments
        """
        with self._lock:
            issue = self._issue(anchor)
            with _translated(creating=False):
                for comment in issue.get_comments():
                    if marker in (comment.body or ""):
                        return RemoteComment(str(comment.id), comment.body)
            return None

    def create_comment(self, anchor: Anchor, body: str) -> RemoteComment:
        """POST /repos/{owner}/{repo}/issues/{n}/comments {"body": ...}, sent once whatever happens.

        https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
        """
        with self._lock:
            issue = self._issue(anchor)
            with _translated(creating=True):
                comment = issue.create_comment(body)
            return RemoteComment(str(comment.id), comment.body)

    def edit_comment(self, anchor: Anchor, comment_id: str, body: str) -> RemoteComment:
        """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} {"body": ...}.

        https://docs.github.com/en/rest/issues/comments#update-an-issue-comment
        """
        with self._lock:
            comment = self._issue(anchor).get_comment(int(comment_id))  # lazy: no GET, only its URL
            with _translated(creating=False, editing=True):
                comment.edit(body)
            return RemoteComment(str(comment.id), comment.body)

    def add_reaction(self, anchor: Anchor, comment_id: str, content: str) -> str:
        """POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions {"content": ...}; the reaction's id.

        Idempotent on GitHub: a reaction the credential already made answers 200 with it, so a repeat is harmless.
        https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
        """
        with self._lock:
            comment = self._issue(anchor).get_comment(int(comment_id))  # lazy: no GET, only its URL
            with _translated(creating=False):
                reaction = comment.create_reaction(content)
            return str(reaction.id)

    def _issue(self, anchor: Anchor) -> Issue:
        """The anchor's issue, lazy (no request); fetches the installation token first if it is due."""
        key = WorkItemKey.parse(anchor.key)
        repo, number = key.repo, key.number
        if self._installation is not None and anchor.installation_id not in (None, self._installation.installation_id):
            raise ValueError(f"{anchor.key} is covered by installation {anchor.installation_id}, not this client's")
        self._authenticate()
        return self._github.get_repo(repo).get_issue(number)

    def _authenticate(self) -> None:
        """POST /app/installations/{id}/access_tokens when the cached token is missing or about to expire.

        Done before the call, so that an uninstalled app (404 here) reads as Gone, not as CommentMissing.
        https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
        """
        if self._installation is not None:
            with _translated(creating=False):
                _ = self._installation.token  # the property fetches a token when PyGithub deems it due


def _github(auth: Auth.Auth, api_url: str, timeout: float) -> Github:
    return Github(
        auth=auth,
        base_url=api_url.rstrip("/"),
        timeout=math.ceil(timeout),  # PyGithub asserts an int
        per_page=100,
        retry=None,  # the default GithubRetry re-sends POSTs after a 5xx: a duplicate comment
        seconds_between_requests=None,  # pacing is the outbox's job (a write budget per credential)
        seconds_between_writes=None,
        lazy=True,
        user_agent="okrbot",
    )


@contextmanager
def _translated(creating: bool, editing: bool = False) -> Iterator[None]:
    try:
        yield
    except _ERRORS as exc:
        raise _translate(exc, creating, editing) from exc


def _translate(exc: Exception, creating: bool, editing: bool = False) -> TrackerError:
    """The TrackerError for a failed call. `creating`: a lost answer may hide a comment that was made."""
    if not isinstance(exc, GithubException):
        return Transient(f"GitHub unreachable: {type(exc).__name__}: {exc}", uncertain=creating)
    status = exc.status
    message = f"GitHub {status}: {_message(exc.data)}"
    wait = _rate_limit_wait(status, {k.lower(): v for k, v in (exc.headers or {}).items()}, message)
    if wait is not None:
        return RateLimited(message, wait, status)
    if status >= 500:
        return Transient(message, status, uncertain=creating)
    if status == 404 and editing:
        return CommentMissing(message, status)
    # 401, 403, 404, 410 (issue deleted), 422 (locked, or a body GitHub refuses): retrying cannot help.
    return Gone(message, status)


def _rate_limit_wait(status: int, headers: Mapping[str, str], message: str) -> float | None:
    """Seconds GitHub asks to wait, or None when this is not a rate limit.

    Only 403 and 429: a 5xx stays Transient whatever its headers, so an uncertain create is looked for.
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
    """
    if status not in (403, 429):
        return None
    retry_after = _number(headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 1.0)
    if _number(headers.get("x-ratelimit-remaining")) == 0:
        reset = _number(headers.get("x-ratelimit-reset"))  # epoch seconds
        return max(reset - time.time(), 1.0) if reset is not None else _DEFAULT_WAIT
    if status == 429 or "rate limit" in message.lower():
        return _DEFAULT_WAIT
    return None


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _message(data: object) -> str:
    if isinstance(data, dict):
        return str(data.get("message") or "")[:300]
    return str(data or "")[:300]
