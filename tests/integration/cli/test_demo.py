"""`okrbot demo` loads a marked sample through the apply path, with weeks of history; `--clear` removes only it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from integration.config import load_settings
from integration.demo.story import REPO, history_days
from integration.runtime import build_runtime
from integration.web.app import create_app
from integration.writeback.models import OutboxEntry
from mappings.models import KeyResultEvent, WorkItem
from mappings.okrs_file import current_quarter
from tests.conftest import GITHUB_SECRET, drain, github_headers
from tests.payloads import github_issue, github_issues_event
from webhooks.models import RECEIVED, Delivery

from .test_cli import env, run  # noqa: F401 - the CLI tests' environment fixture


def test_demo_loads_a_marked_sample_and_clear_removes_only_it(env):  # noqa: F811
    assert run(env, "db", "upgrade")[0] == 0
    rt = build_runtime(load_settings(env))
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    try:
        body = github_issues_event("opened", github_issue(5, title="A real key result", labels=("key-result",),
                                                          updated_at="2026-11-02T10:00:00Z"))
        raw = json.dumps(body).encode()
        assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues", secret=GITHUB_SECRET)
                           ).status_code == 202
        drain(rt)

        code, out = run(env, "demo")
        assert code == 0, out
        assert "6 key results" in out and "okrbot demo --clear" in out
        krs = {kr["id"]: kr for kr in client.get("/api/v1/key-results").get_json()["key_results"]}
        sample = {i: kr for i, kr in krs.items() if i.startswith("gh-okrbot-demo-sample-")}
        assert len(sample) == 6 and len(krs) == 7
        assert all(kr["title"].startswith("[sample] ") for kr in sample.values())
        assert sorted(kr["ownership"] for kr in sample.values()) == ["none", "ok", "ok", "ok", "ok", "shared"]
        assert len(client.get("/api/v1/objectives").get_json()["objectives"]) == 2
        assert sample["gh-okrbot-demo-sample-22"]["owner"]["login"] == "frank"  # reassigned on the way
        with rt.sessions() as session:
            first = session.scalar(select(func.min(KeyResultEvent.at)).where(
                KeyResultEvent.kr_id == "gh-okrbot-demo-sample-10"))
            assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == RECEIVED)) == 0
            states = set(session.scalars(select(OutboxEntry.state).where(OutboxEntry.kr_id.in_(list(sample)))))
        today = datetime.now(UTC).date()
        span = history_days(today, current_quarter(today)[0])
        assert (today - first.date()).days == span  # weeks of history, as the apply path dated it
        assert states == {"skipped"}  # never written to a tracker
        page = client.get("/key-results/gh-okrbot-demo-sample-10").get_data(as_text=True)
        assert page.split('class="series series-done"')[1].split("</g>")[0].count("<circle") == span + 1

        code, out = run(env, "demo")
        assert code == 1 and "already loaded" in out

        code, out = run(env, "demo", "--clear")
        assert code == 0 and "6 key_results" in out
        assert [kr["id"] for kr in client.get("/api/v1/key-results").get_json()["key_results"]] == [
            "gh-codertocat-hello-world-5"]
        with rt.sessions() as session:
            assert session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.container == REPO)) == 0
            assert session.scalar(select(func.count()).select_from(Delivery)) == 1
    finally:
        rt.close()
