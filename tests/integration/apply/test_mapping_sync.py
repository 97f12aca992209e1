"""okrs.yml reaches every worker process: the periodic check runs in one of them, and each process
checks again before it applies deliveries, so none applies a mapping older than the database's."""

from __future__ import annotations

import os

from integration.apply.mapping_sync import sync_mapping_file
from integration.web.app import create_app
from tests.conftest import as_body, drain, github_headers
from tests.payloads import github_issue, github_issues_event

OKRS = """\
objectives:
  - id: o
    title: Ship
    key_results:
      - id: launch
        title: Launch
        owner: erin
        sources:
          - github_milestone: Codertocat/Hello-World/7
"""
DOCS = "      - id: docs\n        title: Docs\n        sources:\n          - github_issue: Codertocat/Hello-World#20\n"


def test_a_second_worker_process_applies_the_file_the_first_one_synced(make_runtime, settings, tmp_path):
    okrs = tmp_path / "okrs.yml"
    okrs.write_text(OKRS)
    shared = settings.with_overrides(mappings=str(okrs))
    first = make_runtime(shared)  # two worker processes on one database, each with its own queue here
    second = make_runtime(shared.with_overrides(queue_url=f"sqlite:///{tmp_path / 'second-queue.db'}"))
    assert sync_mapping_file(first) is not None and sync_mapping_file(second) is not None  # their starts

    okrs.write_text(OKRS + DOCS)
    os.utime(okrs, (1, 2_000_000_000))
    assert first.tasks.sync_mappings.call_local() is True  # the periodic check ran in the first process
    body = as_body(github_issues_event("opened", github_issue(20, assignees=("dana",),
                                                              updated_at="2026-11-02T10:00:00Z")))
    client = create_app(second.settings, runtime=second).test_client()
    assert client.post("/webhooks/github", data=body, headers=github_headers(body, "issues")).status_code == 202
    drain(second)  # the second process takes the delivery

    docs = client.get("/api/v1/key-results/docs").get_json()
    assert (docs["anchor"]["key"], docs["owner"]["login"], docs["ownership"]) == (
        "github:Codertocat/Hello-World#20", "dana", "ok")
