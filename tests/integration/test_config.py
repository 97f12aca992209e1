"""The settings are the one place of every default: the parsers, the domain and the retries are told them."""

from __future__ import annotations

from integration.config import load_settings
from integration.retry import RetryPolicy
from mappings.progress import Thresholds
from webhooks.github import GithubOptions
from webhooks.jira import JiraOptions


def test_the_defaults_the_parsers_and_the_domain_are_told():
    settings = load_settings({})
    assert settings.github_options == GithubOptions(points_label_pattern=r"^(?:points|size):\s*(\d+(?:\.\d+)?)$")
    assert settings.jira_options == JiraOptions(
        dropped_resolutions=("Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce", "Declined"),
        epic_link_field=None, story_points_fields=())
    assert settings.thresholds == Thresholds(at_risk=10.0, off_track=25.0)
    assert settings.retry == RetryPolicy(max_attempts=8, base_seconds=2.0)


def test_each_default_is_changed_by_its_variable_and_reaches_what_is_told():
    settings = load_settings({"OKRBOT_GITHUB_POINTS_LABEL_PATTERN": r"^sp-(\d+)$",
                              "OKRBOT_JIRA_DROPPED_RESOLUTIONS": "Obsolete, Won't Do",
                              "OKRBOT_JIRA_EPIC_LINK_FIELD": "customfield_10014",
                              "OKRBOT_JIRA_STORY_POINTS_FIELD": "customfield_10016",
                              "OKRBOT_HEALTH_AT_RISK": "5", "OKRBOT_HEALTH_OFF_TRACK": "15",
                              "OKRBOT_MAX_ATTEMPTS": "3"})
    assert settings.github_options == GithubOptions(points_label_pattern=r"^sp-(\d+)$")
    assert settings.jira_options == JiraOptions(dropped_resolutions=("Obsolete", "Won't Do"),
                                                epic_link_field="customfield_10014",
                                                story_points_fields=("customfield_10016",))
    assert settings.thresholds == Thresholds(at_risk=5.0, off_track=15.0)
    assert settings.retry == RetryPolicy(max_attempts=3, base_seconds=2.0)


def test_the_retry_policy_doubles_from_its_base_caps_at_an_hour_and_stops_at_max_attempts():
    policy = RetryPolicy(max_attempts=14, base_seconds=2.0)
    assert [policy.delay(n) for n in (1, 2, 3, 11, 12, 13, 14)] == [2.0, 4.0, 8.0, 2048.0, 3600.0, 3600.0, None]
