"""Jira (Cloud and Server/Data Center) webhook bodies -> tracker-neutral events. Pure: no I/O.

`parse(payload)` maps `webhookEvent` to an event kind through `_EVENT_KINDS`, refined for
`jira:issue_updated` by `issue_event_type_name` (`_COMMENT_EVENT_TYPES`), and builds one Event.

Choices not dictated by Jira's documentation:
- Done is `fields.status.statusCategory.key == "done"`, never a status name; a done issue whose
  resolution is in `dropped_resolutions` (case-insensitive, ’ or ') is dropped.
- `jira:issue_updated` without `issue_event_type_name` (old Server): a `comment` and no changelog
  items means commented (comment_edited when the comment's `updated` differs from `created`);
  otherwise updated. Old Server comment deletions carry neither, so they read as a plain update.
- Standalone comment events: Cloud sends only a stub of the issue (summary, status, type,
  project, assignee, priority: no labels, resolution, parent or `updated`). A snapshot built from
  it would erase those, so a snapshot is made only from a full issue (key, fields.status and
  fields.updated); otherwise item=None and Event.changes = ("issue:<item key>",). Server sends no
  issue at all: Event.changes = ("issue_id:<site host>/<numeric id>",), read from `comment.self`.
- Issue events always get a snapshot when the issue has a status (else item=None and the same
  "issue:<item key>" marker); a missing `updated` falls back to the delivery `timestamp`.
- A `comment` present on any event is attached to it (e.g. a transition with a comment).
- actor = `user`; when absent (Cloud comment events), the comment's author (created) or
  updateAuthor (edited); never guessed for deletions.
- Unused webhook events give Parsed(events=()).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from urllib.parse import urlsplit

from core.events import DONE, DROPPED, OPEN, Comment, Event, Origin, Parsed, Person, WorkItemSnapshot

from .errors import PayloadError

TRACKER = "jira"

_EVENT_KINDS = MappingProxyType({
    "jira:issue_created": "created", "jira:issue_updated": "updated", "jira:issue_deleted": "deleted",
    "comment_created": "commented", "comment_updated": "comment_edited", "comment_deleted": "comment_deleted",
})
# Server and older Cloud deliver comments as jira:issue_updated with these event type names.
_COMMENT_EVENT_TYPES = MappingProxyType({
    "issue_commented": "commented", "issue_comment_edited": "comment_edited",
    "issue_comment_deleted": "comment_deleted",
})

USED_EVENTS = frozenset(_EVENT_KINDS)

# Deliberately not used (a webhook may still be registered for them).
IGNORED_EVENTS = frozenset({
    "worklog_created", "worklog_updated", "worklog_deleted", "jira:worklog_updated",
    "sprint_created", "sprint_updated", "sprint_deleted", "sprint_started", "sprint_closed",
    "board_created", "board_updated", "board_deleted", "board_configuration_changed",
    "project_created", "project_updated", "project_deleted", "project_soft_deleted",
    "project_restored_deleted", "project_archived", "project_restored_archived",
    "jira:version_created", "jira:version_updated", "jira:version_deleted", "jira:version_released",
    "jira:version_unreleased", "jira:version_moved", "jira:version_merged",
    "user_created", "user_updated", "user_deleted", "issuelink_created", "issuelink_deleted",
    "option_voting_changed", "option_watching_changed", "option_unassigned_issues_changed",
    "option_subtasks_changed", "option_attachments_changed", "option_issuelinks_changed",
    "option_timetracking_changed", "issue_property_set", "issue_property_deleted",
    "attachment_created", "attachment_deleted", "filter_created", "filter_updated", "filter_deleted",
})
KNOWN_EVENTS = USED_EVENTS | IGNORED_EVENTS  # the metrics labels

_COMMENT_ISSUE_ID = re.compile(r"/issue/(\d+)/comment/")


def is_used(webhook_event: str) -> bool:
    """Whether okrbot acts on this `webhookEvent`. Unknown events are not used."""
    return webhook_event in USED_EVENTS


@dataclass(frozen=True)
class JiraOptions:
    """What the parser is told; no defaults here: they live with the settings (OKRBOT_JIRA_*)."""

    # resolutions that turn a done issue into a dropped one (case-insensitive, ’ or ')
    dropped_resolutions: tuple[str, ...]
    # custom field holding the epic's key (company-managed projects), e.g. "customfield_10014"; None: none
    epic_link_field: str | None
    # custom fields read, in order, for the estimate; the first holding a number wins
    story_points_fields: tuple[str, ...]


@dataclass(frozen=True)
class _Site:
    host: str  # host, or host:port for a non-default port
    base: str  # the self URL up to /rest/ (keeps a context path such as /jira)


def parse(payload: dict, options: JiraOptions) -> Parsed:
    """What one Jira delivery means. Raises PayloadError when a used event is structurally unusable."""
    if not isinstance(payload, dict):
        raise PayloadError("Jira body is not a JSON object")
    webhook_event = payload.get("webhookEvent")
    if not isinstance(webhook_event, str) or not webhook_event:
        raise PayloadError("Jira body without `webhookEvent`")
    action = _text(payload.get("issue_event_type_name"))
    if not is_used(webhook_event):
        return Parsed(TRACKER, webhook_event, action, (), origin=origin_of(payload))
    build = _issue_event if webhook_event.startswith("jira:issue_") else _comment_event
    return Parsed(TRACKER, webhook_event, action, (build(payload, webhook_event, options),),
                  origin=origin_of(payload))


def origin_of(payload: dict) -> Origin:
    """The site the delivery comes from: the host (and a non-default port) of `issue.self`, else of
    `comment.self`, else of `baseUrl`; Origin(site=None) when the body names none."""
    candidates = [obj.get("self") for obj in (payload.get("issue"), payload.get("comment")) if isinstance(obj, dict)]
    base = payload.get("baseUrl")
    if isinstance(base, str):
        candidates.append(base.rstrip("/") + "/rest/")
    site = next((found for found in map(_site, candidates) if found is not None), None)
    return Origin(TRACKER, site=site.host if site else None)


def site_host(url: str) -> str | None:
    """A Jira base URL as the site host okrbot compares: `host` or `host:port`, lower case, no default port."""
    site = _site(url.strip().rstrip("/") + "/rest/")
    return site.host if site else None


# --- events ---------------------------------------------------------------------------------


def _issue_event(payload: dict, webhook_event: str, options: JiraOptions) -> Event:
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise PayloadError(f"{webhook_event} without `issue`")
    key = _issue_key(issue, webhook_event)
    site = _site(issue.get("self"))
    if site is None:
        raise PayloadError(f"{webhook_event}: issue.self is not a URL (the site host comes from it)")
    kind = _kind(payload, webhook_event)
    item = _snapshot(issue, site, payload, options) if _has_status(issue) else None
    marker = () if item else (f"issue:{_key(site.host, key)}",)
    return Event(TRACKER, kind, item, actor=_actor(payload, kind), comment=_comment_of(payload, key),
                 removed_key=_key(site.host, key) if kind == "deleted" else None,
                 changes=_changed_fields(payload) + marker)


def _comment_event(payload: dict, webhook_event: str, options: JiraOptions) -> Event:
    comment = payload.get("comment")
    if not isinstance(comment, dict):
        raise PayloadError(f"{webhook_event} without `comment`")
    kind = _EVENT_KINDS[webhook_event]
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    site = _site(issue.get("self")) or _site(comment.get("self"))
    item, marker = None, ()
    if site and _text(issue.get("key")):
        if _is_full(issue):
            item = _snapshot(issue, site, payload, options)
        else:
            marker = (f"issue:{_key(site.host, issue['key'])}",)
    elif site and (match := _COMMENT_ISSUE_ID.search(_text(comment.get("self")) or "")):
        marker = (f"issue_id:{site.host}/{match.group(1)}",)
    return Event(TRACKER, kind, item, actor=_actor(payload, kind), comment=_comment(comment, _text(issue.get("key"))),
                 changes=marker)


def _kind(payload: dict, webhook_event: str) -> str:
    kind = _EVENT_KINDS[webhook_event]
    if webhook_event != "jira:issue_updated":
        return kind
    event_type = payload.get("issue_event_type_name")
    if isinstance(event_type, str):
        return _COMMENT_EVENT_TYPES.get(event_type, kind)
    comment = payload.get("comment")
    if not isinstance(comment, dict) or _changed_fields(payload):
        return kind
    edited = _text(comment.get("updated")) not in (None, _text(comment.get("created")))
    return "comment_edited" if edited else "commented"


def _actor(payload: dict, kind: str) -> Person | None:
    user = _person(payload.get("user"))
    comment = payload.get("comment")
    if user is not None or not isinstance(comment, dict):
        return user
    if kind == "commented":
        return _person(comment.get("author"))
    return _person(comment.get("updateAuthor")) if kind == "comment_edited" else None


def _changed_fields(payload: dict) -> tuple[str, ...]:
    """Changelog field ids: Cloud items carry `fieldId`; Server items only the `field` name."""
    changelog = payload.get("changelog")
    items = changelog.get("items") if isinstance(changelog, dict) else None
    if not isinstance(items, list):
        return ()
    ids = (_text(item.get("fieldId")) or _text(item.get("field")) for item in items if isinstance(item, dict))
    return tuple(dict.fromkeys(field_id for field_id in ids if field_id))


def _comment_of(payload: dict, issue_key: str) -> Comment | None:
    comment = payload.get("comment")
    return _comment(comment, issue_key) if isinstance(comment, dict) else None


def _comment(comment: dict, issue_key: str | None = None) -> Comment:
    comment_id = _id(comment.get("id"))
    if comment_id is None:
        raise PayloadError("comment without `id`")
    author = comment.get("author")
    created = _comment_time(comment, "created")
    return Comment(id=comment_id, author=_person(author), body=_body_text(comment.get("body")),
                   is_bot=isinstance(author, dict) and author.get("accountType") == "app",
                   created_at=created, updated_at=_comment_time(comment, "updated") or created,
                   url=_comment_url(comment, comment_id, issue_key),
                   author_account_id=_text(author.get("accountId")) if isinstance(author, dict) else None)


def _comment_time(comment: dict, name: str) -> datetime | None:
    value = _text(comment.get(name))
    return _parse_time(value, f"comment.{name}") if value else None


def _comment_url(comment: dict, comment_id: str, issue_key: str | None) -> str | None:
    """Jira has no page per comment: the issue's page focused on it; None when the body has no issue key."""
    site = _site(comment.get("self"))
    if site is None or issue_key is None:
        return None
    return f"{site.base}/browse/{issue_key}?focusedCommentId={comment_id}"


