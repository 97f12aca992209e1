"""Tracker-neutral events: what the pure parsers turn a webhook body into.

Everything here is a frozen dataclass; parsers in `webhooks.github` and `webhooks.jira` build them
from (event name, payload) with no I/O, and the rest of okrbot only ever sees these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Work-item states. `dropped` = closed as not planned / duplicate, or Jira done with a "won't do"
# resolution: it leaves both sides of the progress fraction.
OPEN, DONE, DROPPED = "open", "done", "dropped"
STATES = (OPEN, DONE, DROPPED)


@dataclass(frozen=True)
class Person:
    """A tracker user. `login` is the GitHub login, the Jira Cloud accountId or the Jira Server name."""

    login: str
    name: str | None = None


@dataclass(frozen=True)
class WorkItemSnapshot:
    """The state of one issue / epic as a delivery showed it."""

    key: str  # github:<owner>/<repo>#<number> or jira:<site host>/<ISSUE-KEY>
    tracker: str  # "github" | "jira"
    id: str  # the tracker's numeric id, as a string
    title: str
    url: str | None
    state: str  # OPEN | DONE | DROPPED
    state_reason: str | None  # GitHub state_reason, or the Jira resolution name
    assignees: tuple[Person, ...]
    labels: tuple[str, ...]
    updated_at: datetime  # timezone-aware, UTC
    container: str  # GitHub "<owner>/<repo>", Jira "<site host>/<PROJECT>"
    parent_key: str | None = None  # when the body names the parent by key (Jira)
    parent_id: str | None = None  # when the body names the parent by numeric id (GitHub sub-issues, Jira)
    milestone: str | None = None  # GitHub "<owner>/<repo>/<milestone number>"
    issue_type: str | None = None  # GitHub issue type name, Jira issue type name
    estimate: float | None = None  # story points (Jira field) or points:N / size:N label (GitHub)
    # GitHub only: whether the body says anything about the parent. Issue bodies never carry the
    # parent link, so a snapshot from an `issues` event must not clear a parent set by sub_issues.
    parent_known: bool = False


@dataclass(frozen=True)
class Comment:
    """A comment on a work item, as a delivery showed it (what a `/checkin` needs to be applied)."""

    id: str
    author: Person | None  # login: GitHub login, Jira Cloud accountId or Jira Server name; name: display name
    body: str
    is_bot: bool  # the author is an app/bot account (GitHub `type: Bot`, Jira app user)
    created_at: datetime | None = None  # timezone-aware, UTC
    updated_at: datetime | None = None  # the last edit (= created_at when never edited): the version
    url: str | None = None  # the comment's own link, for people (GitHub html_url, Jira ?focusedCommentId=)
    author_account_id: str | None = None  # Jira Cloud: the author's accountId (then author.login is it too)

    @property
    def author_login(self) -> str | None:
        """The GitHub login or Jira Server name; None on Jira Cloud, whose authors have only an accountId."""
        return None if self.author is None or self.author_account_id else self.author.login


@dataclass(frozen=True)
class Event:
    """One thing that happened to a work item.

    kind is one of: opened, edited, closed, reopened, assigned, unassigned, labeled, unlabeled,
    typed, untyped, milestoned, demilestoned, locked, unlocked, pinned, unpinned, deleted,
    transferred, linked, unlinked, commented, comment_edited, comment_deleted, created, updated.
    """

    tracker: str
    kind: str
    item: WorkItemSnapshot | None
    actor: Person | None = None
    # linked/unlinked: the parent of `item` (GitHub sub-issues carry both issues whole)
    parent: WorkItemSnapshot | None = None
    comment: Comment | None = None
    # deleted/transferred: key of the item that left (item may be None)
    removed_key: str | None = None
    # transferred: the key the item has now
    new_key: str | None = None
    # free-form facts the parser found worth keeping (e.g. changed fields of a Jira changelog)
    changes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class InstallationEvent:
    """GitHub App installation changes: installation id and the repositories it covers."""

    action: str
    installation_id: int
    account: str | None
    repositories_added: tuple[str, ...] = ()
    repositories_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class MilestoneEvent:
    action: str
    milestone: str  # "<owner>/<repo>/<number>"
    title: str
    state: str  # "open" | "closed"


@dataclass(frozen=True)
class Origin:
    """Where a delivery comes from, as its body says: what OKRBOT_GITHUB_ALLOWED / _JIRA_ALLOWED_SITES screen.

    GitHub: the repository ("owner/repo") when the body names one, else only the owner (the
    installation's account, for `installation` events). Jira: the site as `host` or `host:port` (lower
    case, default ports left out), from the body's REST `self` URLs. All None: the body does not say.
    """

    tracker: str
    owner: str | None = None
    repo: str | None = None
    site: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What one delivery means. `events` may be empty (e.g. a comment on a pull request)."""

    tracker: str
    event: str  # X-GitHub-Event, or Jira webhookEvent
    action: str | None
    events: tuple[Event | InstallationEvent | MilestoneEvent, ...]
    installation_id: int | None = None  # GitHub App deliveries carry it; write-back acts per installation
    origin: Origin | None = None  # None: the body says nothing of where it comes from (out of any set scope)
