"""Property: whatever the work, the numbers the pages print are the read API's (SQLite, the real HTTP path).

A file key result (measure count or points, with or without a target) anchored on an issue whose
sub-issues are drawn at random — open, done or dropped, with or without an estimate — is fed as signed
webhooks; `/` and `/key-results/<id>` must then print the API's percentage, done, total or target,
dropped, and the objective's percentage, read back as numbers from the page's text.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.apply.mapping_sync import sync_mapping_file
from integration.config import Settings
from integration.db import upgrade
from integration.runtime import build_runtime
from integration.web.app import create_app
from tests.conftest import GITHUB_SECRET, as_body, drain, github_headers
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

from .conftest import kr_rows

STATES = {"open": ("open", None), "done": ("closed", "completed"), "dropped": ("closed", "not_planned")}
item = st.tuples(st.sampled_from(sorted(STATES)), st.none() | st.integers(1, 8))


def okrs(measure: str, target: int | None) -> str:
    today = date.today()
    return (f"period: {{start: {today - timedelta(days=30)}, end: {today + timedelta(days=60)}}}\n"
            "objectives:\n  - id: o\n    title: Objective\n    key_results:\n"
            f"      - id: kr\n        title: Property key result\n        measure: {measure}\n"
            + (f"        target: {target}\n" if target else "")
            + "        sources:\n          - github_issue: Codertocat/Hello-World#10\n")


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def page_numbers(row: dict[str, str]) -> tuple:
    percent = None if row["kr-percent"] == "–" else float(row["kr-percent"].rstrip("%"))
    return percent, numbers(row["kr-done"])[:2], float(row["kr-dropped"])


def api_numbers(p: dict) -> tuple:
    return p["percent"], [p["done"], p["target"] or p["total"]], p["dropped"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(item, max_size=8), measure=st.sampled_from(["count", "points"]),
       target=st.none() | st.integers(1, 12), owners=st.sampled_from([(), ("alice",), ("alice", "bob")]))
def test_the_pages_print_the_api_numbers(items, measure, target, owners):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "okrs.yml"
        path.write_text(okrs(measure, target))
        s = Settings(database_url=f"sqlite:///{Path(tmp) / 'db.sqlite'}", queue_url=f"sqlite:///{Path(tmp) / 'q.db'}",
                     github_webhook_secrets=(GITHUB_SECRET,), mappings=str(path))
        rt = build_runtime(s)
        try:
            upgrade(rt.engine)
            sync_mapping_file(rt, force=True)
            client = create_app(s, runtime=rt, open_to_loopback=True).test_client()

            def post(event: str, body: dict) -> None:
                raw = as_body(body)
                assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, event)).status_code == 202

            anchor = github_issue(10, title="Anchor", assignees=owners, updated_at="2026-11-02T10:00:00Z")
            post("issues", github_issues_event("opened", anchor))
            for k, (state, points) in enumerate(items):
                gh_state, reason = STATES[state]
                child = github_issue(11 + k, state=gh_state, state_reason=reason, updated_at="2026-11-03T10:00:00Z",
                                     labels=(f"points:{points}",) if points else ())
                post("issues", github_issues_event("opened", child))
                post("sub_issues", github_sub_issue_event("sub_issue_added", anchor, child))
            drain(rt)

            api = client.get("/api/v1/key-results/kr").get_json()
            row = kr_rows(client.get("/").get_data(as_text=True))["kr"]
            assert page_numbers(row) == api_numbers(api["progress"])
            detail = kr_rows(client.get("/key-results/kr").get_data(as_text=True))["kr"]
            assert page_numbers(detail) == api_numbers(api["progress"])
            [objective] = client.get("/api/v1/objectives").get_json()["objectives"]
            html = client.get("/").get_data(as_text=True)
            shown = re.search(r'<span class="objective-percent">([^<]*)</span>', html)[1]
            expected = objective["progress"]["percent"]
            assert shown == ("–" if expected is None else f"{expected:g}%")
        finally:
            rt.close()