def _body_text(body: object) -> str:
    """A wiki-markup string as is; an Atlassian Document Format tree flattened to its text."""
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    children = body.get("content") if isinstance(body.get("content"), list) else []
    return (_text(body.get("text")) or "") + "".join(_body_text(child) for child in children)


# --- snapshots ------------------------------------------------------------------------------


def _snapshot(issue: dict, site: _Site, payload: dict, options: JiraOptions) -> WorkItemSnapshot:
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    key = _issue_key(issue, "issue")
    issue_id = _id(issue.get("id"))
    if issue_id is None:
        raise PayloadError(f"issue {key} without `id`")
    resolution = _name(fields.get("resolution"))
    parent_key, parent_id = _parent(fields, site.host, options)
    labels = fields.get("labels") if isinstance(fields.get("labels"), list) else []
    return WorkItemSnapshot(
        key=_key(site.host, key), tracker=TRACKER, id=issue_id, title=_text(fields.get("summary")) or "",
        url=f"{site.base}/browse/{key}", state=_state(fields, resolution, options),
        state_reason=resolution, assignees=_assignees(fields),
        labels=tuple(label for label in labels if isinstance(label, str)),
        updated_at=_updated_at(fields, payload), container=f"{site.host}/{_project(fields, key)}",
        parent_key=parent_key, parent_id=parent_id, issue_type=_name(fields.get("issuetype")),
        estimate=_estimate(fields, options),
    )


