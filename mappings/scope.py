"""Whose work counts: the scope set by OKRBOT_GITHUB_ALLOWED / OKRBOT_JIRA_ALLOWED_SITES, and the label rule.

Pure. `Scope` is told the settings' values (already normalised by integration.config) and answers
whether a delivery's `Origin`, or a work item's container, is inside. An unset side allows everything
of that tracker (the behaviour before the settings existed); a set side allows only what it names, and
an origin that names nothing is outside (fail closed).

GitHub owner and repository names are case-insensitive, so patterns and names are compared folded:
`acme` admits every repository of acme, `acme/web-*` the repositories the glob matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from core.events import Origin

from .keys import GITHUB, JIRA
from .sources import GithubIssue, GithubLabel, GithubMilestone, JiraEpic, JiraLabel, Source


@dataclass(frozen=True)
class Scope:
    github: tuple[str, ...] = ()  # owners or owner/repo globs, lower case; () = any
    jira_sites: tuple[str, ...] = ()  # site hosts (`host` or `host:port`), lower case; () = any

    @property
    def is_open(self) -> bool:
        return not self.github and not self.jira_sites

    def allows(self, origin: Origin | None, tracker: str) -> bool:
        """Whether a delivery from `origin` (of `tracker`) is applied."""
        if tracker == GITHUB:
            if not self.github:
                return True
            if origin is None:
                return False
            return self.allows_repo(origin.repo) if origin.repo else self.allows_owner(origin.owner)
        if tracker == JIRA:
            return not self.jira_sites or (origin is not None and self.allows_site(origin.site))
        return False

    def allows_repo(self, repo: str | None) -> bool:
        """A GitHub "owner/repo"."""
        if not self.github:
            return True
        if not repo or "/" not in repo:
            return False
        folded = repo.lower()
        owner = folded.split("/", 1)[0]
        return any(fnmatchcase(owner if "/" not in p else folded, p) for p in self.github)

    def allows_owner(self, owner: str | None) -> bool:
        """A GitHub account as a whole (an installation): a pattern naming any of its repositories counts."""
        if not self.github:
            return True
        return bool(owner) and any(fnmatchcase(owner.lower(), p.split("/", 1)[0]) for p in self.github)

    def allows_site(self, site: str | None) -> bool:
        return not self.jira_sites or (bool(site) and site.lower() in self.jira_sites)

    def allows_container(self, tracker: str, container: str) -> bool:
        """A work item's container: GitHub "owner/repo", Jira "<site host>/<PROJECT>"."""
        if tracker == GITHUB:
            return self.allows_repo(container)
        if tracker == JIRA:
            return self.allows_site(container.rsplit("/", 1)[0])
        return False

    def why_not(self, origin: Origin | None, tracker: str) -> str:
        """The reason `okrbot deliveries` shows for a delivery this scope does not allow."""
        if tracker == GITHUB:
            where = (origin.repo or origin.owner) if origin else None
            return f"out of scope: {where or 'no repository named'} is not in OKRBOT_GITHUB_ALLOWED"
        where = origin.site if origin else None
        return f"out of scope: {where or 'no site named'} is not in OKRBOT_JIRA_ALLOWED_SITES"


def label_may_attach(scope: Scope, tracker: str, container: str, home: Home | None) -> bool:
    """Whether an `okr:<id>` / `okr-<id>` label on an item in `container` attaches it to a key result.

    The item must be in scope; for a key result of okrs.yml (`home` given) also in the key result's own
    organisation (GitHub owner of its sources) or Jira project, or in what its `accept_labels_from` names.
    """
    if not scope.allows_container(tracker, container):
        return False
    return home is None or home.admits(tracker, container)


@dataclass(frozen=True)
class Home:
    """A file key result's own places: GitHub owners and Jira projects of its sources, and accept_labels_from."""

    owners: frozenset[str] = frozenset()  # lower case
    projects: frozenset[str] = frozenset()  # upper case
    accepted: tuple[str, ...] = ()  # as written in okrs.yml: owner, owner/repo (globs), PROJECT

    def admits(self, tracker: str, container: str) -> bool:
        if tracker == GITHUB:
            repo = container.lower()
            owner = repo.split("/", 1)[0]
            return owner in self.owners or any(
                fnmatchcase(repo if "/" in entry else owner, entry.lower()) for entry in self.accepted)
        project = container.rsplit("/", 1)[-1].upper()
        return project in self.projects or any(
            "/" not in entry and fnmatchcase(project, entry.upper()) for entry in self.accepted)


def home_of(sources: tuple[Source, ...], accepted: tuple[str, ...] = ()) -> Home:
    """A file key result's Home, from its sources (their owners and projects) and its accept_labels_from."""
    owners = {s.repo.split("/", 1)[0].lower() for s in sources if isinstance(s, GithubIssue | GithubMilestone
                                                                               | GithubLabel)}
    projects = {s.issue_key.rsplit("-", 1)[0].upper() for s in sources if isinstance(s, JiraEpic)}
    projects |= {s.project.upper() for s in sources if isinstance(s, JiraLabel)}
    return Home(frozenset(owners), frozenset(projects), accepted)
