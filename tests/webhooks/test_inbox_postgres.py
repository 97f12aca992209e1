"""The inbox on PostgreSQL: each batch is one INSERT, its own transaction, on a connection of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from integration.config import Settings
from integration.web.app import create_app
from tests.conftest import GITHUB_SECRET, as_body, github_headers
from webhooks.inbox import InboxUnavailable, IncomingDelivery
from webhooks.models import Delivery

OPENED = "github/issues/octokit-webhooks__opened.payload.json"


@pytest.fixture
def pg(make_runtime, postgres_url, tmp_path):
    return make_runtime(Settings(database_url=postgres_url, queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
                                 github_webhook_secrets=(GITHUB_SECRET,), doorbell_window_ms=1.0))


def _incoming(delivery_id: str) -> IncomingDelivery:
    return IncomingDelivery("github", delivery_id, "issues", "opened", {"X-GitHub-Delivery": delivery_id},
                            b'{"action": "opened"}', datetime.now(UTC))


def _stored(rt) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(Delivery.delivery_id).order_by(Delivery.id)))


def test_a_batch_stores_all_its_rows_or_none(pg):
    statement = pg.inbox._statement
    good, too_long = _incoming("a"), _incoming("b" * 201)  # past deliveries.delivery_id's 200
    with pytest.raises(InboxUnavailable, match="StringDataRightTruncation"):
        statement.insert_all([good.row(), too_long.row()])
    assert _stored(pg) == []
    # the connection is not left in a failed transaction: the next batch is stored, a key twice in it once
    first, second, again = statement.insert_all([good.row(), _incoming("c").row(), good.row()])
    assert isinstance(first, int) and isinstance(second, int) and again is None
    assert _stored(pg) == ["a", "c"]


def _inbox_backends(rt) -> list[int]:
    with rt.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE 'INSERT INTO deliveries%'")).scalars())


def test_a_connection_the_server_closed_is_replaced_and_the_delivery_stored(pg):
    client = create_app(pg.settings, runtime=pg, open_to_loopback=True).test_client()
    body = as_body(OPENED)
    assert client.post("/webhooks/github", data=body, headers=github_headers(body, "issues", "d-1")).status_code == 202
    backends = _inbox_backends(pg)
    assert len(backends) == 1  # the inbox's own connection, idle since its last INSERT
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backends[0]}).scalar() is True
    answer = client.post("/webhooks/github", data=body, headers=github_headers(body, "issues", "d-2"))
    assert answer.status_code == 202, answer.get_json()
    assert _stored(pg) == ["d-1", "d-2"]
    assert _inbox_backends(pg) not in ([], backends)  # a new connection took the old one's place

