"""`okrbot worker` and `okrbot serve`, as real processes, warn at start when neither scope setting is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import GITHUB_SECRET, ROOT

BIN = Path(sys.executable).parent
WARNING = "neither OKRBOT_GITHUB_ALLOWED nor OKRBOT_JIRA_ALLOWED_SITES is set"


def _first_lines(args: list[str], env: dict, until: str, timeout: float = 60) -> str:
    """Start the process, read its output until `until` appears (or the process is up a while), stop it."""
    process = subprocess.Popen([str(BIN / "okrbot"), *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    # a process that never prints `until` must not hang the test: stopped at the timeout, its output then ends
    guard = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
    guard.start()
    try:
        while True:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if until in line:
                break
    finally:
        guard.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    return "".join(seen)


@pytest.mark.parametrize(("command", "allowed", "until"), [
    (["worker", "--threads", "1"], None, WARNING),  # the worker prints nothing else at start
    (["serve", "--port", "0"], None, "okrbot serving on"),
    (["serve", "--port", "0"], "acme", "okrbot serving on"),  # printed after the warnings would be
])
def test_the_start_warns_about_an_open_scope(tmp_path, command, allowed, until):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OKRBOT_")},
           "OKRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'okrbot.db'}",
           "OKRBOT_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}", "OKRBOT_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    if allowed:
        env["OKRBOT_GITHUB_ALLOWED"] = allowed
    out = _first_lines(command, env, until=until)
    assert until in out, out
    assert (WARNING in out) == (allowed is None), out
