"""`/` runs as many SQL statements over 30 key results as over 3: nothing is read per key result."""

from __future__ import annotations

from sqlalchemy import event

from tests.conftest import drain
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event


def _key_results(post_github, rt, first: int, count: int) -> None:
    for n in range(first, first + count):
        anchor = github_issue(n * 10, title=f"KR {n}", labels=("key-result",), assignees=(f"owner{n % 4}",),
                              updated_at="2026-11-02T10:00:00Z")
        post_github(github_issues_event("opened", anchor), event="issues")
        for k in (1, 2):
            child = github_issue(n * 10 + k, state="closed" if k == 1 else "open",
                                 state_reason="completed" if k == 1 else None, updated_at="2026-11-02T10:00:00Z")
            post_github(github_issues_event("opened", child), event="issues")
            post_github(github_sub_issue_event("sub_issue_added", anchor, child), event="sub_issues")
    drain(rt)


def _statements(rt, client, url: str) -> tuple[int, str]:
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_the_dashboard_reads_a_fixed_number_of_statements(post_github, rt, client):
    _key_results(post_github, rt, 1, 3)
    small, html = _statements(rt, client, "/")
    assert html.count('<tr class="kr"') == 3
    _key_results(post_github, rt, 4, 27)
    large, html = _statements(rt, client, "/")
    assert html.count('<tr class="kr"') == 30
    assert large == small <= 6  # one more than before check-ins: their current_checkins read
    filtered, html = _statements(rt, client, "/?owner=owner1&health=off_track")
    assert filtered == small
