"""WorkItemKey: parsing, formatting, and comparing as the trackers do."""

from __future__ import annotations

import pytest

from mappings.keys import WorkItemKey


def test_a_github_key_keeps_its_spelling_and_compares_without_case():
    key = WorkItemKey.parse("github:Codertocat/Hello-World#1")
    assert (key.tracker, key.repo, key.number) == ("github", "Codertocat/Hello-World", 1)
    assert str(key) == "github:Codertocat/Hello-World#1"
    assert key == WorkItemKey.parse("github:codertocat/hello-world#1")
    assert hash(key) == hash(WorkItemKey.github("CODERTOCAT/hello-WORLD", 1))
    assert key != WorkItemKey.parse("github:Codertocat/Hello-World#2")
    assert (key.folded, key.container, key.short) == ("github:codertocat/hello-world#1", "codertocat/hello-world",
                                                      "Codertocat/Hello-World#1")


def test_repository_names_with_dots_and_underscores_parse():
    assert WorkItemKey.parse("github:octo-org/octo.repo_2#1347").repo == "octo-org/octo.repo_2"


def test_a_jira_key_is_upper_case_and_its_site_lower_case():
    key = WorkItemKey.parse("jira:Example.atlassian.net/proj-7")
    assert str(key) == "jira:example.atlassian.net/PROJ-7"
    assert (key.site, key.issue_key, key.container) == ("example.atlassian.net", "PROJ-7",
                                                        "example.atlassian.net/proj")


def test_a_jira_key_of_any_site_is_what_okrs_yml_names():
    key = WorkItemKey.jira(None, "OPS-100")
    assert (str(key), key.site) == ("jira:*/OPS-100", None)
    assert WorkItemKey.parse("jira:*/OPS-100") == key
    assert WorkItemKey.parse("jira:example.atlassian.net/OPS-100").any_site() == key
    assert WorkItemKey.parse("jira:example.atlassian.net/OPS-100") != key


@pytest.mark.parametrize(("key", "kr_id"), [("github:acme/web#12", "gh-acme-web-12"),
                                            ("github:Codertocat/Hello-World#1", "gh-codertocat-hello-world-1"),
                                            ("jira:example.atlassian.net/PROJ-7", "jira-proj-7")])
def test_the_id_of_what_a_key_anchors(key, kr_id):
    assert WorkItemKey.parse(key).kr_id == kr_id


@pytest.mark.parametrize("text", ["github:Codertocat#1", "github:a/b/c#1", "github:a/b#0", "github:a/b#x",
                                  "github:a/b#1 ", "github:a/b", "jira:host/PROJ", "jira:host/7-PROJ",
                                  "jira:PROJ-1", "gitlab:a/b#1", ""])
def test_what_is_not_a_key_is_refused_by_name(text):
    with pytest.raises(ValueError) as caught:
        WorkItemKey.parse(text)
    assert str(caught.value) == f"not a work-item key: {text!r}"


def test_a_github_key_has_no_site_and_a_jira_key_no_repository():
    with pytest.raises(ValueError) as caught:
        _ = WorkItemKey.parse("jira:host/PROJ-1").repo
    assert str(caught.value) == "jira:host/PROJ-1 is not a GitHub issue"
    assert WorkItemKey.parse("github:a/b#1").site is None
