"""okrs.yml: the period, the objectives and their key results, where each key result's work comes from,
and where the weekly summary goes and when reminders are sent (read by `okrs_schedule`).

Pure: text (or a file) in, frozen dataclasses out; no database, no Flask. The YAML is composed into
nodes and walked by hand rather than loaded, so that every error names its line, and the walk goes
on after an error so that `okrbot check` shows every problem in one run, sorted by line.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import yaml

from .okrs_schedule import Reminders, SummaryTargetSpec, read_bool, read_reminders, read_summaries
from .okrs_sources import (
    MEASURES,
    NULL_TAG,
    Fields,
    Problem,
    as_written,
    is_empty,
    line_of,
    parse_source,
    read_accept_labels_from,
    read_date,
    read_fields,
    read_measure,
    read_owner,
    read_positive,
    shown,
    text_of,
)
from .progress import is_team
from .sources import Source

_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_TOP_KEYS = ("period", "objectives", "summaries", "reminders")
_PERIOD_KEYS = ("start", "end")
_OBJECTIVE_KEYS = ("id", "title", "key_results", "reminders")
_KR_KEYS = ("id", "title", "owner", "weight", "measure", "target", "sources", "accept_labels_from")
_PERIOD_HINT = "give both, or remove period: for the current quarter"

T = TypeVar("T")


class MappingFileError(Exception):
    """okrs.yml cannot be used. `errors` are "FILE:LINE: reason" lines, sorted by line."""

    def __init__(self, errors: str | Iterable[str]):
        self.errors: tuple[str, ...] = (errors,) if isinstance(errors, str) else tuple(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class KeyResultSpec:
    id: str
    title: str
    objective_id: str
    owner: str | None  # a person, or a team ("@org/team", "group:<name>"): see progress.is_team
    weight: float | None
    measure: str  # one of MEASURES
    target: float | None
    sources: tuple[Source, ...]
    line: int
    accept_labels_from: tuple[str, ...] = ()  # where else okr labels may attach work from (mappings.scope)


@dataclass(frozen=True)
class ObjectiveSpec:
    id: str
    title: str
    key_results: tuple[KeyResultSpec, ...]
    line: int
    reminders: bool = True  # False: no check-in reminders on its key results


@dataclass(frozen=True)
class MappingFile:
    path: str
    period_start: datetime.date
    period_end: datetime.date  # inclusive
    objectives: tuple[ObjectiveSpec, ...]
    summaries: tuple[SummaryTargetSpec, ...] = ()
    reminders: Reminders = Reminders()

    def key_results(self) -> tuple[KeyResultSpec, ...]:
        return tuple(kr for objective in self.objectives for kr in objective.key_results)

    def key_result(self, kr_id: str) -> KeyResultSpec | None:
        return next((kr for kr in self.key_results() if kr.id == kr_id), None)


def current_quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = datetime.date(today.year, first_month, 1)
    if first_month == 10:
        next_start = datetime.date(today.year + 1, 1, 1)
    else:
        next_start = datetime.date(today.year, first_month + 3, 1)
    return start, next_start - datetime.timedelta(days=1)


def load_mapping(path: str | os.PathLike, configured_trackers: frozenset[str], today: datetime.date) -> MappingFile:
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise MappingFileError(f"{name}:0: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise MappingFileError(f"{name}:0: cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return parse_mapping(text, name, configured_trackers, today)


def parse_mapping(text: str, path: str, configured_trackers: frozenset[str], today: datetime.date) -> MappingFile:
    """The mapping in `text`; raises MappingFileError with every error found, `path` naming the file."""
    state = _Parse(configured_trackers)
    root = _compose(text, state)
    mapping = _mapping_file(root, path, today, state) if root is not None else None
    if state.problems or mapping is None:
        problems = sorted(state.problems, key=lambda problem: problem[0])  # stable: same line keeps order
        raise MappingFileError(f"{path}:{line}: {reason}" for line, reason in problems)
    return mapping


def describe_mapping(mapping: MappingFile) -> list[str]:
    """What `okrbot check` prints: the period, each objective, key result and source, the summaries, reminders."""
    days = (mapping.period_end - mapping.period_start).days + 1
    lines = [f"period {mapping.period_start} – {mapping.period_end} ({days} day{'s' if days != 1 else ''})"]
    for objective in mapping.objectives:
        lines.append(f"objective {objective.id}: {objective.title}{'' if objective.reminders else ' (no reminders)'}")
        for kr in objective.key_results:
            lines.append(f"  key result {kr.id}: {kr.title} — {', '.join(_kr_facts(kr))}")
            lines.extend(f"    ← {source.describe()}" for source in kr.sources)
    lines.extend(f"summary → {target.describe()}" for target in mapping.summaries)
    lines.append(mapping.reminders.describe())
    return lines


def _kr_facts(kr: KeyResultSpec) -> list[str]:
    facts = [_owner_fact(kr), f"measure {kr.measure}"]
    if kr.target is not None:
        facts.append(f"target {_number(kr.target)}")
    if kr.weight is not None:
        facts.append(f"weight {_number(kr.weight)}")
    if kr.accept_labels_from:
        facts.append(f"okr labels also from {', '.join(kr.accept_labels_from)}")
    return facts


def _owner_fact(kr: KeyResultSpec) -> str:
    if kr.owner is None:
        # Milestones and labels have no assignee, so only an issue or epic anchor can supply the owner.
        if any(source.anchor for source in kr.sources):
            return "owner: none (assign the anchor issue or set owner:)"
        return "owner: none (set owner:)"
    if is_team(kr.owner):
        return f"owner: team {kr.owner} (name one person)"
    return f"owner {kr.owner}"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


class _Parse:
    """One parse's working state: the problems so far, and where each id and source was first seen."""

    def __init__(self, configured_trackers: frozenset[str]):
        self.trackers = configured_trackers
        self.problems: list[Problem] = []
        self.ids: dict[str, int] = {}
        self.objective_ids: set[str] = set()
        self.sources: dict[tuple, int] = {}

    def error(self, at: yaml.Node | int, reason: str) -> None:
        self.problems.append((at if isinstance(at, int) else line_of(at), reason))

    def take(self, result: tuple[T, list[Problem]]) -> T:
        """The value a reader of okrs_sources found; its problems are kept."""
        value, problems = result
        self.problems.extend(problems)
        return value

    def read(self, fields: Fields, key: str, reader: Callable[..., tuple[T, list[Problem]]], *args) -> T | None:
        """An optional value: None when the key is absent."""
        return self.take(reader(fields[key][1], *args)) if key in fields else None

    def define_id(self, node: yaml.Node, new_id: str) -> None:
        if new_id in self.ids:
            self.error(node, f"duplicate id '{new_id}' (first defined on line {self.ids[new_id]})")
        else:
            self.ids[new_id] = line_of(node)

    def use_source(self, source: Source, kr_name: str) -> None:
        # An issue or epic anchors one key result only; a milestone or label may feed several, once each.
        identity = source.identity()
        scoped = identity if source.anchor else (kr_name, identity)
        if scoped in self.sources:
            first = self.sources[scoped]
            self.error(source.line, f"duplicate source: {source.describe()} (first used on line {first})")
        else:
            self.sources[scoped] = source.line


