"""okrbot's web process started as an operator starts it: the Procfile's web line (gunicorn), or
`okrbot serve`; on a free loopback port, with its own environment, its output kept in a log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from integration.db import upgrade
from tests.conftest import ROOT
from tests.http_wait import wait_until_ok

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web_line() -> str:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return line.removeprefix("web:").strip()


def base_env(tmp: Path, **okrbot: str) -> dict[str, str]:
    """The machine's environment without any OKRBOT_*, a fresh migrated SQLite database, and `okrbot`."""
    database = f"sqlite:///{tmp / 'okrbot.db'}"
    engine = create_engine(database)
    upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OKRBOT_")}
    env.update({"OKRBOT_DATABASE_URL": database, "OKRBOT_QUEUE_URL": f"sqlite:///{tmp / 'queue.db'}",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    env.update({f"OKRBOT_{k}": v for k, v in okrbot.items()})
    return env


class WebProcess:
    def __init__(self, command: str, env: dict[str, str], log: Path, port: int):
        self.url, self.log_path = f"http://127.0.0.1:{port}", log
        out = open(log, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(command, shell=True, env={**env, "PORT": str(port)}, cwd=ROOT,
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, seconds: float = 30) -> WebProcess:
        def alive():
            if self.process.poll() is not None:
                raise AssertionError(f"the web process ended ({self.process.returncode}): {self.log()[-3000:]}")

        if not wait_until_ok(f"{self.url}/healthz", seconds, alive=alive):
            raise AssertionError("the web process did not answer /healthz: " + self.log()[-3000:])
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def gunicorn(env: dict[str, str], log: Path) -> WebProcess:
    """The Procfile's web line, two workers: a session made by one must be good in the other."""
    return WebProcess(procfile_web_line(), {**env, "WEB_CONCURRENCY": "2", "WEB_THREADS": "4"}, log, free_port())


def okrbot_serve(env: dict[str, str], log: Path, host: str = "127.0.0.1") -> WebProcess:
    port = free_port()
    return WebProcess(f"okrbot serve --host {host} --port {port}", env, log, port)
