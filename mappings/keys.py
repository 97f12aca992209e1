"""Work-item keys: one value type that parses, formats and compares them.

The key of a work item is `github:<owner>/<repo>#<number>` or `jira:<site host>/<ISSUE-KEY>` (README,
"Keys of work items"). GitHub owner and repository names are case-insensitive
(https://docs.github.com/en/repositories/creating-and-managing-repositories/about-repositories), so two
keys that differ only in the case of owner/repo are one item: they compare equal, and the spelling as
written stays for display and API paths. Jira issue keys are upper case, site hosts lower case.

Stored keys keep the tracker's own spelling (what its webhooks and API say); a key written by a person
(okrs.yml) is matched against them through `folded`, the form both sides are compared in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func

GITHUB, JIRA = "github", "jira"
ANY_SITE = "*"  # okrs.yml names a Jira issue without its site: the first site that sends it is taken

_REPO = r"[^/#\s]+/[^/#\s]+"
_ISSUE_KEY = r"[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*"
_REPO_RE, _ISSUE_KEY_RE = re.compile(_REPO), re.compile(_ISSUE_KEY)
_GITHUB_RE = re.compile(rf"github:(?P<repo>{_REPO})#(?P<number>[1-9][0-9]*)")
_JIRA_RE = re.compile(rf"jira:(?P<site>[^/\s]+)/(?P<issue>{_ISSUE_KEY})")


@dataclass(frozen=True, eq=False)
class WorkItemKey:
    """One work item's key. Equal keys name the same item, whatever the case of a GitHub owner/repo."""

    tracker: str  # GITHUB | JIRA
    place: str  # GitHub "owner/repo" as written; Jira site host, or ANY_SITE
    number: int | None = None  # GitHub issue number
    issue_key: str | None = None  # Jira issue key, upper case

    @classmethod
    def github(cls, repo: str, number: int) -> WorkItemKey:
        """Issue `number` of "owner/repo"; ValueError if either is not one."""
        if not _REPO_RE.fullmatch(repo) or isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"not a GitHub issue: {repo!r} #{number!r}")
        return cls(GITHUB, repo, number=number)

    @classmethod
    def jira(cls, site: str | None, issue_key: str) -> WorkItemKey:
        """Issue `issue_key` (any case) on `site` (None: any site); ValueError if it is not an issue key."""
        if not _ISSUE_KEY_RE.fullmatch(issue_key):
            raise ValueError(f"not a Jira issue key: {issue_key!r}")
        return cls(JIRA, (site or ANY_SITE).lower(), issue_key=issue_key.upper())

    @classmethod
    def parse(cls, text: str) -> WorkItemKey:
        """`github:acme/web#12` or `jira:host/PROJ-7` (`jira:*/PROJ-7`: any site); ValueError if neither."""
        # The patterns check all that github() and jira() do: stored keys are parsed on every event
        if match := _GITHUB_RE.fullmatch(text):
            return cls(GITHUB, match["repo"], number=int(match["number"]))
        if match := _JIRA_RE.fullmatch(text):
            return cls(JIRA, match["site"].lower(), issue_key=match["issue"].upper())
        raise ValueError(f"not a work-item key: {text!r}")

    def __str__(self) -> str:
        if self.tracker == GITHUB:
            return f"github:{self.place}#{self.number}"
        return f"jira:{self.place}/{self.issue_key}"

    @property
    def folded(self) -> str:
        """The key as compared: SQL compares `lower(column)` with it, Python compares keys by it."""
        return str(self).lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkItemKey) and self.folded == other.folded

    def __hash__(self) -> int:
        return hash(self.folded)

    @property
    def repo(self) -> str:
        """GitHub "owner/repo" as written (ValueError on a Jira key)."""
        if self.tracker != GITHUB:
            raise ValueError(f"{self} is not a GitHub issue")
        return self.place

    @property
    def site(self) -> str | None:
        """The Jira site host; None when okrs.yml did not say it (and on a GitHub key)."""
        return self.place if self.tracker == JIRA and self.place != ANY_SITE else None

    @property
    def container(self) -> str:
        """The repository (GitHub "owner/repo") or project (Jira "<host>/<PROJECT>") the item lives in, folded."""
        if self.tracker == GITHUB:
            return self.place.lower()
        return f"{self.place}/{self.issue_key.rsplit('-', 1)[0]}".lower()

    @property
    def short(self) -> str:
        """The key without its tracker and site, as people write it: "acme/web#12", "PROJ-7"."""
        return f"{self.place}#{self.number}" if self.tracker == GITHUB else self.issue_key

    @property
    def kr_id(self) -> str:
        """A stable id usable in a URL, for what this item anchors: gh-acme-web-12, jira-proj-7."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.short.lower()).strip("-")
        return f"{'gh' if self.tracker == GITHUB else 'jira'}-{slug}"

    def any_site(self) -> WorkItemKey:
        """This Jira issue on whatever site (how okrs.yml names it); a GitHub key stays itself."""
        return WorkItemKey.jira(None, self.issue_key) if self.tracker == JIRA else self


def key_is(column: ColumnElement[str], key: WorkItemKey) -> ColumnElement[bool]:
    """SQL: the column holds this key, in any spelling (a Jira key of ANY_SITE: on any site)."""
    if key.tracker == JIRA and key.site is None:
        return column.like(f"jira:%/{key.issue_key}")
    return func.lower(column) == key.folded
