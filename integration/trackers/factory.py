"""Which client writes to an anchor: a GitHub token or App installation, a Jira Cloud or Server account.

Clients are made once per credential and kept (a GitHub App installation client keeps its token and
refreshes it before it expires).
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from mappings.keys import GITHUB, WorkItemKey

from ..config import Settings
from .base import Anchor, CommentClient
from .jira_client import site_host
from .models import GithubInstallation


def installation_of(session: Session, repo: str) -> int | None:
    """The App installation that covers `owner/repo`, as its deliveries said."""
    row = session.get(GithubInstallation, repo.lower())
    return row.installation_id if row else None


class _PerCredential:
    """Makes one object per credential from the configured settings and keeps it.

    Writers and readers are built the same way (`from_token` / `from_app`, `cloud` / `server`), so
    the choice of credential lives here once, for both.
    """

    def __init__(self, settings: Settings, github_class, jira_class):
        self.settings = settings
        self.timeout = settings.tracker_timeout_seconds
        self._github_class, self._jira_class = github_class, jira_class
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def _cached(self, key: str, make):
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]

    def github(self, installation_id: int | None):
        """As the App's installation when an App is configured, else with the token; None without either."""
        s, cls = self.settings, self._github_class()
        if s.github_app_id and s.github_private_key:
            if installation_id is None:
                return None
            return self._cached(f"github:installation:{installation_id}", lambda: cls.from_app(
                s.github_app_id, s.github_private_key, installation_id, api_url=s.github_api_url,
                timeout=self.timeout))
        if s.github_token:
            return self._cached("github:token", lambda: cls.from_token(s.github_token, api_url=s.github_api_url,
                                                                      timeout=self.timeout))
        return None

    def jira(self, host: str | None = None):
        """The account on OKRBOT_JIRA_URL (None for another site, or without credentials)."""
        s = self.settings
        if not s.jira_url or not (s.jira_pat or s.jira_api_token):
            return None
        if host is not None and site_host(s.jira_url) != host.lower():
            return None
        cls = self._jira_class()
        if s.jira_pat:
            return self._cached("jira", lambda: cls.server(s.jira_url, s.jira_pat, timeout=self.timeout))
        return self._cached("jira", lambda: cls.cloud(s.jira_url, s.jira_email, s.jira_api_token,
                                                      timeout=self.timeout))


def _github_client():
    from .github_client import GithubClient

    return GithubClient


def _jira_client():
    from .jira_client import JiraClient

    return JiraClient


def _github_reader():
    from .github_reader import GithubReader

    return GithubReader


def _jira_reader():
    from .jira_reader import JiraReader

    return JiraReader


class Clients(_PerCredential):
    """The writing clients (comments, summaries, reminders)."""

    def __init__(self, settings: Settings):
        super().__init__(settings, _github_client, _jira_client)

    def installation_for(self, session: Session, anchor_key: str) -> int | None:
        key = WorkItemKey.parse(anchor_key)
        if key.tracker != GITHUB or not self.settings.github_app_id:
            return None
        return installation_of(session, key.repo)

    def missing_reason(self, tracker: str) -> str:
        if tracker == "github":
            if self.settings.github_app_id:
                return "no GitHub App installation is known for this repository (no delivery from it yet)"
            return "no GitHub credentials: set OKRBOT_GITHUB_TOKEN or OKRBOT_GITHUB_APP_ID and its private key"
        if self.settings.jira_url:
            return "the anchor's Jira site is not OKRBOT_JIRA_URL"
        return ("no Jira credentials: set OKRBOT_JIRA_URL with OKRBOT_JIRA_EMAIL + OKRBOT_JIRA_API_TOKEN, "
                "or OKRBOT_JIRA_PAT")

    def for_anchor(self, anchor: Anchor) -> CommentClient | None:
        key = WorkItemKey.parse(anchor.key)
        if key.tracker == GITHUB:
            return self.github(anchor.installation_id)
        return self.jira(key.site)


class Readers(_PerCredential):
    """The readers for reconcile: the same credentials as the writers."""

    def __init__(self, settings: Settings):
        super().__init__(settings, _github_reader, _jira_reader)

    def github_for(self, rt, repo: str):
        installation = None
        if self.settings.github_app_id:
            with rt.sessions() as session:
                installation = installation_of(session, repo)
        return self.github(installation)

    def github_app(self):
        """The App itself (JWT), for its deliveries API; None without an App."""
        s = self.settings
        if not (s.github_app_id and s.github_private_key):
            return None
        return self._cached("github:app", lambda: self._github_class().from_app(
            s.github_app_id, s.github_private_key, None, api_url=s.github_api_url, timeout=self.timeout))

    def jira_for(self, rt):
        return self.jira()
