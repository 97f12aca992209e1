"""The story points field found by name: the pure match on the recorded (jira-ruby) and a hand-made field list,
JiraReader.fields, and resolve_story_points on a runtime (configured wins, errors leave okrbot without points)."""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest
import requests
import responses

from integration.trackers.base import Gone, Transient
from integration.trackers.factory import Readers
from integration.trackers.jira_fields import STORY_POINT_NAMES, resolve_story_points, story_points_field_ids
from integration.trackers.jira_reader import JiraReader
from tests.conftest import FIXTURES

RECORDED = FIXTURES / "api" / "jira" / "jira-ruby" / "field.json"  # Description and Summary only
HANDMADE = Path(__file__).parent / "fixtures" / "jira__field.with_story_points.handmade.json"
CLOUD = "https://example.atlassian.net"
SERVER = "http://localhost:2990/jira"
EMAIL, API_TOKEN, PAT = "bot@example.com", "ATATT3xTestApiToken0000", "NjM4OTk0TestPersonalAccessToken"
# the jira library may write the default port into the URL it sends
CLOUD_FIELDS = re.compile(r"https://example\.atlassian\.net(?::443)?/rest/api/2/field(?:\?.*)?$")
SERVER_FIELDS = re.compile(r"http://localhost:2990/jira/rest/api/2/field(?:\?.*)?$")
# in the hand-made file, "Story point estimate" (customfield_10016) comes before "Story Points" (customfield_10026)
POINTS_IDS = ("customfield_10026", "customfield_10016")


def recorded() -> list[dict]:
    return json.loads(RECORDED.read_text())


def handmade() -> list[dict]:
    return json.loads(HANDMADE.read_text())


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def cloud_settings(settings):
    return settings.with_overrides(jira_url=CLOUD, jira_email=EMAIL, jira_api_token=API_TOKEN)


# --- the pure match -------------------------------------------------------------------------------


def test_the_recorded_field_list_has_no_story_points():
    assert [f["name"] for f in recorded()] == ["Description", "Summary"]
    assert story_points_field_ids(recorded()) == ()


def test_the_handmade_list_is_the_recorded_one_plus_two_story_points_fields():
    fields = handmade()
    assert fields[:2] == recorded()
    assert {f["name"] for f in fields[2:]} == set(STORY_POINT_NAMES)


def test_ids_come_in_the_order_of_the_names_not_of_the_list():
    assert story_points_field_ids(handmade()) == POINTS_IDS


def test_names_match_case_insensitively_and_system_fields_are_ignored():
    fields = [
        {"id": "storypoints", "name": "Story Points", "custom": False},
        {"id": "customfield_3", "name": "STORY POINT ESTIMATE", "custom": True},
        {"id": "customfield_1", "name": "story points", "custom": True},
        {"id": "customfield_2", "name": "Story Points ", "custom": True},
        {"id": "customfield_1", "name": "Story Points", "custom": True},  # listed twice: read once
        {"id": "customfield_4", "name": "Story Points (old)", "custom": True},
        {"name": "Story Points", "custom": True},
        "not a field",
    ]
    assert story_points_field_ids(fields) == ("customfield_1", "customfield_2", "customfield_3")


def test_no_fields_no_ids():
    assert story_points_field_ids([]) == ()


# --- JiraReader.fields ----------------------------------------------------------------------------


def test_fields_is_one_authenticated_get(api):
    api.get(CLOUD_FIELDS, json=handmade())

    assert JiraReader.cloud(CLOUD, EMAIL, API_TOKEN).fields() == handmade()
    assert len(api.calls) == 1
    sent = api.calls[0].request
    assert sent.method == "GET"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()


def test_fields_on_server_sends_the_pat(api):
    api.get(SERVER_FIELDS, json=recorded())

    assert JiraReader.server(SERVER, PAT).fields() == recorded()
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {PAT}"


@pytest.mark.parametrize("answer", [
    {"status": 500, "json": {"errorMessages": ["Internal server error"]}},
    {"body": requests.ConnectionError("connection refused")},
    {"status": 200, "body": "<html>login</html>"},
    {"status": 200, "json": {"not": "a list"}},
], ids=["500", "unreachable", "not-json", "not-a-list"])
def test_fields_errors_are_transient(api, answer):
    api.get(CLOUD_FIELDS, **answer)

    with pytest.raises(Transient):
        JiraReader.cloud(CLOUD, EMAIL, API_TOKEN).fields()


