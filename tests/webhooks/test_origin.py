"""Where a delivery comes from, as the pure parsers read it from the real bodies (`Parsed.origin`)."""

from __future__ import annotations

import pytest

from core.events import Origin
from tests.conftest import load_fixture
from webhooks import github, jira


@pytest.mark.parametrize(("fixture", "origin"), [
    ("github/issues/octokit-webhooks__opened.payload.json", Origin("github", "Codertocat", "Codertocat/Hello-World")),
    ("github/issue_comment/octokit-webhooks__created.payload.json",
     Origin("github", "Codertocat", "Codertocat/Hello-World")),
    ("github/installation/octokit-webhooks__deleted.payload.json", Origin("github", "octocat")),  # the account
])
def test_github_origin(fixture, origin):
    payload = load_fixture(fixture)
    assert github.origin_of(payload) == origin
    parsed = github.parse(fixture.split("/")[1], payload, github.GithubOptions(r"^points:\s*(\d+)$"))
    assert parsed.origin == origin


def test_github_origin_from_the_issue_when_the_body_names_no_repository():
    payload = load_fixture("github/issues/octokit-webhooks__opened.payload.json")
    del payload["repository"]
    assert github.origin_of(payload) == Origin("github", "Codertocat", "Codertocat/Hello-World")
    assert github.origin_of({}) == Origin("github")  # names nothing: out of any set scope


@pytest.mark.parametrize(("fixture", "site"), [
    ("jira/issue_created/mattermost-plugin-jira__webhook-issue-created.json", "some-instance-test.atlassian.net"),
    ("jira/comment_deleted/mattermost-plugin-jira__webhook-cloud-comment-deleted.json", "mmtest.atlassian.net"),
    ("jira/comment_created/mattermost-plugin-jira__webhook-server-comment-created.json",
     "sales-jira.centralus.cloudapp.azure.com:8080"),  # Server: a non-default port is part of the site
])
def test_jira_origin(fixture, site):
    assert jira.origin_of(load_fixture(fixture)) == Origin("jira", site=site)


def test_jira_origin_from_base_url_and_site_host_normalised():
    assert jira.origin_of({"webhookEvent": "x", "baseUrl": "https://Acme.atlassian.net/"}) == \
        Origin("jira", site="acme.atlassian.net")
    assert jira.origin_of({"webhookEvent": "x"}) == Origin("jira")
    assert jira.site_host("http://jira.example.com:80") == jira.site_host("https://jira.example.com") == \
        "jira.example.com"
    assert jira.site_host("https://jira.example.com:8443/jira") == "jira.example.com:8443"