def _state(fields: dict, resolution: str | None, options: JiraOptions) -> str:
    status = fields.get("status")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    if not isinstance(category, dict) or category.get("key") != "done":
        return OPEN
    dropped = {_folded(name) for name in options.dropped_resolutions}
    return DROPPED if resolution is not None and _folded(resolution) in dropped else DONE


def _folded(name: str) -> str:
    return name.replace("\u2019", "'").replace("\u2018", "'").strip().casefold()


def _assignees(fields: dict) -> tuple[Person, ...]:
    person = _person(fields.get("assignee"))
    return (person,) if person else ()


def _parent(fields: dict, host: str, options: JiraOptions) -> tuple[str | None, str | None]:
    parent = fields.get("parent")
    if isinstance(parent, dict) and _text(parent.get("key")):
        return _key(host, parent["key"]), _id(parent.get("id"))
    epic = fields.get(options.epic_link_field) if options.epic_link_field else None
    if isinstance(epic, str) and epic.strip():
        return _key(host, epic.strip()), None
    return None, None


def _estimate(fields: dict, options: JiraOptions) -> float | None:
    for field_id in options.story_points_fields:
        value = fields.get(field_id)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _project(fields: dict, key: str) -> str:
    project = fields.get("project")
    return (_text(project.get("key")) if isinstance(project, dict) else None) or key.rpartition("-")[0] or key


