"""The leaves of okrs.yml: each source of a key result (read into mappings.sources' kinds), and each
single value (owner, numbers, dates).

`okrs_file` walks the structure (keys, nesting, ids); this module reads one node at a time (`okrs_schedule`
reads the summary and reminder settings). okrs.yml is walked node by node (`yaml.compose`), not loaded, so
that every error can name its line. Nothing here raises: a reader returns what it found and a list of
problems as (line, reason), and `okrs_file` collects them so that one run reports every error in the file.
"""

from __future__ import annotations

import datetime
import math
import re

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from .sources import KINDS, Source

Problem = tuple[int, str]  # (1-based line, reason)
Fields = dict[str, tuple[yaml.Node, yaml.Node]]  # key name → (key node, value node)

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MEASURES = ("count", "points")
_TEAM_RE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")

SOURCE_KINDS = tuple(KINDS)
# A tracker is configured when its webhook secret is set (integration.config); the message says which.
_TRACKER_SETUP = {"github": ("GitHub", "OKRBOT_GITHUB_WEBHOOK_SECRET"), "jira": ("Jira", "OKRBOT_JIRA_WEBHOOK_SECRET")}

# GitHub owners are letters, digits and '-'; repository names also allow '.' and '_'.
_REPO = r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+"
_REPO_RE = re.compile(_REPO)
_ISSUE_RE = re.compile(rf"({_REPO})#([1-9][0-9]*)")
_MILESTONE_RE = re.compile(rf"({_REPO})/([1-9][0-9]*)")
_JIRA_PROJECT_RE = re.compile(r"[A-Z][A-Z0-9_]+")
_JIRA_KEY_RE = re.compile(r"[A-Z][A-Z0-9_]+-\d+")

EXPECTED = {  # what a malformed issue, milestone, epic or label should look like
    "github_issue": "owner/repo#number",
    "github_milestone": "owner/repo/number",
    "github_label": "{repo: owner/repo, label: name}",
    "jira_epic": "a Jira issue key like PROJ-12",
    "jira_label": "{project: PROJECT, label: name}",
}
_MAX_SHOWN = 60  # a pasted blob in an error message hides the reason


# --- YAML-node helpers ---------------------------------------------------------------------------

def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def text_of(node: yaml.Node) -> str | None:
    """A scalar as written (so `id: 2026` and `owner: 12345` stay text), or None if null, empty or not a scalar."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG:
        return None
    return node.value.strip() or None


def scalar_value(node: yaml.Node) -> object:
    """A scalar converted the way yaml.safe_load would; None if it cannot be (e.g. 2026-02-30)."""
    try:
        return SafeConstructor().construct_object(node)
    except (ValueError, ConstructorError):
        return None


def shown(node: yaml.Node) -> str:
    """A value for an error message: scalars as written, collections by what they are."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _scalar_shown(node)


def as_written(node: yaml.Node) -> str:
    """A value for an error message, collections spelled out in flow style."""
    if isinstance(node, yaml.ScalarNode):
        return _scalar_shown(node)
    text = _flow(node)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _scalar_shown(node: yaml.ScalarNode) -> str:
    if node.tag == NULL_TAG and not node.value:
        return "nothing"
    return f"'{node.value}'" if node.tag == STR_TAG else node.value


