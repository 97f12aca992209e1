"""okrs.yml into the database is an explicit step: at a worker's start, on the worker's check, before a
process applies deliveries, and by `okrbot mappings sync`. A read (GET) never writes."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from integration.apply.mapping_sync import sync_mapping_file
from integration.cli.main import main
from integration.web.app import create_app
from mappings.models import KeyResult
from tests.conftest import GITHUB_SECRET, JIRA_SECRET, as_body, drain, github_headers
from tests.payloads import github_issue, github_issues_event

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
DOCS = "      - id: docs\n        title: Docs\n        sources:\n          - github_issue: Codertocat/Hello-World#20\n"
WRITES = {"INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP"}


@pytest.fixture
def okrs(tmp_path):
    path = tmp_path / "okrs.yml"
    path.write_text(OKRS)
    return path


def started(make_runtime, settings, okrs, **overrides):
    """A worker process's runtime after its start, which syncs the file."""
    rt = make_runtime(settings.with_overrides(mappings=str(okrs), **overrides))
    assert sync_mapping_file(rt) is not None
    return rt


def change(okrs, text: str, mtime: int) -> None:
    okrs.write_text(text)
    os.utime(okrs, (1, mtime))


def statements_during(rt, call) -> list[str]:
    """The first word of every SQL statement sent while `call` runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)
    return seen


def test_a_get_after_an_okrs_change_writes_nothing_and_the_workers_check_syncs_it(make_runtime, settings, okrs):
    rt = started(make_runtime, settings, okrs)
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch"
    change(okrs, OKRS.replace("title: Launch", "title: Launch v2") + DOCS, 2_000_000_000)

    def read_everything():
        for path in ("/api/v1/objectives", "/api/v1/key-results", "/api/v1/key-results/launch",
                     "/api/v1/key-results/docs"):
            client.get(path)

    seen = statements_during(rt, read_everything)
    assert "SELECT" in seen and not set(seen) & WRITES  # it read, and only read
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch"
    assert client.get("/api/v1/key-results/docs").status_code == 404

    assert rt.tasks.sync_mappings.call_local() is True  # the worker's periodic check sees the change
    assert client.get("/api/v1/key-results/launch").get_json()["title"] == "Launch v2"
    assert client.get("/api/v1/key-results/docs").get_json()["title"] == "Docs"
    assert rt.tasks.sync_mappings.call_local() is False  # unchanged since: nothing to do


def test_a_second_worker_process_applies_the_file_the_first_one_synced(make_runtime, settings, okrs, tmp_path):
    first = started(make_runtime, settings, okrs)  # two worker processes on one database (own queues here)
    second = started(make_runtime, settings, okrs, queue_url=f"sqlite:///{tmp_path / 'second-queue.db'}")
    change(okrs, OKRS + DOCS, 2_000_000_000)
    assert first.tasks.sync_mappings.call_local() is True  # the periodic check ran in the first process

    body = as_body(github_issues_event("opened", github_issue(20, assignees=("dana",),
                                                              updated_at="2026-11-02T10:00:00Z")))
    client = create_app(second.settings, runtime=second, open_to_loopback=True).test_client()
    assert client.post("/webhooks/github", data=body, headers=github_headers(body, "issues")).status_code == 202
    drain(second)  # the second process takes the delivery

    docs = client.get("/api/v1/key-results/docs").get_json()
    assert (docs["anchor"]["key"], docs["owner"]["login"], docs["ownership"]) == (
        "github:Codertocat/Hello-World#20", "dana", "ok")


def cli_env(database_url, tmp_path, **extra) -> dict:
    return {"OKRBOT_DATABASE_URL": database_url, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'cli-q.db'}",
            "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_JIRA_WEBHOOK_SECRET": JIRA_SECRET, **extra}


def test_okrbot_mappings_sync_applies_the_file_now(make_runtime, settings, okrs, database_url, tmp_path):
    rt = started(make_runtime, settings, okrs)
    change(okrs, OKRS.replace("title: Launch", "title: Launch now") + DOCS, 2_000_000_000)

    env = cli_env(database_url, tmp_path, OKRBOT_MAPPINGS=str(okrs))
    result = CliRunner().invoke(main, ["mappings", "sync"], env=env, catch_exceptions=False)

    assert (result.exit_code, result.output) == (0, f"{okrs}: 2 key result(s) declared, 1 new\n")
    with rt.sessions() as session:
        assert session.get(KeyResult, "launch").title == "Launch now"
        assert session.get(KeyResult, "docs").title == "Docs"


def test_okrbot_mappings_sync_without_a_file_says_so(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./okrs.yml here

    result = CliRunner().invoke(main, ["mappings", "sync"], env=cli_env(database_url, tmp_path))

    assert result.exit_code == 1
    assert "no mapping file: set OKRBOT_MAPPINGS, or create ./okrs.yml" in result.output
