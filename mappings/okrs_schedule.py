"""okrs.yml's `summaries:` (where and when the weekly summary is posted) and `reminders:` (check-in nudges).

Readers in the style of `okrs_sources`: a node in, what was found and a list of problems as (line, reason)
out; nothing raises. `okrs_file` calls them and collects the problems with the rest of the file's.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVar

import yaml

from .keys import GITHUB, JIRA, WorkItemKey
from .okrs_sources import (
    EXPECTED,
    Fields,
    Problem,
    as_written,
    github_issue_of,
    is_empty,
    jira_key_of,
    line_of,
    not_configured,
    read_fields,
    scalar_value,
    shown,
    text_of,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISSUE_KEYS = {"github_issue": GITHUB, "jira_issue": JIRA}  # summary target key → tracker
EMAIL = "email"
_TARGET_KEYS = ("github_issue", "jira_issue", EMAIL, "objectives", "weekday", "hour", "timezone")
_ADDRESS = re.compile(r"[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+")  # a plain address; display names are not taken
_REMINDER_KEYS = ("enabled", "after_days", "skip_people")
_EXPECTED_ISSUE = {"github_issue": EXPECTED["github_issue"], "jira_issue": EXPECTED["jira_epic"]}
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
T = TypeVar("T")


@dataclass(frozen=True)
class SummaryTargetSpec:
    """Where the weekly summary goes (an issue, or e-mail to some addresses), for some or all objectives,
    at a local weekday and hour."""

    anchor: WorkItemKey | None  # a Jira anchor is of ANY_SITE: the file does not know the site; None: e-mail
    objectives: tuple[str, ...] | None  # objective ids, in file order; None = all
    weekday: str  # one of WEEKDAYS
    hour: int  # 0-23, local to `timezone`
    timezone: str  # IANA name
    line: int
    recipients: tuple[str, ...] = ()  # an e-mail target's addresses, lower-cased, in file order

    @property
    def tracker(self) -> str:
        return EMAIL if self.anchor is None else self.anchor.tracker

    @property
    def id(self) -> str:
        """Stable across edits of the rest of the target, and of the case of a GitHub repository name."""
        if self.anchor is None:
            return f"{EMAIL}:{','.join(self.recipients)}"
        return self.anchor.folded if self.tracker == GITHUB else f"jira:{self.anchor.issue_key}"

    @property
    def _place(self) -> str:
        if self.anchor is None:
            return f"e-mail to {', '.join(self.recipients)}"
        return f"{'GitHub' if self.tracker == GITHUB else 'Jira'} issue {self.anchor.short}"

    def describe(self) -> str:
        covered = ", ".join(self.objectives) if self.objectives is not None else "all"
        when = f"{self.weekday.capitalize()}s {self.hour:02d}:00 {self.timezone}"
        return f"{self._place}, {when}, objectives: {covered}"


@dataclass(frozen=True)
class Reminders:
    """Check-in reminders on key results that made no progress for `after_days`."""

    enabled: bool = True
    after_days: int = 7
    skip_people: tuple[str, ...] = ()  # logins / account ids that are never nudged

    def describe(self) -> str:
        if not self.enabled:
            return "reminders off"
        days = f"{self.after_days} day{'s' if self.after_days != 1 else ''}"
        skipped = f" (not for: {', '.join(self.skip_people)})" if self.skip_people else ""
        return f"reminders after {days} without progress{skipped}"


def read_bool(node: yaml.Node, field: str, name: str) -> tuple[bool | None, list[Problem]]:
    if node.tag != _BOOL_TAG:  # "false" in quotes is text, and text would read as true
        return None, [(line_of(node), f"{name} {field} must be true or false (got {shown(node)})")]
    return bool(scalar_value(node)), []


# --- summaries -----------------------------------------------------------------------------------

def read_summaries(node: yaml.Node, configured_trackers: frozenset[str],
                   objective_ids: Collection[str]) -> tuple[tuple[SummaryTargetSpec, ...], list[Problem]]:
    """The `summaries:` list; `objective_ids` are the objectives of the file, which a target may cover."""
    if is_empty(node):
        return (), []
    if not isinstance(node, yaml.SequenceNode):
        return (), [(line_of(node), f"summaries must be a list (got {shown(node)})")]
    targets: list[SummaryTargetSpec] = []
    problems: list[Problem] = []
    first_lines: dict[str, int] = {}
    for ordinal, item in enumerate(node.value, 1):
        target = _target(item, ordinal, configured_trackers, objective_ids, problems)
        if target is None:
            continue
        if target.id in first_lines:
            problems.append((target.line, f"duplicate summary target: {target._place} "
                                          f"(first used on line {first_lines[target.id]})"))
        else:
            first_lines[target.id] = target.line
            targets.append(target)
    return tuple(targets), problems


def _target(node: yaml.Node, ordinal: int, configured_trackers: frozenset[str], objective_ids: Collection[str],
            problems: list[Problem]) -> SummaryTargetSpec | None:
    name = f"summary target #{ordinal}"
    if not isinstance(node, yaml.MappingNode):
        problems.append((line_of(node), f"{name} must be a mapping with github_issue:, jira_issue: or email: "
                                        f"(got {shown(node)})"))
        return None
    fields = _take(read_fields(node, _TARGET_KEYS, f"in {name}"), problems)
    given = [key for key in (*_ISSUE_KEYS, EMAIL) if key in fields]
    if len(given) != 1:
        reason = "names no issue" if not given else "names two places"
        problems.append((line_of(node), f"{name} {reason} (give one of github_issue:, jira_issue: or email:)"))
        return None
    if given[0] == EMAIL:
        issue, recipients = None, _recipients(fields[EMAIL][1], name, problems)
    else:
        issue, recipients = _issue(fields, given[0], configured_trackers, problems), ()
    objectives = _covered(fields, name, objective_ids, problems)
    weekday = _weekday(fields, name, problems)
    hour = _hour(fields, name, problems)
    timezone = _timezone(fields, problems)
    if (issue is None and not recipients) or None in (objectives, weekday, hour, timezone):
        return None
    return SummaryTargetSpec(anchor=issue, objectives=objectives or None, weekday=weekday, hour=hour,
                             timezone=timezone, line=line_of(node), recipients=recipients)


def _recipients(value: yaml.Node, name: str, problems: list[Problem]) -> tuple[str, ...]:
    """`email: [a@x.org, ...]` (or one address): plain addresses, each once; () with a problem when wrong."""
    items = value.value if isinstance(value, yaml.SequenceNode) else [value]
    if is_empty(value) or not items:
        problems.append((line_of(value), f"{name} email needs at least one address (e.g. [lead@example.com])"))
        return ()
    found: list[str] = []
    for item in items:
        text = (text_of(item) or "").strip()
        if not _ADDRESS.fullmatch(text):
            problems.append((line_of(item), f"{name} email: not an e-mail address {as_written(item)} "
                                            "(expected a plain address like lead@example.com)"))
        else:
            found.append(text.lower())
    return tuple(dict.fromkeys(found)) if len(found) == len(items) else ()


def _take(result: tuple[T, list[Problem]], problems: list[Problem]) -> T:
    """What a reader found; its problems are added to `problems`."""
    problems.extend(result[1])
    return result[0]


def _issue(fields: Fields, kind: str, configured_trackers: frozenset[str],
           problems: list[Problem]) -> WorkItemKey | None:
    """The one issue the target names."""
    key, value = fields[kind]
    tracker = _ISSUE_KEYS[kind]
    problems.extend(not_configured(tracker, f"{kind} summary target", configured_trackers, line_of(key)))
    if kind == "github_issue" and (issue := github_issue_of(value)):
        return WorkItemKey.github(*issue)
    if kind == "jira_issue" and (issue_key := jira_key_of(value)):
        return WorkItemKey.jira(None, issue_key)
    problems.append((line_of(key), f"malformed {kind} {as_written(value)} (expected {_EXPECTED_ISSUE[kind]})"))
    return None


def _covered(fields: Fields, name: str, objective_ids: Collection[str],
             problems: list[Problem]) -> tuple[str, ...] | None:
    """The objective ids listed, () when the key is absent (all objectives); None when they are wrong."""
    if "objectives" not in fields:
        return ()
    key, value = fields["objectives"]
    if is_empty(value):
        problems.append((line_of(key), f"{name} covers no objectives (list some, or remove objectives: for all)"))
        return None
    if not isinstance(value, yaml.SequenceNode):
        problems.append((line_of(value), f"{name} objectives must be a list of objective ids (got {shown(value)})"))
        return None
    ids: list[str] = []
    for item in value.value:
        text = text_of(item)
        if text is None:
            problems.append((line_of(item), f"{name} objectives must be objective ids (got {shown(item)})"))
        elif text not in objective_ids:
            problems.append((line_of(item), f"summary target covers unknown objective '{text}'"))
        else:
            ids.append(text)
    return tuple(dict.fromkeys(ids)) if len(ids) == len(value.value) else None  # a repeated id counts once


def _weekday(fields: Fields, name: str, problems: list[Problem]) -> str | None:
    if "weekday" not in fields:
        return WEEKDAYS[0]
    value = fields["weekday"][1]
    text = (text_of(value) or "").lower()
    if text not in WEEKDAYS:
        problems.append((line_of(value), f"{name} weekday must be a day name, monday to sunday (got {shown(value)})"))
        return None
    return text


def _hour(fields: Fields, name: str, problems: list[Problem]) -> int | None:
    if "hour" not in fields:
        return 9
    value = fields["hour"][1]
    hour = scalar_value(value) if value.tag == _INT_TAG else None
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        problems.append((line_of(value), f"{name} hour must be a whole number from 0 to 23 (got {shown(value)})"))
        return None
    return hour


def _timezone(fields: Fields, problems: list[Problem]) -> str | None:
    if "timezone" not in fields:
        return "UTC"
    value = fields["timezone"][1]
    text = text_of(value)
    try:
        zoneinfo.ZoneInfo(text or "")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        problems.append((line_of(value), f"unknown timezone {as_written(value)}"))
        return None
    return text


# --- reminders -----------------------------------------------------------------------------------

def read_reminders(node: yaml.Node) -> tuple[Reminders | None, list[Problem]]:
    """The `reminders:` mapping, every key optional; None when it is wrong."""
    if is_empty(node):
        return Reminders(), []
    if not isinstance(node, yaml.MappingNode):
        return None, [(line_of(node), f"reminders must be a mapping, e.g. {{enabled: false}} (got {shown(node)})")]
    fields, problems = read_fields(node, _REMINDER_KEYS, "in reminders")
    enabled = _take(read_bool(fields["enabled"][1], "enabled", "reminders"), problems) if "enabled" in fields else True
    after_days = _after_days(fields, problems)
    skip_people = _skip_people(fields, problems)
    if None in (enabled, after_days, skip_people):
        return None, problems
    return Reminders(enabled=enabled, after_days=after_days, skip_people=skip_people), problems


def _after_days(fields: Fields, problems: list[Problem]) -> int | None:
    if "after_days" not in fields:
        return 7
    value = fields["after_days"][1]
    days = scalar_value(value) if value.tag == _INT_TAG else None
    if not isinstance(days, int) or days <= 0:
        problems.append((line_of(value), f"reminders after_days must be a whole number > 0 (got {shown(value)})"))
        return None
    return days


def _skip_people(fields: Fields, problems: list[Problem]) -> tuple[str, ...] | None:
    if "skip_people" not in fields or is_empty(fields["skip_people"][1]):
        return ()
    value = fields["skip_people"][1]
    if not isinstance(value, yaml.SequenceNode):
        problems.append((line_of(value), f"reminders skip_people must be a list of logins or account ids "
                                         f"(got {shown(value)})"))
        return None
    people: list[str] = []
    for item in value.value:
        text = text_of(item)
        person = text[1:] if text and text.startswith("@") else text  # "@carol" is how a GitHub login is written
        if not person:
            problems.append((line_of(item), f"reminders skip_people must be logins or account ids "
                                            f"(got {shown(item)})"))
        else:
            people.append(person)
    return tuple(dict.fromkeys(people)) if len(people) == len(value.value) else None
