"""Weekly summaries and check-in reminders, posted through the real client; GitHub's HTTP faked."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from integration.summaries.models import SummaryPost
from integration.summaries.post import deliver, retry_due, run_due
from integration.web.app import create_app
from mappings.models import KeyResultEvent
from tests.checkins import store_checkin
from tests.conftest import as_body, drain, github_headers
from tests.fake_trackers import Forced
from tests.integration.conftest import TOKEN
from tests.payloads import github_issue, github_issues_event, github_sub_issue_event

MONDAY_0905 = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)  # ISO week 2026-W49


@pytest.fixture
def rt(token_rt):
    return token_rt


@pytest.fixture
def world(rt, github):
    """A summary issue (labelled okr-summary) and one key result owned by alice with two sub-issues."""
    client = create_app(rt.settings, runtime=rt).test_client()

    def post(body, event="issues"):
        raw = as_body(body)
        assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, event)).status_code == 202
        drain(rt)

    anchor = github_issue(10, title="Ship the new onboarding", labels=("key-result",), assignees=("alice",),
                          updated_at="2026-11-02T10:00:00Z")
    kids = [github_issue(11, state="closed", state_reason="completed", assignees=("bob",),
                         updated_at="2026-11-03T10:00:00Z"), github_issue(12, updated_at="2026-11-03T10:00:00Z")]
    github.sub_issue_lists[("Codertocat/Hello-World", 10)] = kids
    post(github_issues_event("opened", github_issue(1, title="OKR updates", labels=("okr-summary",),
                                                    updated_at="2026-11-01T10:00:00Z")))
    post(github_issues_event("opened", anchor))
    for kid in kids:
        post(github_sub_issue_event("sub_issue_added", anchor, kid), event="sub_issues")
    return post


def summary_posts(github) -> list[str]:
    return [body for method, path, body in github.writes()
            if method == "POST" and path == "/repos/Codertocat/Hello-World/issues/1/comments"]


def test_the_weekly_summary_calls_the_owner_once_a_week(rt, github, world):
    assert run_due(rt, now=MONDAY_0905 - timedelta(minutes=10)) == []  # 08:55: not yet
    posted = run_due(rt, now=MONDAY_0905)
    [body] = summary_posts(github)
    assert body.startswith("<!-- okrbot:summary=github:Codertocat/Hello-World#1:2026-W49 -->\n")
    assert "@alice" in body and "Ship the new onboarding" in body and "50%" in body
    assert "@bob" not in body  # contributors are named, only owners are called
    assert len(posted) >= 1
    assert [p for p in run_due(rt, now=MONDAY_0905 + timedelta(hours=3))
            if _kind(rt, p) == "summary"] == []  # the same ISO week: nothing more
    assert len(summary_posts(github)) == 1
    late = MONDAY_0905 + timedelta(days=7, hours=30)  # next week, and the clock fired a day late
    run_due(rt, now=late)
    assert len(summary_posts(github)) == 2


def _kind(rt, post_id: int) -> str:
    with rt.sessions() as s:
        return s.get(SummaryPost, post_id).kind


def test_exactly_once_with_two_schedulers_racing_on_postgres(make_runtime, settings, postgres_url, github):
    rt = make_runtime(settings.with_overrides(database_url=postgres_url, github_token=TOKEN))
    other = make_runtime(rt.settings)
    client = create_app(rt.settings, runtime=rt).test_client()
    raw = as_body(github_issues_event("opened", github_issue(1, title="OKR updates", labels=("okr-summary",),
                                                             updated_at="2026-11-01T10:00:00Z")))
    client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues"))
    drain(rt)
    barrier = threading.Barrier(2)

    def scheduler(runtime):
        barrier.wait()
        run_due(runtime, now=MONDAY_0905)

    threads = [threading.Thread(target=scheduler, args=(r,)) for r in (rt, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SummaryPost).where(SummaryPost.kind == "summary")) == 1
    assert len(summary_posts(github)) == 1


def test_a_failed_post_is_retried_until_it_lands_and_never_twice(rt, github, world):
    github.forced.append(Forced(502, {"message": "Bad Gateway"}, happened=True))
    run_due(rt, now=MONDAY_0905)
    with rt.sessions() as s:
        post = s.scalars(select(SummaryPost).where(SummaryPost.kind == "summary")).one()
        assert (post.state, post.attempts) == ("pending", 1)
    assert retry_due(rt, now=MONDAY_0905 + timedelta(minutes=1)) == [post.id]
    assert deliver(rt, post.id, now=MONDAY_0905 + timedelta(minutes=1)) is None
    assert len(summary_posts(github)) == 1  # it had landed: found by its marker
    with rt.sessions() as s:
        assert s.get(SummaryPost, post.id).state == "sent"


def test_summary_dry_run_prints_what_would_be_posted(rt, github, world):
    from integration.cli.main import main

    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url,
           "OKRBOT_GITHUB_TOKEN": TOKEN, "OKRBOT_GITHUB_WEBHOOK_SECRET": "x"}
    result = CliRunner().invoke(main, ["summary", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("--- github:Codertocat/Hello-World#1 (github:Codertocat/Hello-World#1)\n")
    assert "@alice" in result.output
    assert summary_posts(github) == []
    result = CliRunner().invoke(main, ["summary", "--post"], env=env)
    assert result.output == "github:Codertocat/Hello-World#1: posted\n"
    assert len(summary_posts(github)) == 1


def test_a_key_result_without_progress_gets_one_reminder_a_week(rt, github, world):
    with rt.engine.begin() as conn:  # nine days without movement
        conn.execute(update(KeyResultEvent).values(at=datetime.now(UTC) - timedelta(days=9)))
    now = datetime.now(UTC)
    run_due(rt, now=now)  # the week's summary goes first; the reminder waits for the write budget
    for post_id in retry_due(rt, now=now + timedelta(seconds=2)):
        deliver(rt, post_id, now=now + timedelta(seconds=2))
    reminders = [body for _, path, body in github.writes() if path == "/repos/Codertocat/Hello-World/issues/10/comments"
                 and "okrbot:reminder=" in body]
    assert len(reminders) == 1
    assert "@alice, a check-in: **Ship the new onboarding** has had no progress for 9 days" in reminders[0]
    assert reminders[0].endswith(
        "Close what is done, or check in here: a comment on this issue whose first line is "
        "`/checkin on-track|at-risk|off-track [confidence/10] [note]`, "
        "for example `/checkin at-risk 6/10 vendor API slipped a week`.\n")
    run_due(rt, now=now + timedelta(hours=1))
    assert len([b for _, _, b in github.writes() if "okrbot:reminder=" in b]) == 1


OKRS = """\
period: {start: 2026-10-01, end: 2026-12-31}
summaries:
  - github_issue: Codertocat/Hello-World#1
    objectives: [growth]
    weekday: tuesday
    hour: 8
    timezone: Asia/Tokyo
