"""Mapping rules: which tracker items are objectives, key results and the work under them.

Two ways at once: conventions in the tracker (labels, issue types, sub-issues, epics, `okr:` labels)
and `okrs.yml` (milestone, label, issue and epic sources). Pure: a `MappingIndex` is built once per
mapping file and answers lookups without the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from .keys import WorkItemKey
from .scope import Home, home_of
from .sources import QUERY_KINDS, ItemFacts, MatchKey

if TYPE_CHECKING:
    from .okrs_file import KeyResultSpec, MappingFile


@dataclass(frozen=True)
class Conventions:
    kr_label: str = "key-result"
    objective_label: str = "objective"
    kr_type: str = "Key Result"  # GitHub issue type
    objective_type: str = "Objective"  # GitHub issue type and Jira issue type


def _has_label(labels: list[str], wanted: str) -> bool:
    wanted = wanted.lower()
    return any(label.lower() == wanted for label in labels)


def is_convention_kr(tracker: str, labels: list[str], issue_type: str | None, c: Conventions) -> bool:
    if _has_label(labels, c.kr_label):
        return True
    return tracker == "github" and (issue_type or "").lower() == c.kr_type.lower()


def is_convention_objective(labels: list[str], issue_type: str | None, c: Conventions) -> bool:
    return _has_label(labels, c.objective_label) or (issue_type or "").lower() == c.objective_type.lower()


def okr_label_ids(tracker: str, labels: list[str]) -> list[str]:
    """`okr:<KR id>` on GitHub, `okr-<KR id>` on Jira (Jira labels cannot hold a colon)."""
    prefix = "okr:" if tracker == "github" else "okr-"
    return [label[len(prefix):].strip().lower() for label in labels
            if label.lower().startswith(prefix) and len(label) > len(prefix)]


def okr_label_for(tracker: str, kr_id: str) -> str:
    return f"okr:{kr_id}" if tracker == "github" else f"okr-{kr_id}"


@dataclass
class MappingIndex:
    """okrs.yml as lookups: an anchor → its key result, a source's match key → the key results it feeds."""

    mapping: MappingFile | None = None
    anchors: dict[WorkItemKey, str] = field(default_factory=dict)  # Jira anchors of ANY_SITE
    queries: dict[MatchKey, set[str]] = field(default_factory=lambda: defaultdict(set))
    homes: dict[str, Home] = field(default_factory=dict)  # file key result id → where its okr labels may come from

    @classmethod
    def build(cls, mapping: MappingFile | None) -> MappingIndex:
        index = cls(mapping=mapping)
        for kr in mapping.key_results() if mapping else ():
            index.homes[kr.id] = home_of(kr.sources, kr.accept_labels_from)
            for source in kr.sources:
                if source.anchor is not None:
                    index.anchors[source.anchor] = kr.id
                else:
                    index.queries[source.match_key()].add(kr.id)
        return index

    def file_kr_for_anchor(self, stored_key: str) -> str | None:
        if not self.anchors:
            return None
        key = WorkItemKey.parse(stored_key)
        return self.anchors.get(key) or self.anchors.get(key.any_site())

    def spec(self, kr_id: str) -> KeyResultSpec | None:
        return self.mapping.key_result(kr_id) if self.mapping else None

    def period(self) -> tuple[date, date] | None:
        return (self.mapping.period_start, self.mapping.period_end) if self.mapping else None

    def source_memberships(self, tracker: str, container: str, milestone: str | None,
                           labels: list[str]) -> dict[str, str]:
        """Key results a work item counts toward through milestone and label sources (kr id → via)."""
        facts = ItemFacts(tracker, container, milestone, tuple(labels))
        found: dict[str, str] = {}
        for kind in QUERY_KINDS:
            for match in kind.matches(facts):
                for kr_id in self.queries.get(match, ()):
                    found.setdefault(kr_id, kind.via)
        return found
