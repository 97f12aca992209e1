"""Property (issue 13): for random histories, every number the weekly summary prints is the API's and the history's.

A file key result on an issue whose sub-issues start open, done or dropped; a first summary is sent; then
a random sequence of state changes arrives as signed webhooks (the real HTTP path, SQLite). The second
summary must print the API's percentage, the change since the first summary in points, the items done
this week (count and list: done now and not done at the start, item by item), the burn-up's done and
scope (all but the dropped), and a forecast only when the history allows one (here: minutes of it, so
"done" at 100% and "not enough history yet" otherwise). Random check-ins (rows as the check-in apply path
stores them, some withdrawn) must print the current one the contract names (`mappings.checkins.current_checkins`,
the API's `checkin`): the owner's status beside the API's health, flagged exactly when the two differ.
"""

from __future__ import annotations

import html
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from sqlalchemy import update

from integration.apply.mapping_sync import sync_mapping_file
from integration.config import Settings
from integration.db import unit_of_work, upgrade
from integration.runtime import build_runtime
from integration.summaries.build import targets
from integration.summaries.models import SummaryPost
from integration.summaries.post import claim, compose
from integration.web.app import create_app
from mappings.checkins import current_checkins
from mappings.models import CheckinRow
from tests.conftest import GITHUB_SECRET, as_body, drain, github_headers
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

CHECKIN_STATUSES = ("on_track", "at_risk", "off_track")
NOTES = ("", "vendor API slipped a week", "ping @bob and [~carol] <b>now</b> **please**", "two\nlines")
# (status, confidence, note, hours ago, withdrawn)
checkin = st.tuples(st.sampled_from(CHECKIN_STATUSES), st.one_of(st.none(), st.integers(0, 10)),
                    st.sampled_from(NOTES), st.integers(0, 20 * 24), st.booleans())
STATES = {"open": ("open", None), "done": ("closed", "completed"), "dropped": ("closed", "not_planned")}
state = st.sampled_from(sorted(STATES))


def okrs() -> str:
    today = date.today()
    return (f"period: {{start: {today - timedelta(days=30)}, end: {today + timedelta(days=60)}}}\n"
            "summaries:\n  - github_issue: Codertocat/Hello-World#1\n"
            "objectives:\n  - id: o\n    title: Objective\n    key_results:\n"
            "      - id: kr\n        title: Property key result\n"
            "        sources:\n          - github_issue: Codertocat/Hello-World#10\n")


def kr_numbers(body: str) -> tuple[float, str]:
    """(percentage, the rest of the key result's line) from the summary's second line for it."""
    lines = body.splitlines()
    line = lines[next(i for i, text in enumerate(lines) if "Property key result" in text) + 1]
    match = re.search(r"` (\d+%|no work linked) · (.*)$", line)
    return (None if match[1] == "no work linked" else float(match[1].rstrip("%"))), match[2]


def burnup_now(body: str) -> tuple[float, float]:
    done, scope = [line for line in body.splitlines() if line.startswith("    line [")]
    return float(done.rstrip("]").split(", ")[-1]), float(scope.rstrip("]").split(", ")[-1])


def done_list(body: str) -> list[str]:
    section = body.split("Done this week", 1)[1]
    return re.findall(r"^  - \[(#\d+)\]", section, re.M)


def store_checkins(rt, checkins, now: datetime) -> None:
    with unit_of_work(rt.sessions) as s:
        for n, (status, confidence, note, hours_ago, withdrawn) in enumerate(checkins):
            at = now - timedelta(hours=hours_ago, seconds=1)
            s.add(CheckinRow(comment_key=f"github:codertocat/hello-world#10@{n}", kr_id="kr", verdict="accepted",
                             status=status, confidence=confidence, note=note, author_login="alice",
                             url=f"https://github.com/Codertocat/Hello-World/issues/10#issuecomment-{n}",
                             written_at=at, updated_at=at, withdrawn=withdrawn))


def check_the_checkin(body: str, rest: str, health: str, checkins, current, now: datetime) -> None:
    standing = [c for c in checkins if not c[4]]
    newest = min(standing, key=lambda c: c[3]) if standing else None  # the fewest hours ago
    assert (current is None) == (newest is None)  # the contract agrees with the test's own truth
    if newest is None:
        assert " · no check-in yet · " in rest and "Check-in by" not in body
        return
    assert (current.status.value, current.confidence, current.note) == newest[:3]
    says = f"owner says {current.status.words}"
    differs = health in CHECKIN_STATUSES and health != current.status.value
    flag = " ⚠️ **disagrees with the computed health**"
    assert f" · {says}{flag if differs else ''} · " in rest
    assert (flag in body) == differs
    line = next(text for text in body.splitlines() if text.startswith("  Check-in by "))
    at = now - timedelta(hours=newest[3], seconds=1)
    said = current.status.words + (f" ({current.confidence}/10)" if current.confidence is not None else "")
    prefix = f"  Check-in by @&#8203;alice, {at.day} {at:%b}: {said}"
    assert line.startswith(prefix)
    note = line[len(prefix):]
    shown = html.unescape(MarkdownIt("commonmark", {"html": True}).renderInline(note.removeprefix(": ")))
    assert shown.replace("\u200b", "") == " ".join(current.note.split())
    assert (note == "") == (not current.note.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.lists(state, min_size=1, max_size=4),
       changes=st.lists(st.tuples(st.integers(0, 3), state), max_size=8),
       checkins=st.lists(checkin, max_size=3, unique_by=lambda c: c[3]))
