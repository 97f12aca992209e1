"""Each kind of source: what it is called, what stands for it, and which work items it matches."""

from __future__ import annotations

import pytest

from mappings.keys import WorkItemKey
from mappings.sources import (
    KINDS,
    GithubIssue,
    GithubLabel,
    GithubMilestone,
    ItemFacts,
    JiraEpic,
    JiraLabel,
    anchor_source,
)

GITHUB_ITEM = ItemFacts("github", "Acme/Web", "Acme/Web/3", ("Growth", "bug"))
JIRA_ITEM = ItemFacts("jira", "example.atlassian.net/OPS", None, ("Customer-Bug",))


@pytest.mark.parametrize(("source", "item"), [
    (GithubMilestone("acme/web", 3), GITHUB_ITEM),
    (GithubLabel("acme/WEB", "growth"), GITHUB_ITEM),
    (JiraLabel("OPS", "customer-bug"), JIRA_ITEM),
])
def test_a_query_source_matches_the_items_it_names_whatever_the_case(source, item):
    assert source.match_key() in type(source).matches(item)


@pytest.mark.parametrize(("source", "item"), [
    (GithubMilestone("acme/web", 4), GITHUB_ITEM),
    (GithubLabel("acme/api", "growth"), GITHUB_ITEM),
    (GithubLabel("acme/web", "customer-bug"), JIRA_ITEM),
    (JiraLabel("OPS", "growth"), GITHUB_ITEM),
    (JiraLabel("PROJ", "customer-bug"), JIRA_ITEM),
])
def test_a_query_source_does_not_match_other_items(source, item):
    assert source.match_key() not in type(source).matches(item)


def test_anchors_and_what_reconcile_reads():
    assert [(s.kind, s.anchor, s.address) for s in (GithubIssue("Acme/Web", 12), JiraEpic("PROJ-12"),
                                                     GithubMilestone("acme/web", 3), GithubLabel("acme/web", "g"),
                                                     JiraLabel("PROJ", "g"))] == [
        ("github_issue", WorkItemKey.github("acme/web", 12), "github:Acme/Web#12"),
        ("jira_epic", WorkItemKey.jira(None, "PROJ-12"), "PROJ-12"),
        ("github_milestone", None, "acme/web/3"),
        ("github_label", None, "acme/web:g"),
        ("jira_label", None, "PROJ:g"),
    ]


def test_the_same_work_in_another_case_is_one_source():
    assert GithubIssue("Acme/Web", 1).identity() == GithubIssue("acme/web", 1, line=9).identity()
    assert GithubLabel("Acme/Web", "Growth").identity() == GithubLabel("acme/web", "growth").identity()
    assert GithubIssue("acme/web", 1).identity() != GithubMilestone("acme/web", 1).identity()


def test_a_convention_anchor_is_a_source_of_its_kind():
    assert anchor_source(WorkItemKey.parse("github:Acme/Web#12")) == GithubIssue("Acme/Web", 12)
    assert anchor_source(WorkItemKey.parse("jira:example.atlassian.net/PROJ-7")) == JiraEpic("PROJ-7")
    assert list(KINDS) == ["github_issue", "github_milestone", "github_label", "jira_epic", "jira_label"]
