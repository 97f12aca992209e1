"""Property: deliveries applied by two sessions at once, in any split and interleaving, end as one serial order.

Each example stores a seeded stream (tests/stream.py: late and repeated deliveries, owners changing,
items moving between key results, dropped and reopened work), splits the stored deliveries at random
into batches for two threads — each with its own database session and transaction — and lets them run
at once through the real apply path (claim, parse, apply, commit, run again on a lock conflict). The
end state must equal the stream's own truth and, row for row, what one session applying every delivery
in order leaves. On PostgreSQL the two transactions really interleave; on SQLite its one writer orders them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from integration.apply.processing import process_deliveries
from integration.trackers.models import GithubInstallation
from integration.writeback.models import OutboxEntry
from mappings.models import KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from tests.stream import Scenario
from webhooks.inbox import IncomingDelivery
from webhooks.models import Delivery

TABLES = (Delivery, WorkItem, KeyResult, Membership, KeyResultEvent, Objective, OutboxEntry, GithubInstallation)


def reset(rt) -> None:
    with rt.engine.begin() as conn:
        for model in TABLES:
            conn.execute(delete(model))


def store(rt, scenario: Scenario) -> list[int]:
    ids = []
    for post in scenario.posts:
        headers = {"Content-Type": "application/json", "X-GitHub-Event": post.event}
        pk = rt.inbox.store(IncomingDelivery("github", post.delivery, post.event, json.loads(post.body)["action"],
                                             headers, post.body, datetime.now(UTC)))
        if pk is not None:  # a redelivery is stored once
            ids.append(pk)
    return ids


def state(rt) -> dict:
    """What a user of the API would see, and the rows behind it (history aside: its timing differs)."""
    with rt.sessions() as s:
        items = {w.key: (w.state, w.parent_key, tuple(a["login"] for a in w.assignees), w.title)
                 for w in s.scalars(select(WorkItem))}
        krs = {k.id: (k.n_open, k.n_done, k.n_dropped, k.points_open, k.points_done, k.points_dropped,
                      tuple(a["login"] for a in k.anchor_assignees), k.active)
               for k in s.scalars(select(KeyResult))}
        members = {(m.kr_id, m.work_item_key, m.state) for m in s.scalars(select(Membership))}
    return {"items": items, "key_results": krs, "members": members}


def run_concurrently(rt, batches: list[tuple[int, list[int], float]]) -> None:
    """Two threads, each its own sessions; thread n takes the batches marked n, pausing as drawn."""
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        try:
            start.wait()
            for owner, ids, pause in batches:
                if owner == n:
                    assert process_deliveries(rt, ids) == {}
                    time.sleep(pause)
        except BaseException as exc:  # surfaced below: a thread's failure fails the example
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def split(ids: list[int], cuts: list[int], owners: list[int], pauses: list[float], order: list[int]):
    bounds = sorted({c % (len(ids) + 1) for c in cuts} | {0, len(ids)})
    chunks = [ids[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    shuffled = [chunks[i] for i in sorted(range(len(chunks)), key=lambda i: order[i % len(order)] + i * 1e-6)]
    return [(owners[i % len(owners)], chunk, pauses[i % len(pauses)]) for i, chunk in enumerate(shuffled)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 400), min_size=1, max_size=12),
       owners=st.lists(st.integers(0, 1), min_size=1, max_size=12),
       pauses=st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.005]), min_size=1, max_size=6),
       order=st.lists(st.integers(0, 20), min_size=1, max_size=12))
def test_two_sessions_end_as_one_serial_order(rt, seed, cuts, owners, pauses, order):
    scenario = Scenario(seed=seed, key_results=3, items_per_kr=4, events=60, late=0.3, redelivered=0.1,
                        app_installation=seed % 2 or None)
    reset(rt)
    ids = store(rt, scenario)
    run_concurrently(rt, split(ids, cuts, owners, pauses, order))
    together = state(rt)
    with rt.sessions() as s:
        assert set(s.scalars(select(Delivery.status))) == {"processed"}

    reset(rt)
    for pk in store(rt, scenario):  # one session, one delivery at a time, in order
        assert process_deliveries(rt, [pk]) == {}
    assert together == state(rt)

    for kr_id, truth in scenario.truth.items():
        n_open, n_done, n_dropped, *_rest, owners_now, active = together["key_results"][kr_id]
        assert (n_open, n_done, n_dropped, owners_now, active) == (
            truth.n_open, truth.n_done, truth.n_dropped, (truth.owner,), True)
        assert {key for k, key, _s in together["members"] if k == kr_id} == truth.members


def test_the_split_covers_every_delivery_once():
    ids = list(range(1, 31))
    batches = split(ids, [5, 5, 17, 400], [0, 1], [0.0], [3, 1, 2])
    assert sorted(pk for _owner, chunk, _p in batches for pk in chunk) == ids
    assert {owner for owner, _c, _p in batches} == {0, 1}


def test_uuid_delivery_ids_of_the_stream_are_stable():
    assert [p.delivery for p in Scenario(seed=3).posts] == [p.delivery for p in Scenario(seed=3).posts]
    assert uuid.UUID(Scenario(seed=3).posts[0].delivery)
