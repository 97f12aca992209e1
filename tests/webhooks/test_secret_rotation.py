"""Rotating a webhook secret: OKRBOT_*_WEBHOOK_SECRET holds the old and the new secret for a while.

The settings are read from the environment as `okrbot` reads them (load_settings), the app is the
real one, the deliveries are real fixtures signed with real HMACs.
"""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from integration.config import ConfigError, load_settings
from integration.web.app import create_app
from tests.conftest import as_body, drain, github_headers, jira_headers
from webhooks.models import PROCESSED, Delivery

OLD_GITHUB, NEW_GITHUB = "old-github-secret-7f3a", "new-github-secret-91cd"
OLD_JIRA, NEW_JIRA = "old-jira-secret-4be2", "new-jira-secret-05aa"
OPENED = "github/issues/octokit-webhooks__opened.payload.json"
JIRA_CREATED = "jira/issue_created/mattermost-plugin-jira__webhook-issue-created.json"


def _client(make_runtime, settings, github: str, jira: str):
    """The app as it starts with these two variables set (the rest from the test's settings)."""
    read = load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": github, "OKRBOT_JIRA_WEBHOOK_SECRET": jira})
    rt = make_runtime(settings.with_overrides(github_webhook_secrets=read.github_webhook_secrets,
                                              jira_webhook_secrets=read.jira_webhook_secrets))
    return rt, create_app(rt.settings, runtime=rt).test_client()


def _github(client, secret: str, delivery: str) -> int:
    body = as_body(OPENED)
    headers = github_headers(body, "issues", delivery, secret)
    return client.post("/webhooks/github", data=body, headers=headers).status_code


def _jira(client, secret: str, delivery: str) -> int:
    body = as_body(JIRA_CREATED)
    return client.post("/webhooks/jira", data=body, headers=jira_headers(body, delivery, secret)).status_code


def test_both_secrets_are_accepted_during_a_rotation_and_the_old_one_is_refused_after(make_runtime, settings):
    # 1. the new secret is added as a second value: okrbot accepts both
    rt, client = _client(make_runtime, settings, f"{OLD_GITHUB},{NEW_GITHUB}", f"{OLD_JIRA}, {NEW_JIRA}")
    assert (_github(client, OLD_GITHUB, "g-old"), _github(client, NEW_GITHUB, "g-new")) == (202, 202)
    assert (_jira(client, OLD_JIRA, "j-old"), _jira(client, NEW_JIRA, "j-new")) == (202, 202)
    assert (_github(client, "neither", "g-x"), _jira(client, "neither", "j-x")) == (401, 401)
    drain(rt)
    with rt.sessions() as s:
        assert sorted(s.execute(select(Delivery.delivery_id, Delivery.status)).all()) == [
            ("g-new", PROCESSED), ("g-old", PROCESSED), ("j-new", PROCESSED), ("j-old", PROCESSED)]
    # 2. the tracker signs with the new one; 3. the old one is removed: it is refused from then on
    rt, client = _client(make_runtime, settings, NEW_GITHUB, NEW_JIRA)
    answer = client.post("/webhooks/github", data=as_body(OPENED),
                         headers=github_headers(as_body(OPENED), "issues", "g-late", OLD_GITHUB))
    assert (answer.status_code, answer.get_json()) == (
        401, {"error": "X-Hub-Signature-256 does not match the body for any configured secret"})
    assert _jira(client, OLD_JIRA, "j-late") == 401
    assert (_github(client, NEW_GITHUB, "g-after"), _jira(client, NEW_JIRA, "j-after")) == (202, 202)
    with rt.sessions() as s:  # the same database: the four from the rotation, and the two after it
        assert sorted(s.scalars(select(Delivery.delivery_id))) == ["g-after", "g-new", "g-old", "j-after", "j-new",
                                                                   "j-old"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a,b,c", "OKRBOT_GITHUB_WEBHOOK_SECRET: 3 secrets given, at most 2 (the current one and the new one "
                  "while rotating)"),
        ("a,,b", "OKRBOT_GITHUB_WEBHOOK_SECRET: an empty value between the commas; give one secret, or two "
                 "separated by one comma while rotating"),
        ("a,", "OKRBOT_GITHUB_WEBHOOK_SECRET: an empty value between the commas; give one secret, or two "
               "separated by one comma while rotating"),
        (",a", "OKRBOT_GITHUB_WEBHOOK_SECRET: an empty value between the commas; give one secret, or two "
               "separated by one comma while rotating"),
    ],
)
def test_more_than_two_secrets_or_an_empty_one_is_a_config_error(value, message):
    with pytest.raises(ConfigError) as raised:
        load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": value})
    assert str(raised.value) == message
    jira = message.replace("GITHUB", "JIRA")
    with pytest.raises(ConfigError, match=f"^{re.escape(jira)}$"):
        load_settings({"OKRBOT_JIRA_WEBHOOK_SECRET": value})


def test_one_or_two_secrets_are_read_and_an_empty_variable_means_none():
    assert load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": " one "}).github_webhook_secrets == ("one",)
    assert load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": "one, two"}).github_webhook_secrets == ("one", "two")
    assert load_settings({"OKRBOT_JIRA_WEBHOOK_SECRET": ""}).jira_webhook_secrets == ()


def test_no_secret_reaches_a_log_an_answer_or_the_settings_repr(make_runtime, settings, caplog):
    with caplog.at_level(logging.DEBUG):
        rt, client = _client(make_runtime, settings, f"{OLD_GITHUB},{NEW_GITHUB}", f"{OLD_JIRA},{NEW_JIRA}")
        body = as_body(OPENED)
        answers = [client.post("/webhooks/github", data=body, headers=github_headers(body, "issues", d, secret))
                   for d, secret in (("l1", OLD_GITHUB), ("l2", NEW_GITHUB), ("l3", "wrong"))]
        answers += [client.post("/webhooks/jira", data=as_body(JIRA_CREATED),
                                headers=jira_headers(as_body(JIRA_CREATED), d, secret))
                    for d, secret in (("l4", OLD_JIRA), ("l5", "wrong"))]
        drain(rt)
        for bad in ("x,y,z", f"{OLD_GITHUB},,{NEW_GITHUB}"):
            with pytest.raises(ConfigError) as raised:
                load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": bad})
            logging.getLogger("okrbot").error("%s", raised.value)
    assert [a.status_code for a in answers] == [202, 202, 401, 202, 401]
    texts = [caplog.text, repr(rt.settings), *(a.get_data(as_text=True) for a in answers)]
    assert "outcome=accepted" in caplog.text and "does not match the body" in caplog.text
    for secret in (OLD_GITHUB, NEW_GITHUB, OLD_JIRA, NEW_JIRA):
        assert [t for t in texts if secret in t] == []
