"""Property: whatever order a comment's versions, deletion and redeliveries are applied in, one at a time
or in batches, the stored check-in is the newest version (or withdrawn), and it is answered at most once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from integration.apply.processing import process_deliveries
from integration.writeback.models import CheckinAnswer, OutboxEntry
from mappings.models import CheckinRow, KeyResult, KeyResultEvent, Membership, Objective, WorkItem
from tests.payloads import github_comment_event, github_issue, github_issues_event
from webhooks.inbox import IncomingDelivery
from webhooks.models import Delivery

TABLES = (Delivery, WorkItem, KeyResult, Membership, KeyResultEvent, Objective, OutboxEntry, CheckinRow,
          CheckinAnswer)
T0 = datetime(2026, 11, 5, 9, tzinfo=UTC)
ANCHOR = github_issue(10, labels=("key-result",), assignees=("alice",), updated_at="2026-11-02T10:00:00Z")


def _at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _store(rt, event: str, payload: dict) -> int | None:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event}
    return rt.inbox.store(IncomingDelivery("github", str(uuid.uuid4()), event, payload["action"], headers, body,
                                           datetime.now(UTC)))


versions = st.lists(st.tuples(st.sampled_from(["on-track", "at-risk", "off-track", "sideways"]), st.integers(0, 10)),
                    min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), edits=versions, deleted=st.booleans(), owner=st.booleans(), batch=st.integers(1, 4))
def test_any_order_ends_at_the_newest_version(rt, data, edits, deleted, owner, batch):
    with rt.engine.begin() as conn:
        for model in TABLES:
            conn.execute(delete(model))
    assert process_deliveries(rt, [_store(rt, "issues", github_issues_event("opened", ANCHOR))]) == {}
    author = "alice" if owner else "mallory"
    bodies = [f"/checkin {status} {confidence}/10 v{i}" for i, (status, confidence) in enumerate(edits)]
    posts = [("created" if i == 0 else "edited", body, i) for i, body in enumerate(bodies)]
    if deleted:
        posts.append(("deleted", bodies[-1], len(bodies) - 1))
    posts += data.draw(st.lists(st.sampled_from(posts), max_size=3))  # redeliveries
    order = data.draw(st.permutations(posts))
    ids = [_store(rt, "issue_comment", github_comment_event(action, ANCHOR, comment_id=42, body=body, author=author,
                                                            created_at=_at(0), updated_at=_at(minute)))
           for action, body, minute in order]
    for start in range(0, len(ids), batch):
        assert process_deliveries(rt, ids[start:start + batch]) == {}

    with rt.sessions() as s:
        [row] = s.scalars(select(CheckinRow))
        answered = list(s.scalars(select(CheckinAnswer)))
    status, confidence = edits[-1]
    verdict = "not_owner" if not owner else "bad_input" if status == "sideways" else "accepted"
    assert row.withdrawn is deleted
    assert (len(answered) <= 1) if deleted else (len(answered) == 1)  # deleted first: maybe never answered
    if not deleted:
        accepted = verdict == "accepted"
        assert (row.verdict, row.status, row.confidence, row.note) == (
            verdict, status.replace("-", "_") if accepted else None, confidence if accepted else None,
            f"v{len(edits) - 1}" if accepted else "")
        assert row.updated_at == T0 + timedelta(minutes=len(edits) - 1)