def _updated_at(fields: dict, payload: dict) -> datetime:
    value = fields.get("updated")
    if isinstance(value, str):
        return _parse_time(value, "fields.updated")
    timestamp = payload.get("timestamp")
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            raise PayloadError(f"delivery timestamp {timestamp!r} is not a time in milliseconds") from None
    raise PayloadError("issue without `fields.updated` nor a delivery `timestamp`")


def _parse_time(value: str, where: str) -> datetime:
    """Jira times: 2019-08-12T20:58:02.823+0000 (offset without colon), milliseconds optional."""
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.strip())
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(f"{where} is not a time: {value[:40]!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- small helpers --------------------------------------------------------------------------


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return str(value)


def _name(obj: object) -> str | None:
    return _text(obj.get("name")) if isinstance(obj, dict) else None


def _key(host: str, issue_key: str) -> str:
    return f"jira:{host}/{issue_key}"


def _issue_key(issue: dict, where: str) -> str:
    key = _text(issue.get("key"))
    if key is None:
        raise PayloadError(f"{where}: issue without `key`")
    return key


def _has_status(issue: dict) -> bool:
    fields = issue.get("fields")
    return isinstance(fields, dict) and isinstance(fields.get("status"), dict)


def _is_full(issue: dict) -> bool:
    return _has_status(issue) and isinstance(issue["fields"].get("updated"), str)


def _person(user: object) -> Person | None:
    """Cloud: login = accountId; Server/Data Center: login = name (else key). name = displayName."""
    if not isinstance(user, dict):
        return None
    login = _text(user.get("accountId")) or _text(user.get("name")) or _text(user.get("key"))
    return Person(login, _text(user.get("displayName"))) if login else None


def _site(url: object) -> _Site | None:
    """Site host and base URL from a REST `self` URL such as https://foo.atlassian.net/rest/api/2/..."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    try:
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not hostname:
        return None
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    context = parts.path[: parts.path.find("/rest/")] if "/rest/" in parts.path else ""
    return _Site(host, f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{context}")


def issue_snapshot(issue: dict, options: JiraOptions) -> WorkItemSnapshot:
    """A REST API issue (the same shape as a webhook's `issue`) as a snapshot, for reconcile."""
    site = _site(issue.get("self"))
    if site is None:
        raise PayloadError("issue without a usable `self` URL")
    return _snapshot(issue, site, {}, options)