def test_the_summary_prints_the_api_and_history_numbers(start, changes, checkins):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "okrs.yml"
        path.write_text(okrs())
        s = Settings(database_url=f"sqlite:///{Path(tmp) / 'db.sqlite'}", queue_url=f"sqlite:///{Path(tmp) / 'q.db'}",
                     github_webhook_secrets=(GITHUB_SECRET,), mappings=str(path),
                     api_token="api-token")
        rt = build_runtime(s)
        try:
            upgrade(rt.engine)
            sync_mapping_file(rt, force=True)
            client = create_app(s, runtime=rt, open_to_loopback=True).test_client()
            clock = iter(range(1, 1000))

            def post(event: str, body: dict) -> None:
                raw = as_body(body)
                assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, event)).status_code == 202

            def child(k: int, name: str) -> dict:
                gh_state, reason = STATES[name]
                return github_issue(11 + k, title=f"Item {k}", state=gh_state, state_reason=reason,
                                    assignees=("bob",), updated_at=f"2026-11-03T10:{next(clock) // 60:02d}:"
                                                                   f"{next(clock) % 60:02d}Z")

            anchor = github_issue(10, title="Anchor", assignees=("alice",), updated_at="2026-11-02T10:00:00Z")
            post("issues", github_issues_event("opened", anchor))
            for k, name in enumerate(start):
                kid = child(k, name)
                post("issues", github_issues_event("opened", kid))
                post("sub_issues", github_sub_issue_event("sub_issue_added", anchor, kid))

            drain(rt)
            now = datetime.now(UTC)
            with rt.sessions() as session:
                [target] = targets(rt, session)
                first_body, first_data = compose(rt, session, target, now)
            post_id = claim(rt, "summary", target.id, target.anchor, "first", first_body, first_data, now)
            with rt.engine.begin() as conn:
                conn.execute(update(SummaryPost).where(SummaryPost.id == post_id).values(state="sent"))
            first = client.get("/api/v1/key-results/kr", headers={"Authorization": "Bearer api-token"}).get_json()

            for index, name in changes:
                if index < len(start):
                    post("issues", github_issues_event("edited", child(index, name)))
            drain(rt)
            now = datetime.now(UTC)
            store_checkins(rt, checkins, now)
            with rt.sessions() as session:
                body, _ = compose(rt, session, target, now)
                current = current_checkins(session, ["kr"]).get("kr")
            api = client.get("/api/v1/key-results/kr", headers={"Authorization": "Bearer api-token"}).get_json()
            progress = api["progress"]
            percent, rest = kr_numbers(body)
            assert percent == (None if progress["percent"] is None else round(progress["percent"]))
            was, is_now = first["progress"]["raw_percent"], progress["raw_percent"]
            before = {i["key"]: i["state"] for i in first["work_items"]}
            done_now = sorted((i for i in api["work_items"] if i["state"] == "done" and before[i["key"]] != "done"),
                              key=lambda i: int(i["key"].rsplit("#", 1)[1]))
            refs = [f"#{i['key'].rsplit('#', 1)[1]}" for i in done_now]
            assert sorted(done_list(body)) == sorted(refs)
            done_text = f"{len(done_now)} done this week" if done_now else None
            if was is None or is_now is None:
                shown = ["first summary"] + ([done_text] if done_text else [])
            else:
                delta = round(is_now - was)
                expected = [f"{delta:+d} pts".replace("-", "−") if delta else "±0 pts" if done_now else None, done_text]
                shown = [p for p in expected if p] or ["no change since the last summary"]
            assert rest.startswith(", ".join(shown) + " · ")
            assert burnup_now(body) == (progress["done"], progress["total"])
            assert progress["total"] == sum(1 for i in api["work_items"] if i["state"] != "dropped")
            wanted = "done" if (is_now or 0) >= 100 else "not enough history yet"
            assert rest.endswith(" · " + wanted)
            check_the_checkin(body, rest, api["health"], checkins, current, now)
        finally:
            rt.close()
