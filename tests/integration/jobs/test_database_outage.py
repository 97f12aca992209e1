"""A database that stops answering in the middle of a batch: the worker waits and goes on the moment it is back.

The worker reaches the real PostgreSQL server through a small TCP relay on loopback; cutting the relay
is the outage (every connection dropped, new ones refused), restoring it the recovery. Nothing of the
batch may be left to the sweep, no retry may be counted against the deliveries, and none may fail.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import integration.apply.processing
from integration.config import Settings
from integration.web.app import create_app
from tests.conftest import GITHUB_SECRET, as_body, github_headers
from tests.payloads import github_issue, github_issues_event
from webhooks.models import PROCESSED, RECEIVED, Delivery

pytestmark = pytest.mark.postgres


class Relay:
    """Forwards loopback connections to the database server; `cut()` drops them all until `restore()`."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.up = target, True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def relay(postgres_url):
    parts = urlsplit(postgres_url)
    r = Relay((parts.hostname, parts.port or 5432))
    yield r, postgres_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{r.port}")
    r.close()


def test_outage_mid_batch_is_waited_out_and_the_rest_applied_at_once(make_runtime, relay, monkeypatch, tmp_path):
    cut_relay, relayed_url = relay
    rt = make_runtime(Settings(database_url=relayed_url, queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
                               github_webhook_secrets=(GITHUB_SECRET,), apply_batch_size=5, sweep_after_seconds=3600))
    web = create_app(rt.settings, runtime=rt).test_client()
    for n in range(1, 21):
        body = as_body(github_issues_event("opened", github_issue(n, updated_at="2026-11-02T10:00:00Z")))
        assert web.post("/webhooks/github", data=body, headers=github_headers(body, "issues")).status_code == 202
    rt.doorbell.flush()
    while rt.huey.dequeue() is not None:  # the doorbell's tasks: this test runs the batch itself
        pass
    with rt.sessions() as s:
        ids = list(s.scalars(select(Delivery.id).order_by(Delivery.id)))

    real_after_commit, outage = integration.apply.processing._after_commit, {}

    def after_commit(rt_, result):
        real_after_commit(rt_, result)
        if not outage:  # the first chunk of the batch is in: the database goes away
            cut_relay.cut()
            outage["at"] = time.monotonic()
            threading.Timer(2.0, lambda: (outage.setdefault("back", time.monotonic()), cut_relay.restore())).start()

    monkeypatch.setattr(integration.apply.processing, "_after_commit", after_commit)
    rt.tasks.process_deliveries.call_local(ids)  # what a worker thread runs for this task
    finished = time.monotonic()

    assert "back" in outage and finished - outage["back"] < 1.5  # picked up at once, not by the sweep
    with rt.sessions() as s:
        rows = list(s.execute(select(Delivery.status, Delivery.attempts, Delivery.last_error)))
    assert rows == [(PROCESSED, 0, None)] * 20
    assert len(rt.huey.scheduled()) == 0 and rt.huey.pending_count() == 0
    assert RECEIVED not in {status for status, _a, _e in rows}
