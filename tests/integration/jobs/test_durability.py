"""Nothing acknowledged is lost: queue outages, crashes, retries, concurrency, probes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from integration.apply.processing import process_delivery
from integration.web.app import create_app
from mappings.models import WorkItem
from tests.conftest import as_body, drain, github_headers
from webhooks.models import FAILED, PROCESSED, RECEIVED, Delivery

OPENED = "github/issues/octokit-webhooks__opened.payload.json"


def deliveries(rt) -> list[Delivery]:
    with rt.sessions() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def age_deliveries(rt, seconds: int = 3600) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(Delivery).values(received_at=datetime.now(UTC) - timedelta(seconds=seconds)))


def test_delivery_acknowledged_while_queue_is_down_is_processed_when_it_is_back(make_runtime, settings):
    down = make_runtime(settings.with_overrides(queue_url="redis://127.0.0.1:1/0"))
    client = create_app(down.settings, runtime=down, open_to_loopback=True).test_client()
    body = as_body(OPENED)
    response = client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    assert response.status_code == 202
    down.doorbell.flush()
    assert client.get("/readyz").status_code == 503
    assert [d.status for d in deliveries(down)] == [RECEIVED]

    back = make_runtime(settings)  # same database, a reachable queue: the consumer's periodic sweep
    age_deliveries(back)
    assert back.tasks.sweep.call_local() == 1
    drain(back)
    assert [d.status for d in deliveries(back)] == [PROCESSED]
    with back.sessions() as s:
        assert s.get(WorkItem, "github:Codertocat/Hello-World#1").state == "open"


def test_sweep_leaves_fresh_and_processed_deliveries_alone(rt, client):
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    rt.doorbell.flush()
    assert rt.tasks.sweep.call_local() == 0  # fresh: the doorbell's task is still on its way
    drain(rt)
    age_deliveries(rt)
    assert rt.tasks.sweep.call_local() == 0  # processed


def test_failing_processing_retries_with_backoff_then_fails_for_good(make_runtime, settings, monkeypatch):
    import integration.apply.processing

    # a retry an hour away: `drain` runs queued tasks whose time has come, and the test runs the retries itself
    rt = make_runtime(settings.with_overrides(max_attempts=3, retry_base_seconds=3600))
    real_note_changes = integration.apply.processing.note_changes

    def broken(*args):
        raise RuntimeError("domain exploded")

    monkeypatch.setattr(integration.apply.processing, "note_changes", broken)  # after the domain wrote its rows
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    second = as_body("github/issues/octokit-webhooks__reopened.payload.json")
    drain(rt)
    [d] = deliveries(rt)
    assert (d.status, d.attempts, d.last_error) == (RECEIVED, 1, "RuntimeError: domain exploded")
    assert d.next_attempt_at > d.received_at
    assert len(rt.huey.scheduled()) == 1  # the retry waits in the queue's schedule, not in a sleep
    assert process_delivery(rt, d.id) is not None
    assert process_delivery(rt, d.id) is None
    [d] = deliveries(rt)
    assert (d.status, d.attempts) == (FAILED, 3)
    with rt.sessions() as s:  # the failed unit of work left nothing behind
        assert s.get(WorkItem, "github:Codertocat/Hello-World#1") is None
    # a failed delivery never blocks the others
    monkeypatch.setattr(integration.apply.processing, "note_changes", real_note_changes)
    client.post("/webhooks/github", data=second, headers=github_headers(second, "issues"))
    drain(rt)
    assert [x.status for x in deliveries(rt)] == [FAILED, PROCESSED]


def test_unparseable_body_fails_at_once_and_is_kept(rt, client):
    body = b'{"action": "opened"}'  # an issues event without an issue
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    drain(rt)
    [d] = deliveries(rt)
    assert d.status == FAILED and d.attempts == 1
    assert d.last_error.startswith("unparseable body: ")
    assert d.body == body


def test_processing_twice_is_harmless(rt, client):
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    rt.doorbell.flush()
    [d] = deliveries(rt)
    rt.tasks.process_deliveries.call_local([d.id])
    rt.tasks.process_deliveries.call_local([d.id])
    drain(rt)
    [d] = deliveries(rt)
    assert (d.status, d.attempts) == (PROCESSED, 0)


def test_one_delivery_from_8_threads_at_once_is_stored_once_on_postgres(make_runtime, settings, postgres_url):
    rt = make_runtime(settings.with_overrides(database_url=postgres_url))
    app = create_app(rt.settings, runtime=rt, open_to_loopback=True)
    body = as_body(OPENED)
    headers = github_headers(body, "issues", delivery="raced")
    barrier, answers = threading.Barrier(8), []

    def post():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/webhooks/github", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] * 7 + [202]
    assert len(deliveries(rt)) == 1


def test_many_concurrent_deliveries_share_commits_and_all_land(rt, app, monkeypatch):
    body = as_body(OPENED)
    answers, commits = [], []
    statement, real_insert_all = rt.inbox._statement, rt.inbox._statement.insert_all

    def insert_all(rows):
        if not commits:  # hold the first commit until every other thread queues behind it
            deadline = time.monotonic() + 10
            while len(rows) + len(rt.inbox._pending) < 8 and time.monotonic() < deadline:
                time.sleep(0.001)
        commits.append(len(rows))
        return real_insert_all(rows)

    monkeypatch.setattr(statement, "insert_all", insert_all)

    def post(n):
        client = app.test_client()
        for i in range(10):
            headers = github_headers(body, "issues", delivery=f"c-{n}-{i}")
            answers.append(client.post("/webhooks/github", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [202] * 80
    assert len(deliveries(rt)) == 80 and sum(commits) == 80
    # those waiting shared the second commit; the first poster's next delivery may join it too, since it
    # is answered as soon as the first commit lands (likelier with the suite's 1 ms doorbell)
    assert commits[0] + commits[1] >= 8 and len(commits) <= 80 - 6
    if rt.engine.dialect.name == "postgresql":  # the database's own word: rows of one commit share xmin
        with rt.engine.connect() as conn:
            assert conn.execute(text("SELECT count(DISTINCT xmin::text) FROM deliveries")).scalar() == len(commits)
    drain(rt)
    assert {d.status for d in deliveries(rt)} == {PROCESSED}


def test_probes_and_metrics(rt, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues", secret="bad"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'okrbot_deliveries_total{event="issues",outcome="accepted",tracker="github"} 1.0' in text
    assert 'okrbot_deliveries_total{event="-",outcome="SignatureError",tracker="github"} 1.0' in text
    assert 'okrbot_deliveries_waiting{tracker="github"} 1.0' in text
    drain(rt)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'okrbot_deliveries_waiting{tracker="github"}' not in text
    assert 'okrbot_processing_seconds_count{tracker="github"} 1.0' in text


def test_the_redis_queue_carries_deliveries_to_the_worker(make_runtime, settings, redis_url):
    rt = make_runtime(settings.with_overrides(queue_url=redis_url))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
    body = as_body(OPENED)
    assert client.post("/webhooks/github", data=body, headers=github_headers(body, "issues")).status_code == 202
    rt.doorbell.flush()
    assert rt.huey.pending_count() == 1  # the doorbell's task sits in Redis
    assert drain(rt) == 1
    assert [d.status for d in deliveries(rt)] == [PROCESSED]


def _deadlock() -> OperationalError:
    import psycopg.errors

    return OperationalError("UPDATE key_results ...", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def test_a_lock_conflict_runs_the_batch_again_at_once(rt, client, monkeypatch):
    import integration.apply.processing

    real, calls = integration.apply.processing._claim_and_apply, []

    def conflict_once(rt_, ids):
        calls.append(ids)
        if len(calls) == 1:
            raise _deadlock()
        return real(rt_, ids)

    monkeypatch.setattr(integration.apply.processing, "_claim_and_apply", conflict_once)
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    rt.doorbell.flush()
    [d] = deliveries(rt)
    assert process_delivery(rt, d.id) is None
    [d] = deliveries(rt)
    assert (d.status, d.attempts, d.last_error, len(calls)) == (PROCESSED, 0, None, 2)


def test_lock_conflicts_that_persist_retry_later_and_never_fail(make_runtime, settings, monkeypatch):
    import integration.apply.processing

    rt = make_runtime(settings.with_overrides(max_attempts=2))
    monkeypatch.setattr(integration.apply.processing, "_claim_and_apply",
                        lambda rt_, ids: (_ for _ in ()).throw(_deadlock()))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    body = as_body(OPENED)
    client.post("/webhooks/github", data=body, headers=github_headers(body, "issues"))
    rt.doorbell.flush()
    [d] = deliveries(rt)
    for _ in range(4):  # more rounds than max_attempts: a conflict is not the delivery's failure
        assert process_delivery(rt, d.id) == rt.settings.retry_base_seconds
    [d] = deliveries(rt)
    assert (d.status, d.attempts, d.last_error) == (RECEIVED, 0, None)
