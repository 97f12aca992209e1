"""A read never writes: okrs.yml changes reach the database through the worker's check (or
`okrbot mappings sync`), never through a GET of the API."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from integration.apply.mapping_sync import sync_mapping_file
from integration.cli.main import main
from mappings.models import KeyResult
from tests.conftest import GITHUB_SECRET, JIRA_SECRET

OKRS = """\
objectives:
  - id: o
    title: Ship
    key_results:
      - id: launch
        title: Launch
        owner: erin
        sources:
          - github_milestone: Codertocat/Hello-World/7
"""


@pytest.fixture
def okrs(tmp_path):
    path = tmp_path / "okrs.yml"
    path.write_text(OKRS)
    return path


@pytest.fixture
def rt(make_runtime, settings, okrs):
    rt = make_runtime(settings.with_overrides(mappings=str(okrs)))
    assert sync_mapping_file(rt) is not None  # the worker's start
    return rt


def change(okrs, text: str, mtime: int) -> None:
    okrs.write_text(text)
    os.utime(okrs, (1, mtime))


def statements_during(rt, call) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)
    return seen


def test_a_get_after_an_okrs_change_writes_nothing_and_the_workers_check_syncs_it(rt, client, okrs):
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch"
    change(okrs, OKRS.replace("title: Launch", "title: Launch v2")
           + "      - id: docs\n        title: Docs\n        owner: dave\n        sources:\n"
             "          - github_issue: Codertocat/Hello-World#20\n", 2_000_000_000)

    def read_everything():
        for path in ("/api/v1/objectives", "/api/v1/key-results", "/api/v1/key-results/launch",
                     "/api/v1/key-results/docs"):
            client.get(path)

    seen = statements_during(rt, read_everything)
    assert "SELECT" in seen  # it read ...
    assert not set(seen) & {"INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP"}  # ... and only read
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch"
    assert client.get("/api/v1/key-results/docs").status_code == 404

    assert rt.tasks.sync_mappings.call_local() is True  # the worker's periodic check sees the change
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch v2"
    assert client.get("/api/v1/key-results/docs").get_json()["owner"]["login"] == "dave"
    assert rt.tasks.sync_mappings.call_local() is False  # unchanged since: nothing to do


def test_okrbot_mappings_sync_applies_the_file_now(rt, okrs, database_url, tmp_path):
    change(okrs, OKRS.replace("title: Launch", "title: Launch now"), 2_000_000_000)
    env = {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'cli-q.db'}",
           "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
           "OKRBOT_MAPPINGS": str(okrs)}

    result = CliRunner().invoke(main, ["mappings", "sync"], env=env, catch_exceptions=False)

    assert (result.exit_code, result.output) == (0, f"{okrs}: 1 key result(s) declared, 0 new\n")
    with rt.sessions() as session:
        assert session.get(KeyResult, "launch").title == "Launch now"


def test_okrbot_mappings_sync_without_a_file_says_so(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./okrs.yml here
    env = {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'cli-q.db'}"}

    result = CliRunner().invoke(main, ["mappings", "sync"], env=env)

    assert result.exit_code == 1
    assert "no mapping file: set OKRBOT_MAPPINGS, or create ./okrs.yml" in result.output
