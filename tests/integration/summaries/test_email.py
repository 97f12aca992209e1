"""The e-mail digest (issue 13), sent to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import logging
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from sqlalchemy import select

from integration.summaries.models import SummaryPost
from integration.summaries.post import deliver, retry_due, run_due
from tests.integration.conftest import TOKEN
from tests.integration.summaries.test_summaries import make_file_world

MONDAY_1005 = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)  # ISO week 2026-W49
TARGET = "email:lead@example.com,cto@example.com"
OKRS = """\
period: {start: 2026-10-01, end: 2026-12-31}
summaries:
  - email: [lead@example.com, cto@example.com]
    objectives: [growth]
    hour: 10
objectives:
  - id: growth
    title: Growth
    key_results:
      - id: onboarding
        title: Ship the new onboarding
        sources:
          - github_issue: Codertocat/Hello-World#10
"""


class Inbox:
    """aiosmtpd handler: keeps every message; answers 451 to the first `fail` DATA commands."""

    def __init__(self):
        self.received, self.fail = [], 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail:
            self.fail -= 1
            return "451 4.3.0 try again later"
        self.received.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:  # aiosmtpd's Controller must know its port before it starts
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def email_world(make_runtime, settings, tmp_path, github, url):
    return make_file_world(make_runtime, settings.with_overrides(smtp_url=url, smtp_from="OKRs <okr@example.com>"),
                           tmp_path / "okrs.yml", github, OKRS, issues=((10, "alice"),))


def parsed(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


def test_the_digest_is_received_once_with_subject_recipients_and_both_parts(make_runtime, settings, tmp_path,
                                                                              github, smtp):
    inbox, port = smtp
    rt = email_world(make_runtime, settings, tmp_path, github, f"smtp://127.0.0.1:{port}")
    assert run_due(rt, now=MONDAY_1005 - timedelta(minutes=10)) == []  # 09:55 UTC: not yet
    run_due(rt, now=MONDAY_1005)
    run_due(rt, now=MONDAY_1005 + timedelta(hours=2))  # the same week: nothing more
    [envelope] = inbox.received
    assert (envelope.mail_from, envelope.rcpt_tos) == ("okr@example.com", ["lead@example.com", "cto@example.com"])
    msg = parsed(envelope)
    assert msg["Subject"] == "OKR summary · 2026-W49 · 0% overall"
    assert (msg["From"], msg["To"]) == ("OKRs <okr@example.com>", "lead@example.com, cto@example.com")
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    assert "**[Ship the new onboarding](https://github.com/Codertocat/Hello-World/issues/10)** — alice" in text
    assert " 0% · first summary · 🔴 off track · no check-in yet · not enough history yet" in text
    assert "Week" in text and "Scope" in text and "```mermaid" not in text  # the burn-up as a table
    assert ">Growth: burn-up</title>" in html and ">Ship the new onboarding</a>" in html
    assert html.count("<svg ") == 1 and "now 0 of 1 done" in html
    with rt.sessions() as s:
        post = s.scalars(select(SummaryPost)).one()
        assert (post.target, post.week, post.state, post.attempts) == (TARGET, "2026-W49", "sent", 1)
    run_due(rt, now=MONDAY_1005 + timedelta(days=7))
    assert len(inbox.received) == 2  # next week's


def test_the_digest_shows_the_owners_checkin_and_flags_the_disagreement(make_runtime, settings, tmp_path,
                                                                        github, smtp):
    from integration.db import unit_of_work
    from mappings.models import CheckinRow

    inbox, port = smtp
    rt = email_world(make_runtime, settings, tmp_path, github, f"smtp://127.0.0.1:{port}")
    at = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    with unit_of_work(rt.sessions) as s:  # as the check-in apply path stores it
        s.add(CheckinRow(comment_key="github:codertocat/hello-world#10@77", kr_id="onboarding", verdict="accepted",
                         status="on_track", confidence=8, note="fine, <b>really</b> @bob\nsecond line",
                         author_login="alice", url="https://github.com/Codertocat/Hello-World/issues/10#c77",
                         written_at=at, updated_at=at, withdrawn=False))
    run_due(rt, now=MONDAY_1005)
    msg = parsed(inbox.received[0])
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    # the computed health (0% with most of the period gone: off track) beside the owner's word, flagged
    assert (" 0% · first summary · 🔴 off track · owner says on track ⚠️ **disagrees with the computed health**"
            " · not enough history yet\n") in text
    assert "\n  Check-in by alice, 27 Nov: on track (8/10): fine, <b>really</b> @bob second line\n" in text
    assert "owner says on track ⚠️ <strong>disagrees with the computed health</strong>" in html
    assert "Check-in by alice, 27 Nov: on track (8/10): fine, &lt;b&gt;really&lt;/b&gt; @\u200bbob second line" in html
    assert "<b>" not in html


def test_a_failing_server_that_recovers_gets_it_once(make_runtime, settings, tmp_path, github, smtp):
    inbox, port = smtp
    inbox.fail = 2
    rt = email_world(make_runtime, settings, tmp_path, github, f"smtp://127.0.0.1:{port}")
    run_due(rt, now=MONDAY_1005)
    assert inbox.received == []
    moment = MONDAY_1005
    for _ in range(5):
        moment += timedelta(minutes=1)
        for post_id in retry_due(rt, now=moment):
            deliver(rt, post_id, now=moment)
    assert len(inbox.received) == 1
    with rt.sessions() as s:
        post = s.scalars(select(SummaryPost)).one()
        assert (post.state, post.attempts, post.last_error) == (
            "sent", 3, f"Transient: SMTP 127.0.0.1:{port} answered 451 4.3.0 try again later")


def test_the_dry_run_prints_the_message_and_sends_nothing(make_runtime, settings, tmp_path, github, smtp):
    from integration.cli.main import main

    inbox, port = smtp
    rt = email_world(make_runtime, settings, tmp_path, github, f"smtp://127.0.0.1:{port}")
    env = {"OKRBOT_DATABASE_URL": rt.settings.database_url, "OKRBOT_QUEUE_URL": rt.settings.queue_url,
           "OKRBOT_GITHUB_TOKEN": TOKEN, "OKRBOT_GITHUB_WEBHOOK_SECRET": "x", "OKRBOT_MAPPINGS": rt.settings.mappings,
           "OKRBOT_SMTP_URL": f"smtp://127.0.0.1:{port}", "OKRBOT_SMTP_FROM": "okr@example.com"}
    result = CliRunner().invoke(main, ["summary", "--target", TARGET, "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"--- {TARGET} ({TARGET})\n")
    msg = email.message_from_string(result.output.split("\n", 1)[1], policy=policy.default)
    assert msg["To"] == "lead@example.com, cto@example.com" and msg["Subject"].startswith("OKR summary · ")
    assert {p.get_content_type() for p in msg.walk()} == {"multipart/alternative", "text/plain", "text/html"}
    assert inbox.received == []


def test_credentials_never_reach_a_log_or_the_outbox(make_runtime, settings, tmp_path, github, caplog):
    class Refuse:
        def __call__(self, server, session, envelope, mechanism, auth_data):
            return AuthResult(success=False, handled=False)

    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port(), authenticator=Refuse(),
                            auth_require_tls=False)
    controller.start()
    try:
        url = f"smtp://mailer:s3cr%2Bt-pw@127.0.0.1:{controller.port}?starttls=off"
        rt = email_world(make_runtime, settings, tmp_path, github, url)
        with caplog.at_level(logging.DEBUG):
            run_due(rt, now=MONDAY_1005)
    finally:
        controller.stop()
    with rt.sessions() as s:
        post = s.scalars(select(SummaryPost)).one()
    assert post.state == "failed" and post.last_error.startswith(f"Gone: SMTP 127.0.0.1:{controller.port} answered 535")
    for shown in (caplog.text, post.last_error, repr(rt.settings), post.body):
        assert "s3cr" not in shown
    assert "failed for good" in caplog.text  # the log says what happened, without the secret


def test_without_tls_credentials_are_not_sent(make_runtime, settings, tmp_path, github, smtp):
    inbox, port = smtp
    rt = email_world(make_runtime, settings, tmp_path, github, f"smtp://mailer:pw@127.0.0.1:{port}")
    run_due(rt, now=MONDAY_1005)
    with rt.sessions() as s:
        post = s.scalars(select(SummaryPost)).one()
    assert (post.state, post.last_error) == ("failed", f"Gone: SMTP 127.0.0.1:{port} offers no TLS: not sending "
                                                       "credentials in clear (add ?starttls=off to allow it)")
    assert inbox.received == []