def _compose(text: str, state: _Parse) -> yaml.Node | None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        state.error(mark.line + 1 if mark else 0, f"invalid YAML: {exc.problem or exc.context}")
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        state.error(line, f"invalid YAML: {exc.reason} (character #x{exc.character:04x})")
        return None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == NULL_TAG):
        state.error(1, "the file is empty (expected objectives:, and optionally period:)")
        return None
    return root


def _mapping_file(root: yaml.Node, path: str, today: datetime.date, state: _Parse) -> MappingFile | None:
    if not isinstance(root, yaml.MappingNode):
        state.error(root, f"the top level must be a mapping with objectives: (got {shown(root)})")
        return None
    fields = _fields(root, _TOP_KEYS, "at the top level", state)
    period = _period(fields.get("period"), today, state)
    objectives = _objectives(fields.get("objectives"), root, state)
    summaries = state.read(fields, "summaries", read_summaries, state.trackers, state.objective_ids) or ()
    reminders = state.read(fields, "reminders", read_reminders) if "reminders" in fields else Reminders()
    if period is None or objectives is None or reminders is None:
        return None
    return MappingFile(path=path, period_start=period[0], period_end=period[1], objectives=objectives,
                       summaries=summaries, reminders=reminders)


def _fields(node: yaml.MappingNode, allowed: tuple[str, ...], where: str, state: _Parse) -> Fields:
    return state.take(read_fields(node, allowed, where))


def _name(node: yaml.MappingNode, kind: str, ordinal: int, within: str = "") -> str:
    """How messages call an objective or key result: by its id when it has one, else by position."""
    for key, value in node.value:
        if text_of(key) == "id" and text_of(value):
            return f"{kind} '{text_of(value)}'"
    return f"{kind} #{ordinal}{within}"


# --- period --------------------------------------------------------------------------------------

def _period(entry: tuple[yaml.Node, yaml.Node] | None, today: datetime.date,
            state: _Parse) -> tuple[datetime.date, datetime.date] | None:
    if entry is None:
        return current_quarter(today)
    key, node = entry
    if isinstance(node, yaml.MappingNode):
        fields = _fields(node, _PERIOD_KEYS, "in period", state)
    elif is_empty(node):
        fields = {}
    else:
        state.error(node, f"period must be a mapping with start: and end: (got {shown(node)})")
        return None
    if "start" not in fields or "end" not in fields:
        state.error(key, _missing_bound(fields))
        return None
    start = state.take(read_date(fields["start"][1], "start"))
    end = state.take(read_date(fields["end"][1], "end"))
    if start is None or end is None:
        return None
    if end < start:
        state.error(fields["end"][1], f"period ends ({end}) before it starts ({start})")
        return None
    return start, end


def _missing_bound(fields: Fields) -> str:
    if "start" in fields:
        return f"period has a start but no end ({_PERIOD_HINT})"
    if "end" in fields:
        return f"period has an end but no start ({_PERIOD_HINT})"
    return f"period has no start and no end ({_PERIOD_HINT})"