def test_fields_refused_is_gone(api):
    api.get(CLOUD_FIELDS, status=401, json={"errorMessages": ["You are not authenticated."]})

    with pytest.raises(Gone):
        JiraReader.cloud(CLOUD, EMAIL, API_TOKEN).fields()


# --- resolve_story_points: part of building a worker's runtime -----------------------------------


def test_looked_up_by_name_when_not_configured(api, make_runtime, cloud_settings, caplog):
    api.get(CLOUD_FIELDS, json=handmade())

    with caplog.at_level(logging.INFO, logger="okrbot"):
        rt = make_runtime(cloud_settings, resolve_fields=True)

    assert len(api.calls) == 1
    assert rt.jira_options.story_points_fields == POINTS_IDS
    assert rt.jira_options.dropped_resolutions == cloud_settings.jira_dropped_resolutions
    assert rt.jira_options.epic_link_field == cloud_settings.jira_epic_link_field
    infos = [r for r in caplog.records if r.levelno == logging.INFO and "story points" in r.getMessage()]
    assert len(infos) == 1 and "customfield_10026,customfield_10016" in infos[0].getMessage()
    assert API_TOKEN not in caplog.text


def test_a_runtime_that_does_not_parse_asks_nothing(api, make_runtime, cloud_settings):
    api.get(CLOUD_FIELDS, json=handmade())

    rt = make_runtime(cloud_settings)  # the web process: it stores deliveries, the worker parses them

    assert rt.jira_options.story_points_fields == ()
    assert len(api.calls) == 0


def test_a_site_without_the_field_gives_none(api, make_runtime, cloud_settings, caplog):
    api.get(CLOUD_FIELDS, json=recorded())

    with caplog.at_level(logging.INFO, logger="okrbot"):
        rt = make_runtime(cloud_settings, resolve_fields=True)

    assert rt.jira_options.story_points_fields == ()
    assert "Story Points" in caplog.text


def test_on_server_too(api, make_runtime, settings):
    api.get(SERVER_FIELDS, json=handmade())
    server = settings.with_overrides(jira_url=SERVER, jira_pat=PAT)

    assert resolve_story_points(server, Readers(server)) == POINTS_IDS
    assert make_runtime(server, resolve_fields=True).jira_options.story_points_fields == POINTS_IDS


def test_configured_wins_without_a_request(api, make_runtime, cloud_settings):
    api.get(CLOUD_FIELDS, json=handmade())
    rt = make_runtime(cloud_settings.with_overrides(jira_story_points_fields=("customfield_10002",)),
                      resolve_fields=True)

    assert rt.jira_options.story_points_fields == ("customfield_10002",)
    assert len(api.calls) == 0


def test_a_server_error_is_a_warning_and_no_points(api, make_runtime, cloud_settings, caplog):
    api.get(CLOUD_FIELDS, status=500, json={"errorMessages": ["Internal server error"]})

    with caplog.at_level(logging.INFO, logger="okrbot"):
        rt = make_runtime(cloud_settings, resolve_fields=True)

    assert len(api.calls) == 1
    assert rt.jira_options.story_points_fields == ()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "500" in warnings[0].getMessage()
    assert API_TOKEN not in caplog.text


def test_without_credentials_nothing_is_asked(api, make_runtime, settings):
    api.get(CLOUD_FIELDS, json=handmade())
    rt = make_runtime(settings, resolve_fields=True)  # no OKRBOT_JIRA_URL / token

    assert rt.jira_options.story_points_fields == ()
    assert len(api.calls) == 0


def test_a_url_without_a_token_asks_nothing(api, make_runtime, settings):
    api.get(CLOUD_FIELDS, json=handmade())
    rt = make_runtime(settings.with_overrides(jira_url=CLOUD), resolve_fields=True)

    assert rt.jira_options.story_points_fields == ()
    assert len(api.calls) == 0
