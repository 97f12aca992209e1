"""The key result's page links to its living comment once write-back wrote it (GitHub faked at the HTTP level)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.web.app import create_app
from integration.writeback.models import OutboxEntry
from integration.writeback.sender import send
from tests.conftest import github_poster
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

KR = "gh-codertocat-hello-world-10"


@pytest.fixture
def rt(token_rt):
    return token_rt


def test_the_page_links_the_living_comment_once_written(rt, github):
    client = create_app(rt.settings, runtime=rt, open_to_loopback=True).test_client()
    post = github_poster(rt, client=client)

    anchor = github_issue(10, title="Ship the new onboarding", labels=("key-result",), assignees=("alice",),
                          updated_at="2026-11-02T10:00:00Z")
    post(github_issues_event("opened", anchor))
    post(github_sub_issue_event("sub_issue_added", anchor, github_issue(11, updated_at="2026-11-03T10:00:00Z")),
         event="sub_issues")
    assert "not written yet" in client.get(f"/key-results/{KR}").get_data(as_text=True)

    with rt.sessions() as session:
        entry_id = session.scalar(select(OutboxEntry.id).where(OutboxEntry.kr_id == KR))
    send(rt, entry_id, now=datetime.now(UTC) + timedelta(seconds=61))
    [comment] = github.on(10)
    html = client.get(f"/key-results/{KR}").get_data(as_text=True)
    link = f"https://github.com/Codertocat/Hello-World/issues/10#issuecomment-{comment['id']}"
    assert f'<a href="{link}">the progress comment on the tracker</a>' in html
