"""The `okrbot` command as a user runs it: configuration errors, db upgrade, replay, deliveries."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import select

from integration.cli.main import main
from integration.config import ConfigError, load_settings
from integration.db import MIGRATIONS
from integration.runtime import build_runtime
from mappings.models import WorkItem
from tests.conftest import FIXTURES, GITHUB_SECRET, JIRA_SECRET, drain
from webhooks.models import PROCESSED, Delivery

# the newest migration, as Alembic reads the scripts (one head: a second head would fail here)
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture
def env(database_url, tmp_path):
    return {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_JIRA_WEBHOOK_SECRET": JIRA_SECRET}


def run(env, *args):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OKRBOT_DATABASE_URL", "mysql://x", "OKRBOT_DATABASE_URL: expected a URL starting with sqlite:// or "
                                             "postgresql://, got scheme 'mysql'"),
        ("OKRBOT_QUEUE_URL", "amqp://x", "OKRBOT_QUEUE_URL: expected a URL starting with sqlite:// or redis:// "
                                         "or rediss://, got scheme 'amqp'"),
        ("OKRBOT_INSECURE_ACCEPT_UNSIGNED", "maybe", "OKRBOT_INSECURE_ACCEPT_UNSIGNED: expected 1/0, "
                                                      "true/false, yes/no or on/off, got 'maybe'"),
        ("OKRBOT_MAX_ATTEMPTS", "0", "OKRBOT_MAX_ATTEMPTS: must be at least 1, got 0"),
        ("OKRBOT_LOG_LEVEL", "LOUD", "OKRBOT_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
    ],
)
def test_bad_configuration_stops_the_start_with_one_line(variable, value, message):
    with pytest.raises(ConfigError) as info:
        load_settings({variable: value})
    assert str(info.value) == message
    result = CliRunner().invoke(main, ["deliveries"], env={variable: value})
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_secrets_are_lists_for_rotation_and_defaults_are_local():
    settings = load_settings({"OKRBOT_GITHUB_WEBHOOK_SECRET": "new, old "})
    assert settings.github_webhook_secrets == ("new", "old")
    defaults = load_settings({})
    assert defaults.database_url == "sqlite:///okrbot.db"
    assert defaults.effective_queue_url == "sqlite:///okrbot-queue.db"
    assert load_settings({"OKRBOT_DATABASE_URL": "sqlite:////var/lib/okrbot/main.db"}).effective_queue_url \
        == "sqlite:////var/lib/okrbot/main-queue.db"


def test_db_upgrade_then_replay_then_deliveries(env):
    code, out = run(env, "db", "upgrade")
    assert code == 0 and out == f"database at revision {HEAD}\n"
    closed = FIXTURES / "github/issues/octokit-webhooks__opened.payload.json"
    jira = FIXTURES / "jira/issue_created/mattermost-plugin-jira__webhook-issue-created.json"
    code, out = run(env, "replay", str(closed), str(jira))
    assert code == 0, out
    assert f"{closed}: 202 " in out and f"{jira}: 202 " in out
    code, out = run(env, "replay", str(closed))  # same body, same derived id: stored once
    assert code == 0 and '200 {"status": "duplicate"}' in out

    rt = build_runtime(load_settings(env))
    try:
        drain(rt)  # what `okrbot worker` does with the queued task
        with rt.sessions() as s:
            rows = list(s.scalars(select(Delivery).order_by(Delivery.id)))
            assert [(d.tracker, d.event, d.status) for d in rows] == [
                ("github", "issues", PROCESSED), ("jira", "jira:issue_created", PROCESSED)]
            assert s.get(WorkItem, "github:Codertocat/Hello-World#1") is not None
    finally:
        rt.close()
    code, out = run(env, "deliveries")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "RECEIVED", "(UTC)", "TRACKER"]
    assert "jira:issue_created" in lines[1] and "processed" in lines[1]
    assert "issues.opened" in lines[2] and "processed" in lines[2]
    assert run(env, "deliveries", "--failed") == (0, "no failed deliveries\n")


def test_replay_needs_to_know_the_tracker(env, tmp_path):
    run(env, "db", "upgrade")
    loose = tmp_path / "body.json"
    loose.write_text('{"action": "opened"}')
    result = CliRunner().invoke(main, ["replay", str(loose)], env=env)
    assert result.exit_code == 2
    assert "the tracker is unknown: pass --tracker or use a github/ or jira/ path" in result.output
    result = CliRunner().invoke(main, ["replay", "--tracker", "github", str(loose)], env=env)
    assert result.exit_code == 2
    assert "the GitHub event is unknown" in result.output


def test_replay_reports_refused_deliveries(env):
    run(env, "db", "upgrade")
    ping = FIXTURES / "github/ping/octokit-webhooks__payload.json"
    bad_env = env | {"OKRBOT_GITHUB_WEBHOOK_SECRET": ""}
    result = CliRunner().invoke(main, ["replay", str(ping)], env=bad_env)
    assert result.exit_code == 1
    assert ": 401 " in result.output and "1 of 1 deliveries were not accepted" in result.output


def test_check_prints_what_each_key_result_resolves_to(env):
    valid = "tests/mappings/okrs/valid.yml"
    code, out = run(env, "check", valid)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "period 2026-10-01 – 2026-12-31 (92 days)"
    assert "  key result signups: 1,000 weekly sign-ups — owner alice, measure count, target 20, weight 2" in lines
    assert "    ← Jira epic PROJ-12 and its children" in lines


def test_check_reports_every_error_with_file_and_line(env, tmp_path):
    bad = tmp_path / "okrs.yml"
    bad.write_text("objectives:\n  - id: x\n    title: X\n    colour: red\n    key_results:\n"
                   "      - id: y\n        title: Y\n")
    result = CliRunner().invoke(main, ["check", str(bad)], env=env)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:4: unknown key 'colour' in objective 'x' (allowed: id, title, key_results, reminders)",
        f"{bad}:6: key result 'y' has no source",
    ]


def test_check_refuses_sources_of_an_unconfigured_tracker(env):
    result = CliRunner().invoke(main, ["check", "tests/mappings/okrs/valid.yml"],
                                env=env | {"OKRBOT_JIRA_WEBHOOK_SECRET": ""})
    assert result.exit_code == 1
    assert "jira_epic source, but Jira is not configured (set OKRBOT_JIRA_WEBHOOK_SECRET)" in result.output


def test_recount_repairs_counters_that_drifted(env):
    from sqlalchemy import update

    from mappings.models import KeyResult
    from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

    run(env, "db", "upgrade")
    rt = build_runtime(load_settings(env))
    try:
        from integration.web.app import create_app
        from tests.conftest import as_body, github_headers

        client = create_app(rt.settings, runtime=rt).test_client()
        parent = github_issue(10, labels=("key-result",), updated_at="2026-11-01T10:00:00Z")
        child = github_issue(11, state="closed", updated_at="2026-11-02T10:00:00Z")
        for event, body in (("issues", github_issues_event("opened", parent)),
                            ("sub_issues", github_sub_issue_event("sub_issue_added", parent, child))):
            raw = as_body(body)
            client.post("/webhooks/github", data=raw, headers=github_headers(raw, event))
        drain(rt)
        with rt.engine.begin() as conn:  # a counter damaged behind okrbot's back
            conn.execute(update(KeyResult).values(n_done=7))
    finally:
        rt.close()
    code, out = run(env, "recount")
    assert code == 0
    assert out.splitlines() == ["gh-codertocat-hello-world-10: n_done was 7, is 1",
                                "1 difference(s) found and repaired"]
    assert run(env, "recount") == (0, "every counter agrees with the work items\n")