# --- objectives ----------------------------------------------------------------------------------

def _objectives(entry: tuple[yaml.Node, yaml.Node] | None, root: yaml.Node,
                state: _Parse) -> tuple[ObjectiveSpec, ...] | None:
    if entry is None:
        return ()  # a file of only summaries: and/or period: is valid (issue 13): it configures, maps nothing
    key, node = entry
    if is_empty(node):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        state.error(node, f"objectives must be a list (got {shown(node)})")
        return None
    objectives = [_objective(item, ordinal, state) for ordinal, item in enumerate(node.value, 1)]
    return None if None in objectives else tuple(objectives)


def _objective(node: yaml.Node, ordinal: int, state: _Parse) -> ObjectiveSpec | None:
    if not isinstance(node, yaml.MappingNode):
        state.error(node, f"objective #{ordinal} must be a mapping with id:, title: and key_results: "
                          f"(got {shown(node)})")
        return None
    name = _name(node, "objective", ordinal)
    fields = _fields(node, _OBJECTIVE_KEYS, f"in {name}", state)
    objective_id = _id(fields, node, name, state)
    if objective_id is not None:
        state.objective_ids.add(objective_id)  # a summary target may cover it even when the rest is wrong
    title = _required_text(fields, "title", node, name, state)
    key_results = _key_results(fields, node, name, objective_id or "", state)
    reminders = state.read(fields, "reminders", read_bool, "reminders", name) is not False
    if objective_id is None or title is None or key_results is None:
        return None
    return ObjectiveSpec(id=objective_id, title=title, key_results=key_results, line=line_of(node),
                         reminders=reminders)


def _id(fields: Fields, node: yaml.Node, name: str, state: _Parse) -> str | None:
    if "id" not in fields:
        state.error(node, f"{name} has no id")
        return None
    value = fields["id"][1]
    text = text_of(value)
    if text is None or not _ID_RE.fullmatch(text):
        state.error(value, f"invalid id {as_written(value)} (expected lowercase letters, digits and '-', "
                           "starting with a letter or digit, e.g. grow-adoption)")
        return None
    state.define_id(value, text)
    return text


def _required_text(fields: Fields, key: str, node: yaml.Node, name: str, state: _Parse) -> str | None:
    if key not in fields:
        state.error(node, f"{name} has no {key}")
        return None
    value = fields[key][1]
    text = text_of(value)
    if text is None:
        state.error(value, f"{name} {key} must be non-empty text (got {shown(value)})")
    return text


# --- key results ---------------------------------------------------------------------------------

def _key_results(fields: Fields, node: yaml.Node, objective: str, objective_id: str,
                 state: _Parse) -> tuple[KeyResultSpec, ...] | None:
    key, value = fields.get("key_results", (node, None))
    if value is None or is_empty(value):
        state.error(key, f"{objective} has no key results")
        return None
    if not isinstance(value, yaml.SequenceNode):
        state.error(value, f"{objective} key_results must be a list (got {shown(value)})")
        return None
    within = f" of {objective}"
    krs = [_key_result(item, ordinal, within, objective_id, state) for ordinal, item in enumerate(value.value, 1)]
    return None if None in krs else tuple(krs)


def _key_result(node: yaml.Node, ordinal: int, within: str, objective_id: str,
                state: _Parse) -> KeyResultSpec | None:
    if not isinstance(node, yaml.MappingNode):
        state.error(node, f"key result #{ordinal}{within} must be a mapping with id:, title: and sources: "
                          f"(got {shown(node)})")
        return None
    name = _name(node, "key result", ordinal, within)
    fields = _fields(node, _KR_KEYS, f"in {name}", state)
    kr_id = _id(fields, node, name, state)
    title = _required_text(fields, "title", node, name, state)
    owner = state.read(fields, "owner", read_owner, name)
    weight = state.read(fields, "weight", read_positive, "weight", name)
    measure = state.read(fields, "measure", read_measure, name) or MEASURES[0]
    target = state.read(fields, "target", read_positive, "target", name)
    sources = _sources(fields.get("sources"), node, name, state)
    accepted = state.read(fields, "accept_labels_from", read_accept_labels_from, name) or ()
    if kr_id is None or title is None:
        return None
    return KeyResultSpec(id=kr_id, title=title, objective_id=objective_id, owner=owner, weight=weight,
                         measure=measure, target=target, sources=sources, line=line_of(node),
                         accept_labels_from=accepted)


def _sources(entry: tuple[yaml.Node, yaml.Node] | None, node: yaml.Node, name: str,
             state: _Parse) -> tuple[Source, ...]:
    if entry is None or is_empty(entry[1]):
        state.error(entry[0] if entry else node, f"{name} has no source")
        return ()
    value = entry[1]
    if not isinstance(value, yaml.SequenceNode):
        state.error(value, f"{name} sources must be a list (got {shown(value)})")
        return ()
    sources = []
    for item in value.value:
        source = state.take(parse_source(item, state.trackers))
        if source is not None:
            state.use_source(source, name)
            sources.append(source)
    return tuple(sources)
