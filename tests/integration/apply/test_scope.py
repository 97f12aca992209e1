"""Whose deliveries count: with OKRBOT_GITHUB_ALLOWED / OKRBOT_JIRA_ALLOWED_SITES set, a delivery from
anywhere else is answered 202, stored, marked `ignored` with the reason, and never applied, for every
event kind okrbot handles; the same delivery from an allowed place is applied (the control)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import func, select

from integration.cli.main import main
from integration.config import ConfigError, load_settings
from integration.summaries.models import SummaryPost
from integration.trackers.models import AppInstallation, GithubInstallation
from integration.web.app import create_app
from integration.writeback.models import OutboxEntry
from mappings.models import KeyResult, KeyResultEvent, Membership, WorkItem
from tests.conftest import FIXTURES, GITHUB_SECRET, JIRA_SECRET, as_body, drain, github_headers, jira_headers
from webhooks import github, jira
from webhooks.models import IGNORED, PROCESSED, Delivery

HANDMADE = Path(__file__).resolve().parents[2] / "webhooks" / "fixtures"
# Every used GitHub event kind, as the real (octokit) bodies show it; sub_issues from the hand-made bodies.
GITHUB_KINDS = sorted(
    [(p.parent.name, f"github/{p.parent.name}/{p.name}")
     for kind in ("issues", "issue_comment", "milestone", "installation", "installation_repositories")
     for p in (FIXTURES / "github" / kind).glob("*.json")]
    + [("sub_issues", p.name) for p in HANDMADE.glob("sub_issues__*.handmade.json")])
JIRA_KINDS = sorted(f"jira/{p.parent.name}/{p.name}" for p in (FIXTURES / "jira").glob("*/*.json"))


@pytest.fixture
def database_url(tmp_path):
    """The per-kind tests run on SQLite (hundreds of them); `test_every_kind_at_once_on_both_databases` on both."""
    return f"sqlite:///{tmp_path / 'okrbot.db'}"


@pytest.fixture
def allowed(make_runtime, settings):
    """Allowed: only `acme` on GitHub and acme.atlassian.net on Jira; the fixtures come from elsewhere."""
    def make(github=("acme",), jira=("acme.atlassian.net",)):
        rt = make_runtime(settings.with_overrides(github_token="ghp_not_real", github_allowed=github,
                                                  jira_allowed_sites=jira, write_delay=0))
        return rt, create_app(rt.settings, runtime=rt).test_client()
    return make


def _counts(rt) -> dict[str, int]:
    with rt.sessions() as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (WorkItem, KeyResult, Membership, KeyResultEvent, OutboxEntry, SummaryPost,
                              AppInstallation, GithubInstallation)}


def _deliveries(rt) -> list[tuple[str, str | None]]:
    with rt.sessions() as s:
        return [(d.status, d.last_error) for d in s.scalars(select(Delivery).order_by(Delivery.id))]


def _post_github(client, event: str, fixture: str):
    body = as_body(fixture)
    return client.post("/webhooks/github", data=body, headers=github_headers(body, event))


@pytest.mark.parametrize(("event", "fixture"), GITHUB_KINDS, ids=[f for _e, f in GITHUB_KINDS])
def test_github_delivery_from_elsewhere_is_stored_marked_and_never_applied(allowed, event, fixture):
    rt, client = allowed()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:  # nothing registered: no call passes
        response = _post_github(client, event, fixture)
        assert response.status_code == 202, response.get_json()
        drain(rt)
        assert len(api.calls) == 0  # no read, no write sent
    origin = github.origin_of(json.loads(as_body(fixture)))
    assert _deliveries(rt) == [(IGNORED, f"out of scope: {origin.repo or origin.owner} is not in "
                                         "OKRBOT_GITHUB_ALLOWED")]
    assert set(_counts(rt).values()) == {0}


@pytest.mark.parametrize(("event", "fixture"), GITHUB_KINDS, ids=[f for _e, f in GITHUB_KINDS])
def test_github_delivery_from_an_allowed_owner_is_applied(allowed, event, fixture):
    owner = github.origin_of(json.loads(as_body(fixture))).owner
    rt, client = allowed(github=(owner.lower(),))  # lower case here, as written in the bodies: GitHub ignores case
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        assert _post_github(client, event, fixture).status_code == 202
        drain(rt)
    assert [status for status, _ in _deliveries(rt)] == [PROCESSED]
    counts = _counts(rt)
    parsed = github.parse(event, json.loads(as_body(fixture)), rt.github_options)
    items = {e.item.key for e in parsed.events if getattr(e, "item", None) is not None and e.kind != "deleted"}
    if items:  # the pull request bodies (milestoned) carry none
        with rt.sessions() as s:
            assert set(s.scalars(select(WorkItem.key))) >= items
    if event.startswith("installation"):
        assert counts["app_installations"] + counts["github_installations"] >= 1


@pytest.mark.parametrize("fixture", JIRA_KINDS)
def test_jira_delivery_from_another_site_is_stored_marked_and_never_applied(allowed, fixture):
    rt, client = allowed()
    body = as_body(fixture)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        response = client.post("/webhooks/jira", data=body, headers=jira_headers(body))
        assert response.status_code == 202, response.get_json()
        drain(rt)
        assert len(api.calls) == 0
    site = jira.origin_of(json.loads(body)).site
    assert site and _deliveries(rt) == [(IGNORED, f"out of scope: {site} is not in OKRBOT_JIRA_ALLOWED_SITES")]
    assert set(_counts(rt).values()) == {0}


@pytest.mark.parametrize("fixture", JIRA_KINDS)
def test_jira_delivery_from_an_allowed_site_is_applied(allowed, fixture):
    site = jira.origin_of(json.loads(as_body(fixture))).site
    rt, client = allowed(jira=(site,))
    body = as_body(fixture)
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        assert client.post("/webhooks/jira", data=body, headers=jira_headers(body)).status_code == 202
        drain(rt)
    assert [status for status, _ in _deliveries(rt)] == [PROCESSED]


@pytest.mark.parametrize("url", ["sqlite", "postgresql"])
def test_every_kind_at_once_on_both_databases(request, url, tmp_path, make_runtime, settings):
    database = f"sqlite:///{tmp_path / 'all.db'}" if url == "sqlite" else request.getfixturevalue("postgres_url")
    rt = make_runtime(settings.with_overrides(database_url=database, github_token="ghp_not_real",
                                              github_allowed=("acme",), jira_allowed_sites=("acme.atlassian.net",)))
    client = create_app(rt.settings, runtime=rt).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        for event, fixture in GITHUB_KINDS:
            assert _post_github(client, event, fixture).status_code == 202
        for fixture in JIRA_KINDS:
            body = as_body(fixture)
            assert client.post("/webhooks/jira", data=body, headers=jira_headers(body)).status_code == 202
        drain(rt)
        assert len(api.calls) == 0
    rows = _deliveries(rt)
    assert len(rows) == len(GITHUB_KINDS) + len(JIRA_KINDS)
    assert {status for status, _ in rows} == {IGNORED} and all(why.startswith("out of scope: ") for _, why in rows)
    assert set(_counts(rt).values()) == {0}


@pytest.mark.parametrize("fixture", sorted(f"github/{p.parent.name}/{p.name}" for kind in ("label", "repository")
                                           for p in (FIXTURES / "github" / kind).glob("*.json")))
def test_events_okrbot_does_not_use_are_answered_204_and_not_stored_in_or_out_of_scope(allowed, fixture):
    rt, client = allowed()
    assert _post_github(client, fixture.split("/")[1], fixture).status_code == 204
    drain(rt)
    assert _deliveries(rt) == [] and set(_counts(rt).values()) == {0}


def test_the_ignored_reason_is_shown_by_okrbot_deliveries(database_url, tmp_path, make_runtime, settings):
    env = {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
           "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
           "OKRBOT_GITHUB_ALLOWED": "acme"}
    rt = make_runtime(load_settings(env))
    client = create_app(rt.settings, runtime=rt).test_client()
    assert _post_github(client, "issues", "github/issues/octokit-webhooks__opened.payload.json").status_code == 202
    drain(rt)
    out = CliRunner().invoke(main, ["deliveries"], env=env, catch_exceptions=False).output.splitlines()
    assert out[0].endswith("STATUS     TRIES  ERROR / REASON")
    assert re.search(r"issues\.opened\s+ignored\s+0  out of scope: Codertocat/Hello-World is not in "
                     r"OKRBOT_GITHUB_ALLOWED$", out[1]), out
    failed = CliRunner().invoke(main, ["deliveries", "--failed"], env=env, catch_exceptions=False).output
    assert failed == "no failed deliveries\n"
    ignored = CliRunner().invoke(main, ["deliveries", "--ignored"], env=env, catch_exceptions=False).output
    assert "ignored" in ignored.splitlines()[1]


def test_settings_fold_case_and_normalise_jira_sites():
    settings = load_settings({"OKRBOT_GITHUB_ALLOWED": "Acme, acme-labs/Web-*",
                              "OKRBOT_JIRA_ALLOWED_SITES": "https://Acme.atlassian.net/, http://jira.example.com:8080,"
                                                           " http://jira.example.org:80"})
    assert settings.github_allowed == ("acme", "acme-labs/web-*")
    assert settings.jira_allowed_sites == ("acme.atlassian.net", "jira.example.com:8080", "jira.example.org")
    scope = settings.scope
    assert scope.allows_repo("ACME/anything") and scope.allows_repo("acme-labs/web-app")
    assert not scope.allows_repo("acme-labs/api") and not scope.allows_repo("acmex/web")
    assert scope.allows_owner("acme-labs") and not scope.allows_owner("evil")
    assert scope.allows_site("jira.example.com:8080") and not scope.allows_site("jira.example.com")
    with pytest.raises(ConfigError, match="OKRBOT_JIRA_ALLOWED_SITES: 'ftp://x' is not a Jira base URL"):
        load_settings({"OKRBOT_JIRA_ALLOWED_SITES": "ftp://x"})
    with pytest.raises(ConfigError, match="OKRBOT_GITHUB_ALLOWED: 'a b' is not an owner or owner/repo"):
        load_settings({"OKRBOT_GITHUB_ALLOWED": "a b"})


def test_an_open_scope_is_warned_about_at_start_naming_both_settings(rt, caplog, settings):
    with caplog.at_level(logging.WARNING, logger="okrbot.config"):
        create_app(rt.settings, runtime=rt)
    [line] = [r.getMessage() for r in caplog.records if "ALLOWED" in r.getMessage()]
    assert "OKRBOT_GITHUB_ALLOWED" in line and "OKRBOT_JIRA_ALLOWED_SITES" in line
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="okrbot.config"):
        create_app(rt.settings.with_overrides(github_allowed=("acme",)), runtime=rt)
    assert not [r for r in caplog.records if "ALLOWED" in r.getMessage()]
