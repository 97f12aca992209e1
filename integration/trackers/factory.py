"""Which client writes to an anchor: a GitHub token or App installation, a Jira Cloud or Server account.

Clients are made once per credential and kept (a GitHub App installation client keeps its token and
refreshes it before it expires).
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from mappings.models import GithubInstallation

from ..config import Settings
from .base import Anchor, CommentClient
from .jira_client import site_host


def _repo_of(anchor_key: str) -> str:
    return anchor_key.partition(":")[2].partition("#")[0].lower()


class Clients:
    def __init__(self, settings: Settings, timeout: float = 10.0):
        self.settings = settings
        self.timeout = timeout
        self._made: dict[str, CommentClient] = {}
        self._lock = threading.Lock()

    def installation_for(self, session: Session, anchor_key: str) -> int | None:
        if not anchor_key.startswith("github:") or not self.settings.github_app_id:
            return None
        row = session.get(GithubInstallation, _repo_of(anchor_key))
        return row.installation_id if row else None

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
        key = self._credential_key(anchor)
        if key is None:
            return None
        with self._lock:
            if key not in self._made:
                self._made[key] = self._make(anchor)
            return self._made[key]

    def _credential_key(self, anchor: Anchor) -> str | None:
        s = self.settings
        if anchor.key.startswith("github:"):
            if s.github_app_id and s.github_private_key:
                return f"github:installation:{anchor.installation_id}" if anchor.installation_id else None
            return "github:token" if s.github_token else None
        host = anchor.key.partition(":")[2].split("/", 1)[0]
        if s.jira_url and site_host(s.jira_url) == host.lower() and (s.jira_api_token or s.jira_pat):
            return f"jira:{host}"
        return None

    def _make(self, anchor: Anchor) -> CommentClient:
        s = self.settings
        if anchor.key.startswith("github:"):
            from .github_client import GithubClient

            if s.github_app_id:
                return GithubClient.from_app(s.github_app_id, s.github_private_key, anchor.installation_id,
                                             api_url=s.github_api_url, timeout=self.timeout)
            return GithubClient.from_token(s.github_token, api_url=s.github_api_url, timeout=self.timeout)
        from .jira_client import JiraClient

        if s.jira_pat:
            return JiraClient.server(s.jira_url, s.jira_pat, timeout=self.timeout)
        return JiraClient.cloud(s.jira_url, s.jira_email, s.jira_api_token, timeout=self.timeout)


class Readers:
    """Readers for reconcile, one per credential, like the writing clients."""

    def __init__(self, settings: Settings, timeout: float = 10.0):
        self.settings = settings
        self.timeout = timeout
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def _cached(self, key: str, make):
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]

    def github_for(self, rt, repo: str):
        from .github_reader import GithubReader

        s = self.settings
        if s.github_app_id and s.github_private_key:
            with rt.sessions() as session:
                row = session.get(GithubInstallation, repo.lower())
            if row is None:
                return None
            return self._cached(f"github:installation:{row.installation_id}", lambda: GithubReader.from_app(
                s.github_app_id, s.github_private_key, row.installation_id, api_url=s.github_api_url,
                timeout=self.timeout))
        if s.github_token:
            return self._cached("github:token", lambda: GithubReader.from_token(
                s.github_token, api_url=s.github_api_url, timeout=self.timeout))
        return None

    def github_app(self):
        """The App itself (JWT), for its deliveries API; None without an App."""
        from .github_reader import GithubReader

        s = self.settings
        if not (s.github_app_id and s.github_private_key):
            return None
        return self._cached("github:app", lambda: GithubReader.from_app(
            s.github_app_id, s.github_private_key, None, api_url=s.github_api_url, timeout=self.timeout))

    def jira_for(self, rt):
        from .jira_reader import JiraReader

        s = self.settings
        if not s.jira_url or not (s.jira_pat or s.jira_api_token):
            return None
        if s.jira_pat:
            return self._cached("jira:pat", lambda: JiraReader.server(s.jira_url, s.jira_pat, timeout=self.timeout))
        return self._cached("jira:cloud", lambda: JiraReader.cloud(s.jira_url, s.jira_email, s.jira_api_token,
                                                                   timeout=self.timeout))
