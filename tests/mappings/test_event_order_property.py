"""Property: any order and any duplication of a key result's deliveries reach the same end as the
ordered stream, and the kept counters agree with `recount` (SQLite and the real HTTP path)."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.config import Settings
from integration.db import unit_of_work, upgrade
from integration.runtime import build_runtime
from integration.web.app import create_app
from mappings.recount import recount
from tests.conftest import GITHUB_SECRET, as_body, drain, github_headers
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

KR = "gh-codertocat-hello-world-10"
CHILDREN = (11, 12, 13, 14)
T0 = datetime(2026, 11, 2, tzinfo=UTC)

step = st.one_of(
    st.tuples(st.just("state"), st.sampled_from(CHILDREN),
              st.sampled_from([("open", None), ("closed", "completed"), ("closed", "not_planned"),
                               ("closed", "duplicate")])),
    st.tuples(st.just("link"), st.sampled_from(CHILDREN), st.booleans()),
    st.tuples(st.just("label"), st.sampled_from(CHILDREN), st.booleans()),
    st.tuples(st.just("assign"), st.just(10), st.sampled_from([(), ("alice",), ("bob",), ("alice", "bob")])),
)


def simulate(steps) -> list[tuple[str, dict]]:
    """The ordered stream: (event name, body), each body the item's whole state at that moment."""
    state = {n: {"state": "open", "reason": None, "okr": False} for n in CHILDREN}
    owners: tuple = ("alice",)
    stamp = iter(T0 + timedelta(minutes=i) for i in range(10_000))

    def issue(n, t):
        s = state[n]
        labels = (f"okr:{KR}",) if s["okr"] else ()
        return github_issue(n, state=s["state"], state_reason=s["reason"], labels=labels,
                            updated_at=t.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def anchor(t):
        return github_issue(10, labels=("key-result",), assignees=owners, updated_at=t.strftime("%Y-%m-%dT%H:%M:%SZ"))

    stream = [("issues", github_issues_event("opened", anchor(next(stamp))))]
    for kind, n, value in steps:
        t = next(stamp)
        if kind == "state":
            state[n]["state"], state[n]["reason"] = value
            action = "closed" if value[0] == "closed" else "reopened"
            stream.append(("issues", github_issues_event(action, issue(n, t))))
        elif kind == "link":
            action = "sub_issue_added" if value else "sub_issue_removed"
            stream.append(("sub_issues", github_sub_issue_event(action, anchor(t), issue(n, t))))
        elif kind == "label":
            state[n]["okr"] = value
            stream.append(("issues", github_issues_event("labeled" if value else "unlabeled", issue(n, t))))
        else:
            owners = value
            stream.append(("issues", github_issues_event("assigned", anchor(t))))
    return stream


def run(stream: list[tuple[str, bytes, str]]) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(database_url=f"sqlite:///{Path(tmp) / 'db.sqlite'}", queue_url=f"sqlite:///{Path(tmp) / 'q.db'}",
                     github_webhook_secrets=(GITHUB_SECRET,))
        rt = build_runtime(s)
        upgrade(rt.engine)
        client = create_app(s, runtime=rt, open_to_loopback=True).test_client()
        for event, body, delivery in stream:
            client.post("/webhooks/github", data=body, headers=github_headers(body, event, delivery))
            drain(rt)
        kr = client.get(f"/api/v1/key-results/{KR}").get_json()
        with unit_of_work(rt.sessions) as session:
            differences = recount(rt.domain.context(session, cause="recount"))
        rt.close()
    return (kr["progress"], kr["owner"], kr["ownership"], sorted(w["key"] for w in kr["work_items"])), differences


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12), data=st.data())
def test_any_order_and_duplication_converges(steps, data):
    ordered = [(event, as_body(body), str(uuid.uuid4())) for event, body in simulate(steps)]
    shuffled = data.draw(st.permutations(ordered))
    repeats = data.draw(st.lists(st.sampled_from(ordered), max_size=5))
    # a repeat is either a redelivery (same id: stored once) or the same body sent again under a new id
    fresh = data.draw(st.lists(st.booleans(), min_size=len(repeats), max_size=len(repeats)))
    scrambled = shuffled + [(e, b, str(uuid.uuid4()) if f else d) for (e, b, d), f in zip(repeats, fresh, strict=True)]
    expected, ordered_differences = run(ordered)
    got, scrambled_differences = run(scrambled)
    assert got == expected
    assert ordered_differences == [] and scrambled_differences == []