def _flow(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "{" + ", ".join(f"{_flow(key)}: {_flow(value)}" for key, value in node.value) + "}"
    if isinstance(node, yaml.SequenceNode):
        return "[" + ", ".join(_flow(item) for item in node.value) + "]"
    return node.value


def is_empty(node: yaml.Node) -> bool:
    """Nothing, or an empty list: how a key with everything under it commented out reads."""
    return (isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG) or (
        isinstance(node, yaml.SequenceNode) and not node.value)


def read_fields(node: yaml.MappingNode, allowed: tuple[str, ...], where: str) -> tuple[Fields, list[Problem]]:
    """The mapping's entries by key name; unknown and repeated keys are reported and left out."""
    found: Fields = {}
    problems: list[Problem] = []
    for key, value in node.value:
        name = text_of(key)
        if name not in allowed:
            problems.append((line_of(key), f"unknown key {as_written(key)} {where} (allowed: {', '.join(allowed)})"))
        elif name in found:
            problems.append((line_of(key), f"key '{name}' repeated {where} (first on line {line_of(found[name][0])})"))
        else:
            found[name] = (key, value)
    return found, problems


# --- single values -------------------------------------------------------------------------------

def read_owner(node: yaml.Node, name: str) -> tuple[str | None, list[Problem]]:
    text = text_of(node)
    if text is None:
        return None, [(line_of(node), f"{name} owner must be one person or team (got {shown(node)})")]
    if text.startswith("@") and "/" not in text:
        text = text[1:]  # "@alice" is how people write a GitHub login; the login is "alice"
    if not text or text == "group:" or (text.startswith("@") and not _TEAM_RE.fullmatch(text)):
        return None, [(line_of(node), f"{name} owner {as_written(node)} names no one "
                                      "(expected a login, @org/team or group:<name>)")]
    return text, []


_ACCEPT_RE = re.compile(r"[A-Za-z0-9*?][A-Za-z0-9_.*?-]*(/[A-Za-z0-9_.*?-]+)?")


def read_accept_labels_from(node: yaml.Node, name: str) -> tuple[tuple[str, ...], list[Problem]]:
    """`accept_labels_from: [owner, owner/repo, PROJECT]`: where else an okr label may attach work from."""
    if not isinstance(node, yaml.SequenceNode):
        return (), [(line_of(node), f"{name} accept_labels_from must be a list of GitHub owners, owner/repo "
                                    f"or Jira project keys (got {shown(node)})")]
    accepted, problems = [], []
    for item in node.value:
        text = text_of(item)
        if text is None or not _ACCEPT_RE.fullmatch(text):
            problems.append((line_of(item), f"{name} accept_labels_from: {as_written(item)} is not a GitHub "
                                            "owner, owner/repo or Jira project key"))
        else:
            accepted.append(text)
    return tuple(accepted), problems


def read_positive(node: yaml.Node, field: str, name: str) -> tuple[float | None, list[Problem]]:
    # The tag check keeps booleans out: yes/true resolve to bool, which Python counts as an int.
    number = scalar_value(node) if node.tag in _NUMBER_TAGS else None
    try:
        number = float(number) if isinstance(number, int | float) else math.nan
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        return None, [(line_of(node), f"{name} {field} must be a number > 0 (got {shown(node)})")]
    return number, []


def read_measure(node: yaml.Node, name: str) -> tuple[str, list[Problem]]:
    text = text_of(node)
    if text not in MEASURES:
        return MEASURES[0], [(line_of(node), f"{name} measure must be count or points (got {shown(node)})")]
    return text, []


def read_date(node: yaml.Node, bound: str) -> tuple[datetime.date | None, list[Problem]]:
    value = scalar_value(node) if node.tag == _TIMESTAMP_TAG else None
    # A timestamp with a time of day is a datetime (a date subclass); a period is whole days.
    if type(value) is not datetime.date:
        return None, [(line_of(node), f"period {bound} must be a date like 2026-10-01 (got {shown(node)})")]
    return value, []


# --- sources -------------------------------------------------------------------------------------

def parse_source(item: yaml.Node, configured_trackers: frozenset[str]) -> tuple[Source | None, list[Problem]]:
    """One `- kind: value` item of `sources:`; the Source is None when the item is malformed."""
    line = line_of(item)
    if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
        return None, [(line, f"a source must be one 'kind: value' pair, kind one of {', '.join(SOURCE_KINDS)}"
                             f" (got {as_written(item)})")]
    key, value = item.value[0]
    kind = text_of(key)
    if kind not in KINDS:
        return None, [(line, f"unknown source kind {as_written(key)} (allowed: {', '.join(SOURCE_KINDS)})")]
    problems = not_configured(KINDS[kind].tracker, f"{kind} source", configured_trackers, line)
    fields = _FIELDS[kind](value)
    if fields is None:
        problems.append((line, f"malformed {kind} {as_written(value)} (expected {EXPECTED[kind]})"))
        return None, problems
    return KINDS[kind](line=line, **fields), problems


def not_configured(tracker: str, what: str, configured_trackers: frozenset[str], line: int) -> list[Problem]:
    """The problem of `what` (e.g. "jira_epic source") naming a tracker that is not configured, if it is not."""
    if tracker in configured_trackers:
        return []
    name, variable = _TRACKER_SETUP[tracker]
    return [(line, f"{what}, but {name} is not configured (set {variable})")]


def github_issue_of(value: yaml.Node) -> tuple[str, int] | None:
    """owner/repo#number as (repo, number); None if the value is not one."""
    match = _ISSUE_RE.fullmatch(text_of(value) or "")
    return (match[1], int(match[2])) if match else None


def jira_key_of(value: yaml.Node) -> str | None:
    """A Jira issue key like PROJ-12; None if the value is not one."""
    key = text_of(value) or ""
    return key if _JIRA_KEY_RE.fullmatch(key) else None


def _github_issue(value: yaml.Node) -> dict | None:
    issue = github_issue_of(value)
    return {"repo": issue[0], "number": issue[1]} if issue else None


def _github_milestone(value: yaml.Node) -> dict | None:
    match = _MILESTONE_RE.fullmatch(text_of(value) or "")
    return {"repo": match[1], "number": int(match[2])} if match else None


def _github_label(value: yaml.Node) -> dict | None:
    fields = _exact_fields(value, ("repo", "label"))
    return fields if fields and _REPO_RE.fullmatch(fields["repo"]) else None


def _jira_epic(value: yaml.Node) -> dict | None:
    key = jira_key_of(value)
    return {"issue_key": key} if key else None


def _jira_label(value: yaml.Node) -> dict | None:
    fields = _exact_fields(value, ("project", "label"))
    return fields if fields and _JIRA_PROJECT_RE.fullmatch(fields["project"]) else None


def _exact_fields(value: yaml.Node, keys: tuple[str, ...]) -> dict[str, str] | None:
    """The mapping's texts by key if it has exactly these keys, each with a non-empty value."""
    if not isinstance(value, yaml.MappingNode) or len(value.value) != len(keys):
        return None
    fields = {text_of(key): text_of(item) for key, item in value.value}
    if set(fields) != set(keys) or not all(fields.values()):
        return None
    return fields


_FIELDS = {
    "github_issue": _github_issue, "github_milestone": _github_milestone, "github_label": _github_label,
    "jira_epic": _jira_epic, "jira_label": _jira_label,
}