reminders:
  after_days: 5
  skip_people: [carol]
objectives:
  - id: growth
    title: Growth
    key_results:
      - id: onboarding
        title: Ship the new onboarding
        sources:
          - github_issue: Codertocat/Hello-World#10
  - id: quiet
    title: Quiet objective
    reminders: false
    key_results:
      - id: docs
        title: Docs
        owner: dave
        sources:
          - github_issue: Codertocat/Hello-World#20
"""


def make_file_world(make_runtime, settings, path, github, okrs: str, issues=((10, "alice"), (20, "dave"))):
    from integration.reconcile.sync import sync_key_result

    path.write_text(okrs)
    rt = make_runtime(settings.with_overrides(github_token=TOKEN, mappings=str(path)))
    client = create_app(rt.settings, runtime=rt).test_client()
    for n, owner in issues:
        kid = github_issue(n + 1, updated_at="2026-11-03T10:00:00Z")
        github.sub_issue_lists[("Codertocat/Hello-World", n)] = [kid]
        raw = as_body(github_issues_event("opened", github_issue(n, assignees=(owner,),
                                                                 updated_at="2026-11-02T10:00:00Z")))
        assert client.post("/webhooks/github", data=raw, headers=github_headers(raw, "issues")).status_code == 202
    drain(rt)
    for kr_id in ("onboarding", "docs"):
        sync_key_result(rt, kr_id)
    return rt


@pytest.fixture
def file_world(make_runtime, settings, tmp_path, github):
    return make_file_world(make_runtime, settings, tmp_path / "okrs.yml", github, OKRS)


def test_okrs_file_targets_keep_their_weekday_timezone_and_objectives(file_world, github):
    rt = file_world
    monday_2330_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # Tuesday 08:30 in Tokyo
    assert [p for p in run_due(rt, now=monday_2330_utc - timedelta(hours=1)) if _kind(rt, p) == "summary"] == []
    run_due(rt, now=monday_2330_utc)
    [body] = summary_posts(github)
    assert "okrbot:summary=github:codertocat/hello-world#1:2026-W49" in body
    assert "Ship the new onboarding" in body and "@alice" in body
    assert "Docs" not in body and "@dave" not in body  # the target covers the growth objective only


def test_a_file_target_in_another_case_is_posted_on_the_issue_as_github_spells_it(make_runtime, settings,
                                                                                  tmp_path, github):
    lower = OKRS.replace("Codertocat/Hello-World", "codertocat/hello-world")
    rt = make_file_world(make_runtime, settings, tmp_path / "okrs.yml", github, lower,
                         issues=((1, "erin"), (10, "alice"), (20, "dave")))
    run_due(rt, now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    [body] = summary_posts(github)  # POSTed to /repos/Codertocat/Hello-World/issues/1/comments
    assert "okrbot:summary=github:codertocat/hello-world#1:2026-W49" in body
    assert "Ship the new onboarding" in body and "@alice" in body


def test_reminders_follow_the_files_limits(file_world, github):
    rt = file_world
    with rt.engine.begin() as conn:
        conn.execute(update(KeyResultEvent).values(at=datetime.now(UTC) - timedelta(days=6)))
    now = datetime.now(UTC)
    run_due(rt, now=now)
    for post_id in retry_due(rt, now=now + timedelta(seconds=3)):
        deliver(rt, post_id, now=now + timedelta(seconds=3))
    reminded = [path for _, path, body in github.writes() if "okrbot:reminder=" in body]
    assert reminded == ["/repos/Codertocat/Hello-World/issues/10/comments"]  # not the objective switched off
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SummaryPost).where(SummaryPost.kind == "reminder")) == 1


def test_no_reminder_outside_the_period_or_for_people_who_asked(file_world, github):
    from integration.summaries.post import due_reminders

    rt = file_world
    with rt.engine.begin() as conn:
        conn.execute(update(KeyResultEvent).values(at=datetime(2026, 10, 1, tzinfo=UTC)))
    assert due_reminders(rt, datetime(2027, 1, 15, tzinfo=UTC)) == []  # after the period
    from mappings.models import KeyResult

    with rt.engine.begin() as conn:
        conn.execute(update(KeyResult).where(KeyResult.id == "onboarding").values(owner_override="carol"))
    assert due_reminders(rt, datetime(2026, 12, 1, tzinfo=UTC)) == []  # carol asked not to be nudged


def test_a_summary_that_fails_for_good_shows_in_the_outbox(rt, github, world):
    from integration.cli.main import main

    github.forced.append(Forced(410, {"message": "This issue was deleted"}))
    run_due(rt, now=MONDAY_0905)
    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url}
    out = CliRunner().invoke(main, ["outbox", "--failed"], env=env).output.splitlines()
    assert out[0].split()[:3] == ["KIND", "FOR", "STATE"]
    [line] = [row for row in out[1:] if row.startswith("summary")]
    assert "github:Codertocat/Hello-World#1" in line and "failed" in line
    assert "Gone: GitHub 410: This issue was deleted" in line


def test_okrbots_own_summary_and_reminder_comments_are_recognised():
    from integration.writeback.render import is_own_comment, marker

    assert is_own_comment(marker("github", "github:acme/web#1:2026-W49", "summary") + "\n## 📊 OKR summary")
    assert is_own_comment("@alice, a check-in …\n~" + marker("jira", "jira-proj-1:2026-W49", "reminder") + "~")
    assert is_own_comment(marker("github", "gh-acme-web-12"))
    assert not is_own_comment("I think okrbot is wrong about kr gh-acme-web-12")


# --- check-ins and reminders (issue 13): rows as the check-in apply path writes them -----------------

TOKYO_TUESDAY = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 12:00 in Tokyo, ISO week 2026-W49 there


def _quiet_for_days(rt, days: int, now: datetime) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(KeyResultEvent).values(at=now - timedelta(days=days)))


def test_no_reminder_in_a_week_the_owner_checked_in_in_the_summarys_timezone(file_world, github):
    from integration.summaries.post import due_reminders

    rt = file_world
    _quiet_for_days(rt, 9, TOKYO_TUESDAY)
    # Monday 00:30 in Tokyo, the summary's timezone: this week there (in UTC still last week's Sunday)
    store_checkin(rt, "onboarding", datetime(2026, 11, 29, 15, 30, tzinfo=UTC), 1)
    assert due_reminders(rt, TOKYO_TUESDAY) == []
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SummaryPost)) == 0


def test_a_checkin_last_week_still_gets_the_reminder_that_tells_how_to_check_in(file_world, github):
    from integration.summaries.post import due_reminders

    rt = file_world
    _quiet_for_days(rt, 9, TOKYO_TUESDAY)
    store_checkin(rt, "onboarding", datetime(2026, 11, 29, 14, 30, tzinfo=UTC), 1)  # Sunday 23:30 in Tokyo: W48
    store_checkin(rt, "onboarding", datetime(2026, 11, 30, 1, 0, tzinfo=UTC), n=2, withdrawn=True)  # deleted
    [post_id] = due_reminders(rt, TOKYO_TUESDAY)
    with rt.sessions() as s:
        post = s.get(SummaryPost, post_id)
        assert (post.target, post.week, post.anchor) == ("reminder:onboarding", "2026-W49",
                                                        "github:Codertocat/Hello-World#10")
    deliver(rt, post_id, now=TOKYO_TUESDAY)
    [(method, path, body)] = [w for w in github.writes() if "okrbot:reminder=" in w[2]]
    assert (method, path) == ("POST", "/repos/Codertocat/Hello-World/issues/10/comments")
    assert body == (
        "<!-- okrbot:reminder=onboarding:2026-W49 -->\n"
        "@alice, a check-in: **Ship the new onboarding** has had no progress for 9 days (0% · 0 of 1 done). "
        "Close what is done, or check in here: a comment on this issue whose first line is "
        "`/checkin on-track|at-risk|off-track [confidence/10] [note]`, "
        "for example `/checkin at-risk 6/10 vendor API slipped a week`.\n")
    assert due_reminders(rt, TOKYO_TUESDAY + timedelta(hours=1)) == []  # once a week


def test_a_key_result_no_summary_lists_counts_weeks_in_utc(file_world, github):
    from integration.summaries.build import targets
    from integration.summaries.post import weeks_of
    from mappings.models import KeyResult

    rt = file_world
    with rt.sessions() as s:
        krs = list(s.scalars(select(KeyResult).order_by(KeyResult.id)))
        zones = weeks_of(targets(rt, s), krs)
    assert {k: str(z) for k, z in zones.items()} == {"docs": "UTC", "onboarding": "Asia/Tokyo"}


def test_the_jira_reminder_writes_the_command_in_wiki_markup():
    from integration.markup import JIRA

    assert JIRA.command("/checkin on-track|at-risk|off-track [confidence/10] [note]") == \
        "{{/checkin on-track|at-risk|off-track \\[confidence/10\\] \\[note\\]}}"
