"""Mapping rules: which tracker items are objectives, key results and the work under them.

Two ways at once: conventions in the tracker (labels, issue types, sub-issues, epics, `okr:` labels)
and `okrs.yml` (milestone, label, issue and epic sources). Pure: a `MappingIndex` is built once per
mapping file and answers lookups without the database.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .okrs_file import KeyResultSpec, MappingFile


@dataclass(frozen=True)
class Conventions:
    kr_label: str = "key-result"
    objective_label: str = "objective"
    kr_type: str = "Key Result"  # GitHub issue type
    objective_type: str = "Objective"  # GitHub issue type and Jira issue type


def kr_id_for_anchor(key: str) -> str:
    """A stable id usable in a URL: github:acme/web#12 → gh-acme-web-12, jira:host/PROJ-7 → jira-proj-7."""
    tracker, _, rest = key.partition(":")
    if tracker == "jira":
        rest = rest.split("/", 1)[1]
    slug = re.sub(r"[^a-z0-9]+", "-", rest.lower()).strip("-")
    return f"{'gh' if tracker == 'github' else 'jira'}-{slug}"


def issue_key_of(work_item_key: str) -> str:
    """jira:host/PROJ-7 → PROJ-7 (file sources name Jira issues without their site)."""
    return work_item_key.rsplit("/", 1)[-1]


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
    """okrs.yml as lookups: anchor → key result, milestone → key results, (repo, label) → ..."""

    mapping: MappingFile | None = None
    anchors: dict[str, str] = field(default_factory=dict)  # github:acme/web#12 → kr id
    jira_epics: dict[str, str] = field(default_factory=dict)  # PROJ-12 → kr id
    milestones: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    github_labels: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    jira_labels: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def build(cls, mapping: MappingFile | None) -> MappingIndex:
        index = cls(mapping=mapping)
        for kr in mapping.key_results() if mapping else ():
            for source in kr.sources:
                index._add(kr.id, source)
        return index

    def _add(self, kr_id: str, source) -> None:
        if source.kind == "github_issue":
            self.anchors[f"github:{source.repo}#{source.number}".lower()] = kr_id
        elif source.kind == "jira_epic":
            self.jira_epics[source.issue_key.upper()] = kr_id
        elif source.kind == "github_milestone":
            self.milestones[f"{source.repo}/{source.number}".lower()].add(kr_id)
        elif source.kind == "github_label":
            self.github_labels[(source.repo.lower(), source.label.lower())].add(kr_id)
        elif source.kind == "jira_label":
            self.jira_labels[(source.project.upper(), source.label.lower())].add(kr_id)

    def file_kr_for_anchor(self, key: str) -> str | None:
        if key.startswith("jira:"):
            return self.jira_epics.get(issue_key_of(key).upper())
        return self.anchors.get(key.lower())

    def spec(self, kr_id: str) -> KeyResultSpec | None:
        return self.mapping.key_result(kr_id) if self.mapping else None

    def period(self) -> tuple[date, date] | None:
        return (self.mapping.period_start, self.mapping.period_end) if self.mapping else None

    def source_memberships(self, tracker: str, container: str, milestone: str | None,
                           labels: list[str]) -> dict[str, str]:
        """Key results a work item counts toward through milestone and label sources."""
        found: dict[str, str] = {}
        if tracker == "github":
            for kr_id in self.milestones.get((milestone or "").lower(), ()):
                found[kr_id] = "milestone"
            for label in labels:
                for kr_id in self.github_labels.get((container.lower(), label.lower()), ()):
                    found.setdefault(kr_id, "label source")
        else:
            project = container.rsplit("/", 1)[-1].upper()
            for label in labels:
                for kr_id in self.jira_labels.get((project, label.lower()), ()):
                    found.setdefault(kr_id, "label source")
        return found
