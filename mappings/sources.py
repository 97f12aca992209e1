"""Where a key result's work comes from: one class per kind of source, each with all of its behaviour.

A source is an anchor (a GitHub issue with its sub-issues, a Jira epic with its children) or a query
(a GitHub milestone, a label in a repository or project). Each kind says how it is described, which
item stands for the key result (`anchor`), what a work item must show to count toward it (`matches`,
for events, and `counted`, the same rule in SQL for stored items), and `address`, what reconcile lists
its items by (how it lists them is integration/reconcile.py's, the room that talks to the trackers).
okrs.yml is read into these (mappings.okrs_sources); a convention key result's anchor is one too
(`anchor_source`). A new kind is one class here, its entry in KINDS, and its listing in reconcile.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import ColumnElement, func

from .keys import GITHUB, JIRA, WorkItemKey, key_is
from .models import WorkItem

MatchKey = tuple[str, ...]  # what a source is found by in the mapping index (see `matches`)


@dataclass(frozen=True)
class ItemFacts:
    """What a work item shows that query sources match on."""

    tracker: str
    container: str  # GitHub "owner/repo", Jira "<site host>/<PROJECT>"
    milestone: str | None  # GitHub "owner/repo/<number>"
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Source(ABC):
    """One source of a key result; `line` is where okrs.yml names it (0: not from the file)."""

    kind: ClassVar[str]  # the key in okrs.yml
    tracker: ClassVar[str]
    via: ClassVar[str] = "parent"  # why a work item counts toward the key result, as its history says
    line: int = field(default=0, kw_only=True)

    @abstractmethod
    def describe(self) -> str:
        """What `okrbot check` says it is."""

    @property
    def anchor(self) -> WorkItemKey | None:
        """The item standing for the key result; a query has none."""
        return None

    @property
    @abstractmethod
    def address(self) -> str:
        """Where reconcile reads it, as it records it: "github:acme/web#12", "acme/web/3", "PROJ:growth"."""

    @abstractmethod
    def match_key(self) -> MatchKey:
        """What the mapping index files this source under; `matches` gives the same for a work item."""

    @staticmethod
    def matches(item: ItemFacts) -> list[MatchKey]:
        """The match keys a work item shows for this kind (anchors match by parent: see MappingIndex)."""
        return []

    def counted(self) -> ColumnElement[bool]:
        """SQL: the stored work items that count toward a key result through this source."""
        return key_is(WorkItem.parent_key, self.anchor)

    def identity(self) -> tuple:
        """What makes two sources the same work: repository and label names ignore case, as trackers do."""
        return (self.kind, self.match_key())


@dataclass(frozen=True)
class GithubIssue(Source):
    kind: ClassVar[str] = "github_issue"
    tracker: ClassVar[str] = GITHUB
    repo: str
    number: int

    def describe(self) -> str:
        return f"GitHub issue {self.repo}#{self.number} and its sub-issues"

    @property
    def anchor(self) -> WorkItemKey:
        return WorkItemKey.github(self.repo, self.number)

    @property
    def address(self) -> str:
        return str(self.anchor)

    def match_key(self) -> MatchKey:
        return ("anchor", self.anchor.folded)


@dataclass(frozen=True)
class JiraEpic(Source):
    kind: ClassVar[str] = "jira_epic"
    tracker: ClassVar[str] = JIRA
    issue_key: str

    def describe(self) -> str:
        return f"Jira epic {self.issue_key} and its children"

    @property
    def anchor(self) -> WorkItemKey:
        return WorkItemKey.jira(None, self.issue_key)  # the file does not know the Jira site host

    @property
    def address(self) -> str:
        return self.issue_key

    def match_key(self) -> MatchKey:
        return ("anchor", self.anchor.folded)


@dataclass(frozen=True)
class GithubMilestone(Source):
    kind: ClassVar[str] = "github_milestone"
    tracker: ClassVar[str] = GITHUB
    via: ClassVar[str] = "milestone"
    repo: str
    number: int

    def describe(self) -> str:
        return f"GitHub milestone {self.repo}/{self.number}"

    @property
    def address(self) -> str:
        return f"{self.repo}/{self.number}"

    def match_key(self) -> MatchKey:
        return (self.kind, self.address.lower())

    @staticmethod
    def matches(item: ItemFacts) -> list[MatchKey]:
        return [(GithubMilestone.kind, item.milestone.lower())] if item.milestone else []

    def counted(self) -> ColumnElement[bool]:
        return func.lower(WorkItem.milestone) == self.address.lower()


@dataclass(frozen=True)
class GithubLabel(Source):
    kind: ClassVar[str] = "github_label"
    tracker: ClassVar[str] = GITHUB
    via: ClassVar[str] = "label source"
    repo: str
    label: str

    def describe(self) -> str:
        return f"GitHub issues labelled '{self.label}' in {self.repo}"

    @property
    def address(self) -> str:
        return f"{self.repo}:{self.label}"

    def match_key(self) -> MatchKey:
        return (self.kind, self.repo.lower(), self.label.lower())

    @staticmethod
    def matches(item: ItemFacts) -> list[MatchKey]:
        if item.tracker != GITHUB:
            return []
        return [(GithubLabel.kind, item.container.lower(), label.lower()) for label in item.labels]

    def counted(self) -> ColumnElement[bool]:
        # the label itself is checked by memberships: JSON lists cannot be searched the same way everywhere
        return (WorkItem.tracker == GITHUB) & (func.lower(WorkItem.container) == self.repo.lower())


@dataclass(frozen=True)
class JiraLabel(Source):
    kind: ClassVar[str] = "jira_label"
    tracker: ClassVar[str] = JIRA
    via: ClassVar[str] = "label source"
    project: str
    label: str

    def describe(self) -> str:
        return f"Jira issues labelled '{self.label}' in project {self.project}"

    @property
    def address(self) -> str:
        return f"{self.project}:{self.label}"

    def match_key(self) -> MatchKey:
        return (self.kind, self.project.upper(), self.label.lower())

    @staticmethod
    def matches(item: ItemFacts) -> list[MatchKey]:
        if item.tracker != JIRA:
            return []
        project = item.container.rsplit("/", 1)[-1].upper()
        return [(JiraLabel.kind, project, label.lower()) for label in item.labels]

    def counted(self) -> ColumnElement[bool]:
        return (WorkItem.tracker == JIRA) & WorkItem.container.like(f"%/{self.project}")


KINDS: dict[str, type[Source]] = {kind.kind: kind for kind in (GithubIssue, GithubMilestone, GithubLabel,
                                                               JiraEpic, JiraLabel)}
QUERY_KINDS = tuple(kind for kind in KINDS.values() if kind.via != "parent")


def anchor_source(key: WorkItemKey) -> Source:
    """A convention key result's anchor as a source: its sub-issues or its children are its work."""
    return GithubIssue(key.repo, key.number) if key.tracker == GITHUB else JiraEpic(key.issue_key)
