"""`okr:<id>` / `okr-<id>` labels attach an item only when it is in scope, and, for a key result of
okrs.yml, only from the key result's own organisation or Jira project, or what `accept_labels_from` names."""

from __future__ import annotations

import textwrap

import pytest

from integration.apply.mapping_sync import sync_mapping_file
from mappings.keys import WorkItemKey
from mappings.okrs_file import MappingFileError, parse_mapping
from mappings.scope import Home, Scope, label_may_attach
from tests.conftest import as_body, drain, github_headers, jira_headers
from tests.payloads import github_issue, github_issues_event, jira_host, jira_issue_event

OKRS = textwrap.dedent("""\
    period:
      start: 2026-10-01
      end: 2026-12-31
    objectives:
      - id: growth
        title: Grow
        key_results:
          - id: launch
            title: Launch milestone
            owner: erin
            sources:
              - github_milestone: Codertocat/Hello-World/7
              - jira_label: {project: PROJ, label: launch}
          - id: shared
            title: Shared with a partner
            owner: erin
            accept_labels_from: [partner, friends/tools, OPS]
            sources:
              - github_milestone: Codertocat/Hello-World/8
    """)


@pytest.fixture
def rt(make_runtime, settings, okrs_path):
    rt = make_runtime(settings.with_overrides(mappings=str(okrs_path)))
    assert sync_mapping_file(rt) is not None
    return rt


@pytest.fixture
def post(client, rt):
    def post(tracker: str, body: dict):
        raw = as_body(body)
        headers = github_headers(raw, "issues") if tracker == "github" else jira_headers(raw)
        assert client.post(f"/webhooks/{tracker}", data=raw, headers=headers).status_code == 202
        drain(rt)
    return post


def members(client, kr_id: str) -> list[str]:
    body = client.get(f"/api/v1/key-results/{kr_id}").get_json()
    return sorted(item["key"] for item in body["work_items"])


def labelled(number: int, repo: str, kr_id: str) -> dict:
    return github_issues_event("labeled", github_issue(number, repo=repo, labels=(f"okr:{kr_id}",),
                                                       updated_at="2026-11-02T10:00:00Z"), repo=repo)


def test_a_label_from_another_organisation_is_not_attached(client, post):
    post("github", labelled(1, "Codertocat/Other-Repo", "launch"))  # same owner, another repository: attached
    post("github", labelled(2, "evil-corp/Hello-World", "launch"))  # another organisation: not attached
    assert members(client, "launch") == ["github:Codertocat/Other-Repo#1"]


def test_with_accept_labels_from_it_is(client, post):
    post("github", labelled(3, "partner/anything", "shared"))  # an owner named
    post("github", labelled(4, "friends/tools", "shared"))  # an owner/repo named
    post("github", labelled(5, "friends/other", "shared"))  # not that repository
    post("github", labelled(6, "evil-corp/x", "shared"))
    assert members(client, "shared") == ["github:friends/tools#4", "github:partner/anything#3"]


def test_jira_labels_follow_the_key_result_project(client, post, rt):
    host = jira_host("cloud")
    post("jira", jira_issue_event("PROJ-5", labels=("okr-launch",), updated="2026-11-02T10:00:00.000+0000"))
    post("jira", jira_issue_event("EVIL-6", labels=("okr-launch",), updated="2026-11-02T10:00:00.000+0000"))
    post("jira", jira_issue_event("OPS-7", labels=("okr-shared",), updated="2026-11-02T10:00:00.000+0000"))
    assert members(client, "launch") == [f"jira:{host}/PROJ-5"]
    assert members(client, "shared") == [f"jira:{host}/OPS-7"]


def test_out_of_scope_items_are_never_attached_by_label(make_runtime, settings, okrs_path, post):
    rt = make_runtime(settings.with_overrides(mappings=str(okrs_path), github_allowed=("codertocat/hello-world",)))
    sync_mapping_file(rt)
    from integration.web.app import create_app

    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    for number, repo in ((1, "Codertocat/Hello-World"), (2, "Codertocat/Other-Repo")):
        raw = as_body(labelled(number, repo, "launch"))
        assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues")).status_code == 202
    drain(rt)
    assert members(client, "launch") == ["github:Codertocat/Hello-World#1"]


def test_the_rule_itself():
    home = Home(frozenset({"acme"}), frozenset({"PROJ"}), ("partner/web-*", "OPS"))
    anywhere, only_acme = Scope(), Scope(github=("acme",))
    assert label_may_attach(anywhere, "github", "ACME/web", home)
    assert label_may_attach(anywhere, "github", "partner/web-app", home)
    assert not label_may_attach(anywhere, "github", "partner/api", home)
    assert not label_may_attach(only_acme, "github", "partner/web-app", home)  # in accept_labels_from, not in scope
    assert label_may_attach(anywhere, "jira", "x.atlassian.net/ops", home)
    assert not label_may_attach(anywhere, "jira", "x.atlassian.net/EVIL", home)
    assert label_may_attach(anywhere, "github", "evil/x", None)  # a tracker key result: scope alone
    assert not label_may_attach(only_acme, "github", "evil/x", None)
    assert WorkItemKey.parse("github:ACME/web#1").container == "acme/web"


def test_accept_labels_from_is_validated_with_file_and_line():
    text = OKRS.replace("accept_labels_from: [partner, friends/tools, OPS]",
                        "accept_labels_from: [partner, 'not a name', {x: 1}]")
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(text, "okrs.yml", frozenset({"github", "jira"}), None)
    assert list(caught.value.errors) == [
        "okrs.yml:17: key result 'shared' accept_labels_from: 'not a name' is not a GitHub owner, owner/repo or "
        "Jira project key",
        "okrs.yml:17: key result 'shared' accept_labels_from: {x: 1} is not a GitHub owner, owner/repo or Jira "
        "project key"]
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(OKRS.replace("[partner, friends/tools, OPS]", "partner"), "okrs.yml",
                      frozenset({"github", "jira"}), None)
    assert list(caught.value.errors) == ["okrs.yml:17: key result 'shared' accept_labels_from must be a list of GitHub "
                                   "owners, owner/repo or Jira project keys (got 'partner')"]
