"""GitHub webhook bodies -> tracker-neutral events. Pure: no I/O, no logging.

`parse(event, payload)` looks a handler up in `_HANDLERS`, by (X-GitHub-Event, action), then by event.

Choices not dictated by GitHub's documentation:
- `issues`/`issue_comment` about a pull request (`issue.pull_request` present, as in the octokit
  `milestoned` examples) yield no events: pull requests are not work items.
- Repository of a key: `repository.full_name`, else `issue.repository_url`; for `sub_issues` (the two
  issues may live elsewhere) each issue's own `repository_url` first, then `sub_issue_repo` etc.
- `state` absent (octokit `pinned`): closed iff `closed_at` is set. Closed with `not_planned` or
  `duplicate` is dropped, with any other reason or none done. Estimate: the first matching label.
- Event.changes: `edited` -> the changed field names; `opened` after a transfer (it carries
  `changes.old_issue`) -> ("transferred_from:<old key>",).
- `installation`: `repositories` are reported as added (as removed for `deleted`).
- `sub_issues`: `sub_issues_summary` is never read (it can be stale); the item has parent_known=True,
  the parent snapshot parent_known=False (the body says nothing of the parent's own parent).
- Unknown events and unused actions give Parsed(events=()); they never raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

from core.events import (
    DONE,
    DROPPED,
    OPEN,
    Comment,
    Event,
    InstallationEvent,
    MilestoneEvent,
    Origin,
    Parsed,
    Person,
    WorkItemSnapshot,
)

from . import github_fields as fields
from .errors import PayloadError

TRACKER = "github"

SUB_ISSUE_ACTIONS = frozenset({"sub_issue_added", "sub_issue_removed", "parent_issue_added",
                               "parent_issue_removed"})
COMMENT_KINDS = MappingProxyType({"created": "commented", "edited": "comment_edited",
                                  "deleted": "comment_deleted"})

# event -> the actions used, or None for every action
USED_EVENTS: Mapping[str, frozenset[str] | None] = MappingProxyType({
    "issues": None, "sub_issues": SUB_ISSUE_ACTIONS, "issue_comment": frozenset(COMMENT_KINDS),
    "milestone": None, "installation": None, "installation_repositories": None, "ping": None,
})

# Deliberately not used (an app or hook may still be subscribed to them).
IGNORED_EVENTS = frozenset({
    "label", "repository", "issue_dependencies", "push", "pull_request", "pull_request_review",
    "pull_request_review_comment", "pull_request_review_thread", "commit_comment", "star", "watch",
    "fork", "create", "delete", "check_run", "check_suite", "status", "workflow_run", "workflow_job",
    "workflow_dispatch", "release", "member", "membership", "team", "team_add", "organization",
    "public", "project", "project_card", "project_column", "projects_v2", "projects_v2_item",
    "discussion", "discussion_comment", "deployment", "deployment_status", "gollum", "page_build",
    "repository_dispatch", "github_app_authorization", "installation_target", "meta", "merge_group",
    "code_scanning_alert", "dependabot_alert", "secret_scanning_alert", "security_advisory",
})
KNOWN_EVENTS = frozenset(USED_EVENTS) | IGNORED_EVENTS | {"ping"}  # the metrics labels

_DROPPED_REASONS = frozenset({"not_planned", "duplicate"})


def is_used(event: str, action: str | None) -> bool:
    """Whether okrbot acts on this (X-GitHub-Event, action). Unknown events are not used."""
    if event not in USED_EVENTS:
        return False
    actions = USED_EVENTS[event]
    return actions is None or action in actions


@dataclass(frozen=True)
class GithubOptions:
    """What the parser is told; no defaults here: they live with the settings (OKRBOT_GITHUB_*)."""

    # regex on label names, case-insensitive; group 1 is the estimate
    points_label_pattern: str

    def __post_init__(self) -> None:
        if re.compile(self.points_label_pattern).groups < 1:
            raise ValueError("points_label_pattern needs a capturing group for the number")


@dataclass(frozen=True)
class _Delivery:
    event: str
    action: str | None
    payload: dict
    options: GithubOptions


def parse(event: str, payload: dict, options: GithubOptions) -> Parsed:
    """What one GitHub delivery means. Raises PayloadError when a used event is structurally unusable."""
    if not isinstance(payload, dict):
        raise PayloadError("GitHub body is not a JSON object")
    action = payload.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError("`action` is not a string")
    if event in USED_EVENTS and event != "ping" and action is None:
        raise PayloadError(f"{event} event without `action`")
    handler = _HANDLERS.get((event, action)) or _HANDLERS.get(event)
    events: tuple = ()
    if handler is not None and is_used(event, action):
        events = handler(_Delivery(event, action, payload, options))
    return Parsed(TRACKER, event, action, events, installation_id=fields.installation_id_of(payload),
                  origin=origin_of(payload))


def origin_of(payload: dict) -> Origin:
    """The repository the delivery is about (`repository.full_name`, else the issue's `repository_url`),
    or, when it names none (`installation` events), only the installation's account."""
    issue = payload.get("issue")
    repo = fields.full_name(payload.get("repository")) or (
        fields.repo_from_url(issue.get("repository_url")) if isinstance(issue, dict) else None)
    if repo is not None:
        return Origin(TRACKER, owner=repo.split("/", 1)[0], repo=repo)
    installation = payload.get("installation")
    return Origin(TRACKER, owner=fields.account(installation) if isinstance(installation, dict) else None)


# --- handlers -------------------------------------------------------------------------------


def _issue_item(d: _Delivery) -> WorkItemSnapshot | None:
    """The snapshot of `payload.issue`, or None when it is a pull request."""
    issue = fields.obj(d.payload, "issue", f"{d.event}.{d.action}")
    if issue.get("pull_request") is not None:
        return None
    return _snapshot(issue, fields.delivery_repo(d.payload, issue), d.options)


def _on_issue(d: _Delivery) -> tuple[Event, ...]:
    item = _issue_item(d)
    if item is None:
        return ()
    removed = item.key if d.action == "deleted" else None
    return (Event(TRACKER, d.action, item, actor=fields.actor(d.payload), removed_key=removed,
                  changes=_issue_changes(d.payload)),)


def _on_transferred(d: _Delivery) -> tuple[Event, ...]:
    item = _issue_item(d)
    if item is None:
        return ()
    changes = fields.obj(d.payload, "changes", "issues.transferred")
    new_issue = fields.obj(changes, "new_issue", "issues.transferred changes")
    new_repo = fields.first_of(fields.full_name(changes.get("new_repository")),
                      fields.repo_from_url(new_issue.get("repository_url")),
                      what="issues.transferred changes.new_repository")
    new_key = fields.key(new_repo, fields.need_int(new_issue, "number", "changes.new_issue"))
    return (Event(TRACKER, "transferred", item, actor=fields.actor(d.payload), removed_key=item.key,
                  new_key=new_key),)


def _on_sub_issues(d: _Delivery, linked: bool) -> tuple[Event, ...]:
    p = d.payload
    sub = fields.obj(p, "sub_issue", f"sub_issues.{d.action}")
    parent_issue = fields.obj(p, "parent_issue", f"sub_issues.{d.action}")
    # sub_issue_*: delivered to the parent's repository; parent_issue_*: to the sub-issue's.
    from_parent_side = d.action.startswith("sub_issue_")
    here = p.get("repository")
    sub_repo = fields.linked_repo(sub, p.get("sub_issue_repo"), None if from_parent_side else here, "sub_issue")
    parent_repo = fields.linked_repo(parent_issue, p.get("parent_issue_repo"), here if from_parent_side else None,
                               "parent_issue")
    parent = _snapshot(parent_issue, parent_repo, d.options)
    parent_id = fields.id_text(p.get("parent_issue_id")) or parent.id
    item = _snapshot(sub, sub_repo, d.options, parent_key=parent.key if linked else None,
                     parent_id=parent_id if linked else None, parent_known=True)
    return (Event(TRACKER, "linked" if linked else "unlinked", item, actor=fields.actor(p), parent=parent),)


def _on_comment(d: _Delivery) -> tuple[Event, ...]:
    item = _issue_item(d)
    if item is None:
        return ()
    comment = _comment(fields.obj(d.payload, "comment", f"issue_comment.{d.action}"))
    return (Event(TRACKER, COMMENT_KINDS[d.action], item, actor=fields.actor(d.payload), comment=comment),)


def _on_milestone(d: _Delivery) -> tuple[MilestoneEvent, ...]:
    milestone = fields.obj(d.payload, "milestone", f"milestone.{d.action}")
    repo = fields.first_of(fields.full_name(d.payload.get("repository")), fields.repo_from_url(milestone.get("url")),
                  what="milestone repository")
    number = fields.need_int(milestone, "number", "milestone")
    state = milestone.get("state") if milestone.get("state") in ("open", "closed") else "open"
    return (MilestoneEvent(d.action, f"{repo}/{number}", fields.text(milestone.get("title")) or "", state),)


def _on_installation(d: _Delivery) -> tuple[InstallationEvent, ...]:
    installation = fields.obj(d.payload, "installation", f"installation.{d.action}")
    repos = fields.repo_names(d.payload.get("repositories"))
    removed = d.action == "deleted"
    installation_id = fields.need_int(installation, "id", "installation")
    return (InstallationEvent(d.action, installation_id, fields.account(installation),
                              repositories_added=() if removed else repos,
                              repositories_removed=repos if removed else ()),)


def _on_installation_repositories(d: _Delivery) -> tuple[InstallationEvent, ...]:
    installation = fields.obj(d.payload, "installation", f"installation_repositories.{d.action}")
    installation_id = fields.need_int(installation, "id", "installation")
    return (InstallationEvent(d.action, installation_id, fields.account(installation),
                              repositories_added=fields.repo_names(d.payload.get("repositories_added")),
                              repositories_removed=fields.repo_names(d.payload.get("repositories_removed"))),)


_Handler = Callable[[_Delivery], tuple]
_HANDLERS: Mapping[tuple[str, str] | str, _Handler] = MappingProxyType({
    ("issues", "transferred"): _on_transferred,
    "issues": _on_issue,
    ("sub_issues", "sub_issue_added"): partial(_on_sub_issues, linked=True),
    ("sub_issues", "parent_issue_added"): partial(_on_sub_issues, linked=True),
    ("sub_issues", "sub_issue_removed"): partial(_on_sub_issues, linked=False),
    ("sub_issues", "parent_issue_removed"): partial(_on_sub_issues, linked=False),
    "issue_comment": _on_comment,
    "milestone": _on_milestone,
    "installation": _on_installation,
    "installation_repositories": _on_installation_repositories,
    "ping": lambda d: (),
})


# --- snapshots ------------------------------------------------------------------------------


def _snapshot(issue: dict, repo: str, options: GithubOptions, *, parent_key: str | None = None,
              parent_id: str | None = None, parent_known: bool = False) -> WorkItemSnapshot:
    labels = _labels(issue)
    title, url, reason = (fields.text(issue.get(name)) for name in ("title", "html_url", "state_reason"))
    return WorkItemSnapshot(
        key=fields.key(repo, fields.need_int(issue, "number", "issue")), tracker=TRACKER, id=fields.required_id(issue),
        title=title or "", url=url, state=_state(issue), state_reason=reason,
        assignees=_assignees(issue), labels=labels,
        updated_at=fields.timestamp(issue.get("updated_at"), "issue.updated_at"), container=repo,
        parent_key=parent_key, parent_id=parent_id, milestone=_milestone_ref(issue, repo),
        issue_type=_issue_type(issue), estimate=_estimate(labels, options), parent_known=parent_known,
    )


def _state(issue: dict) -> str:
    state = issue.get("state")
    closed = state == "closed" or (state is None and issue.get("closed_at") is not None)
    if not closed:
        return OPEN
    return DROPPED if issue.get("state_reason") in _DROPPED_REASONS else DONE


def _assignees(issue: dict) -> tuple[Person, ...]:
    people = issue.get("assignees")
    if people is None:
        people = [issue.get("assignee")]
    if not isinstance(people, list):
        return ()
    return tuple(person for person in map(fields.person, people) if person is not None)


def _labels(issue: dict) -> tuple[str, ...]:
    labels = issue.get("labels")
    if not isinstance(labels, list):
        return ()
    names = (label.get("name") if isinstance(label, dict) else label for label in labels)
    return tuple(name for name in names if isinstance(name, str))


def _estimate(labels: tuple[str, ...], options: GithubOptions) -> float | None:
    for name in labels:
        match = re.search(options.points_label_pattern, name.strip(), re.IGNORECASE)
        if match:
            return float(match.group(1))
    return None


def _milestone_ref(issue: dict, repo: str) -> str | None:
    milestone = issue.get("milestone")
    number = fields.positive_int(milestone.get("number")) if isinstance(milestone, dict) else None
    return None if number is None else f"{repo}/{number}"


def _issue_type(issue: dict) -> str | None:
    issue_type = issue.get("type")
    return fields.text(issue_type.get("name")) if isinstance(issue_type, dict) else None


def _issue_changes(payload: dict) -> tuple[str, ...]:
    changes = payload.get("changes")
    if not isinstance(changes, dict):
        return ()
    old_issue = changes.get("old_issue")
    if not isinstance(old_issue, dict):
        return tuple(sorted(changes))  # edited: title, body, ...
    old_repo = fields.full_name(changes.get("old_repository")) or fields.repo_from_url(old_issue.get("repository_url"))
    number = fields.positive_int(old_issue.get("number"))
    if old_repo is None or number is None:
        return ()
    return (f"transferred_from:{fields.key(old_repo, number)}",)


def _comment(comment: dict) -> Comment:
    user = comment.get("user")
    created = fields.timestamp(comment.get("created_at"), "comment.created_at") if comment.get("created_at") else None
    updated = (fields.timestamp(comment.get("updated_at"), "comment.updated_at") if comment.get("updated_at")
               else created)
    return Comment(id=fields.required_id(comment, "comment"), author=fields.person(user),
                   body=fields.text(comment.get("body")) or "",
                   is_bot=isinstance(user, dict) and user.get("type") == "Bot",
                   created_at=created, updated_at=updated, url=fields.text(comment.get("html_url")))


def issue_snapshot(issue: dict, options: GithubOptions, *, parent: WorkItemSnapshot | None = None,
                   parent_known: bool = False) -> WorkItemSnapshot:
    """A REST API issue object (the same shape as a webhook's `issue`) as a snapshot, for reconcile.

    `parent_known` with `parent=None` says the issue has no parent (it left the one it had).
    """
    repo = fields.repo_from_url(issue.get("repository_url")) or fields.repo_from_url(issue.get("url"))
    if repo is None:
        raise PayloadError("issue without repository_url")
    return _snapshot(issue, repo, options, parent_key=parent.key if parent else None,
                     parent_id=parent.id if parent else None, parent_known=parent_known or parent is not None)
