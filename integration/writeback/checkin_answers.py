"""okrbot's answers to `/checkin` comments: noted once per comment, sent like every other write.

- What: an accepted check-in on GitHub gets a 👍 reaction (Jira: none, the living comment shows it);
  someone who is not the owner gets one short reply naming who may check in, never pinging them (a
  code span on GitHub, the display name on Jira); bad input gets one reply with the accepted forms.
  A reply never repeats the comment's note, and carries okrbot's marker, so it is never read as a
  check-in itself.
- Once: a row per comment in `checkin_answers` (unique), inserted in the transaction that applied
  the check-in; a redelivery or an edit inserts nothing, so nothing more is sent.
- Where: only where okrbot may write (`trackers.access.write_refusal`): otherwise the answer is
  held, and pending again when the installation or repository comes back (`apply.lifecycle`).
- How: the write budget per credential (`sender.reserve_write`), the one failure policy
  (`sender.after_failure`); a reply that may have landed (a crash, a timeout) is looked for by its
  marker before it is written again. A reaction is idempotent on GitHub (an existing one answers 200).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.schema import upsert_insert
from mappings.checkin_rules import Verdict
from mappings.checkins import ACCEPTED, BAD_INPUT, EXAMPLE, USAGE
from mappings.keys import WorkItemKey
from mappings.models import KeyResult

from ..db import unit_of_work
from ..markup import MARKUPS, defuse_jira
from ..trackers.access import write_refusal
from ..trackers.base import Anchor, Gone, RateLimited, Transient
from .models import HELD, CheckinAnswer
from .render import marker
from .sender import after_failure, error_text, reserve_write

log = logging.getLogger("okrbot.checkins")
REACTION = "+1"  # https://docs.github.com/en/rest/reactions/reactions#about-reactions
STUCK_AFTER = timedelta(minutes=5)  # a "sending" answer older than this was left by a crashed worker


def note_answers(session, wanted: list[tuple[str, KeyResult, str, Verdict]], now: datetime) -> list[int]:
    """Insert the answer of each (comment key, key result, comment id, verdict) not answered yet."""
    rows = []
    for comment_key, kr, comment_id, verdict in wanted:
        tracker = WorkItemKey.parse(kr.anchor_key).tracker
        if verdict.verdict == ACCEPTED and tracker != "github":
            continue
        kind = "reaction" if verdict.verdict == ACCEPTED else "reply"
        body = REACTION if kind == "reaction" else reply_text(tracker, verdict, comment_key)
        rows.append({"comment_key": comment_key, "kr_id": kr.id, "anchor": kr.anchor_key, "comment_id": comment_id,
                     "kind": kind, "verdict": verdict.verdict, "state": "pending", "body": body, "uncertain": False,
                     "attempts": 0, "due_at": now, "created_at": now})
    if not rows:
        return []
    insert = upsert_insert(session.get_bind().dialect.name, CheckinAnswer).on_conflict_do_nothing().returning(
        CheckinAnswer.__table__.c.id)
    return sorted(session.connection().execute(insert, rows).scalars())


def reply_text(tracker: str, verdict: Verdict, comment_key: str) -> str:
    """The reply, in the tracker's markup, with okrbot's marker (GitHub: hidden first line; Jira: last)."""
    m = MARKUPS[tracker]
    if verdict.verdict == BAD_INPUT:
        text = (f"This check-in was not understood ({verdict.reason}). Write it as {m.code(USAGE)}, "
                f"for example {m.code(EXAMPLE)}. Edit this comment, or write a new one.")
    elif verdict.owner is None:
        text = ("Nobody can check in on this key result yet: it needs exactly one owner. Assign exactly one "
                f"person to it (or set {m.code('owner:')} in okrs.yml). This comment changed nothing.")
    else:
        text = f"Only {_who(tracker, verdict)} can check in on this key result. This comment changed nothing."
    mark = marker(tracker, comment_key, "answer")
    return f"{mark}\n{text}\n" if tracker == "github" else f"{text}\n~{mark}~\n"


def _who(tracker: str, verdict: Verdict) -> str:
    """The owner, named without notifying them: a code span on GitHub, the plain display name on Jira."""
    login = verdict.owner.login.lstrip("@").replace("`", "")
    if tracker == "github":
        return f"`@{login}`"
    name = verdict.owner.name or login
    return defuse_jira(name).replace("{", "\\{").replace("}", "\\}").replace("|", "\\|")


def send_answer(rt, answer_id: int, now: datetime | None = None) -> float | None:
    """Send one answer if it is due; return seconds until it should be tried again, or None."""
    now = now or datetime.now(UTC)
    with unit_of_work(rt.sessions) as session:
        answer = session.get(CheckinAnswer, answer_id, with_for_update=True)
        if answer is None or answer.state != "pending":
            return None
        if answer.due_at > now:
            return (answer.due_at - now).total_seconds()
        refusal = write_refusal(session, answer.anchor, rt.settings.scope)
        if refusal is not None:  # kept, and pending again when writing there resumes (apply.lifecycle)
            answer.state, answer.last_error = HELD, refusal
            log.warning("answer to %s held, not written: %s", answer.comment_key, refusal)
            return None
        anchor = Anchor(answer.anchor, rt.clients.installation_for(session, answer.anchor))
        client = rt.clients.for_anchor(anchor)
        if client is None:
            answer.state = "skipped"
            answer.last_error = rt.clients.missing_reason(WorkItemKey.parse(answer.anchor).tracker)
            return None
        if rt.settings.dry_run:
            answer.state = "dry_run"
            log.info("dry run: would answer %s with %s:\n%s", answer.comment_key, answer.kind, answer.body)
            return None
        wait = reserve_write(session, client.credential, now)
        if wait is not None:
            return max((wait - now).total_seconds(), 0.05)
        look_first = answer.uncertain and answer.kind == "reply"
        # committed before the call: a crash leaves it "sending", and a reply then uncertain (looked for first)
        answer.attempts, answer.state, answer.due_at = answer.attempts + 1, "sending", now
        answer.uncertain = answer.kind == "reply"
        kind, comment_id, body, key = answer.kind, answer.comment_id, answer.body, answer.comment_key
    try:
        remote_id, error = _write(client, anchor, kind, comment_id, body, key, look_first), None
    except (RateLimited, Transient, Gone) as exc:
        remote_id, error = None, exc
    return _settle(rt, answer_id, client.credential, remote_id, error, now, look_first)


def _write(client, anchor: Anchor, kind: str, comment_id: str, body: str, comment_key: str, look_first: bool) -> str:
    if kind == "reaction":
        return client.add_reaction(anchor, comment_id, body)
    tracker = WorkItemKey.parse(anchor.key).tracker
    found = client.find_comment(anchor, marker(tracker, comment_key, "answer")) if look_first else None
    return (found or client.create_comment(anchor, body)).id


def _settle(rt, answer_id: int, credential: str, remote_id: str | None, error, now: datetime,
            was_uncertain: bool) -> float | None:
    with unit_of_work(rt.sessions) as session:
        answer = session.get(CheckinAnswer, answer_id, with_for_update=True)
        if error is None:
            answer.state, answer.remote_id, answer.sent_at, answer.uncertain = "sent", remote_id, now, False
            answer.last_error = None
            return None
        answer.last_error = error_text(error)
        answer.uncertain = answer.kind == "reply" and (was_uncertain or getattr(error, "uncertain", False))
        delay = after_failure(session, error, credential, answer.attempts, now, rt.settings.retry)
        if delay is None:
            answer.state = "failed"
            log.error("answer to %s failed for good: %s", answer.comment_key, error.message)
            return None
        answer.state, answer.due_at = "pending", now + timedelta(seconds=delay)
        log.warning("answer to %s: %s; retry in %.0f s", answer.comment_key, error.message, delay)
        return delay


def due_answers(rt, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Answers whose time has come (their doorbell lost, or a retry), and those a crashed worker left sending."""
    now = now or datetime.now(UTC)
    with unit_of_work(rt.sessions) as session:
        stuck = (CheckinAnswer.state == "sending") & (CheckinAnswer.due_at <= now - STUCK_AFTER)
        for answer in session.scalars(select(CheckinAnswer).where(stuck).with_for_update(skip_locked=True)):
            answer.state = "pending"  # uncertain stays set: a reply is looked for before it is written again
        return list(session.scalars(select(CheckinAnswer.id).where(CheckinAnswer.state == "pending",
                                                                   CheckinAnswer.due_at <= now)
                                    .order_by(CheckinAnswer.due_at).limit(limit)))
