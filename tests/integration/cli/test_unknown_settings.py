"""A misspelt OKRBOT_* variable is told at the start of every process: web factory, worker, CLI."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from integration.web.app import create_app
from tests.conftest import GITHUB_SECRET, JIRA_SECRET

SECRET_VALUE = "s3cr3t-never-logged"
MISSPELT = {"OKRBOT_DATABSE_URL": "sqlite:///elsewhere.db", "OKRBOT_GITHUB_WEBHOOK_SECRTE": SECRET_VALUE,
            "OKRBOT_COLOUR": "blue"}
WARNINGS = [
    "OKRBOT_COLOUR is not a setting",
    "OKRBOT_DATABSE_URL is not a setting (did you mean OKRBOT_DATABASE_URL?)",
    "OKRBOT_GITHUB_WEBHOOK_SECRTE is not a setting (did you mean OKRBOT_GITHUB_WEBHOOK_SECRET?)",
]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The process environment without this machine's OKRBOT_* settings, plus a local setup and the misspellings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OKRBOT_") or k.startswith("OKRBOT_TEST_")}
    return base | MISSPELT | {"OKRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'okrbot.db'}",
                              "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
                              "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "OKRBOT_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
                              "OKRBOT_GITHUB_ALLOWED": "codertocat"}  # no scope warning among these


def warnings_in(text: str) -> list[str]:
    return sorted(line.split(" okrbot.config ", 1)[1] for line in text.splitlines() if " okrbot.config " in line)


def test_the_web_factory_names_each_unknown_variable_and_the_closest_setting(env, monkeypatch, caplog):
    for name in [k for k in os.environ if k.startswith("OKRBOT_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING, logger="okrbot.config"):
        app = create_app()
    app.extensions["okrbot"].close()
    told = [r for r in caplog.records if r.name == "okrbot.config"]
    assert [r.getMessage() for r in told] == WARNINGS
    assert {r.levelname for r in told} == {"WARNING"}
    assert SECRET_VALUE not in caplog.text
    assert "OKRBOT_TEST_" not in caplog.text  # the suite's own variables are no misspelt settings


def test_a_cli_command_tells_them_then_runs(env, tmp_path):
    okrs = tmp_path / "okrs.yml"
    okrs.write_text("objectives:\n  - id: o\n    title: O\n    key_results:\n"
                    "      - {id: kr, title: KR, sources: [{jira_epic: PROJ-1}]}\n")
    result = subprocess.run([sys.executable, "-m", "integration.cli", "check", str(okrs)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # a warning, not an error: the command still runs
    assert warnings_in(result.stderr) == WARNINGS
    assert result.stdout.splitlines()[2].startswith("  key result kr: KR — owner: none")
    assert SECRET_VALUE not in result.stderr + result.stdout


def test_the_worker_process_tells_them_at_start(env):
    worker = subprocess.Popen([sys.executable, "-m", "integration.cli", "worker", "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines, deadline = [], time.monotonic() + 60
        while len(warnings_in("\n".join(lines))) < len(WARNINGS) and time.monotonic() < deadline:
            line = worker.stderr.readline()
            if not line:
                break
            lines.append(line)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a consumer that did not stop on SIGTERM must not outlive the test
            worker.kill()
            worker.wait()
    assert warnings_in("".join(lines)) == WARNINGS
    assert SECRET_VALUE not in "".join(lines)
