"""Posting summaries and check-in reminders: exactly once per target (or key result) and ISO week.

Both are rows in `summary_posts`, unique on (target, week). Whoever inserts the row posts it; a
failed post is retried until it lands or fails for good (`okrbot outbox --failed` lists it too).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mappings.checkins import EXAMPLE, USAGE, Checkin, current_checkins
from mappings.keys import WorkItemKey
from mappings.models import KeyResult
from mappings.okrs_schedule import EMAIL, Reminders
from mappings.views import ownership_of, progress_of

from ..db import unit_of_work
from ..markup import MARKUPS
from ..trackers.access import write_refusal
from ..trackers.base import Anchor, Gone, RateLimited, Transient
from ..writeback.render import marker
from ..writeback.sender import after_failure, error_text, reserve_write
from . import mail
from .build import History, SummaryTarget, build_view, covers, owner_call, previous_percents, render, targets
from .models import SummaryPost
from .schedule import is_due, iso_week

log = logging.getLogger("okrbot.summaries")


def compose(rt, session, target: SummaryTarget, now: datetime) -> tuple[str, dict]:
    """The body to post (for e-mail: the whole message, sent as stored) and what the post row keeps."""
    view = build_view(rt, session, target, now, previous_percents(session, target.id))
    percents = {kr.id: kr.percent for o in view.objectives + view.unassigned for kr in o.key_results}
    if target.tracker == EMAIL:
        message = mail.build_message(view, rt.settings.smtp_from, target.recipients)
        return message.as_string(), {"percent": percents, "marker": message["Message-ID"],
                                     "recipients": list(target.recipients)}
    mark = marker(target.tracker, f"{target.id}:{view.week}", "summary")
    return _with_marker(target.tracker, mark, render(target.tracker, view)), {"percent": percents, "marker": mark}


def _with_marker(tracker: str, mark: str, body: str) -> str:
    """GitHub: the hidden marker first; Jira: a quiet last line (wiki markup has no hidden comments)."""
    return f"{mark}\n{body}" if tracker == "github" else f"{body.rstrip()}\n~{mark}~\n"


def claim(rt, kind: str, target: str, anchor: str, week: str, body: str, data: dict, now: datetime) -> int | None:
    """Insert this week's row; None when another scheduler (or an earlier run) already has it."""
    try:
        with unit_of_work(rt.sessions) as session:
            post = SummaryPost(kind=kind, target=target, anchor=anchor, week=week, state="pending", body=body,
                               data=data, attempts=0, uncertain=False, due_at=now, created_at=now)
            session.add(post)
            session.flush()
            return post.id
    except IntegrityError:
        return None


def run_due(rt, now: datetime | None = None) -> list[int]:
    """Every minute: summaries and reminders that are due and not yet claimed this week are posted."""
    now = now or datetime.now(UTC)
    claimed = []
    with rt.sessions() as session:
        due = [t for t in targets(rt, session) if t.anchor and is_due(now, t.weekday, t.hour, ZoneInfo(t.timezone))]
    for target in due:
        week = iso_week(now, ZoneInfo(target.timezone))
        with rt.sessions() as session:
            if session.scalar(select(SummaryPost.id).where(SummaryPost.target == target.id, SummaryPost.week == week)):
                continue  # cheap check first; the unique key still decides a race
            body, data = compose(rt, session, target, now)
        post_id = claim(rt, "summary", target.id, target.anchor, week, body, data, now)
        if post_id is not None:
            claimed.append(post_id)
    claimed += due_reminders(rt, now)
    for post_id in claimed:
        deliver(rt, post_id, now)
    return claimed


def deliver(rt, post_id: int, now: datetime | None = None) -> float | None:
    """Post it (looking for its marker first when an earlier try may have landed); retry delay or None."""
    now = now or datetime.now(UTC)
    with unit_of_work(rt.sessions) as session:
        post = session.get(SummaryPost, post_id, with_for_update=True)
        if post is None or post.state != "pending":
            return None
        if post.due_at > now:
            return (post.due_at - now).total_seconds()
        if post.kind == "summary" and post.anchor.startswith(f"{EMAIL}:"):
            return _deliver_email(rt, session, post, now)
        refusal = write_refusal(session, post.anchor, rt.settings.scope)
        if refusal is not None:  # kept, and pending again when writing there resumes (apply.lifecycle)
            post.state, post.last_error = "held", refusal
            log.warning("%s for %s held, not posted: %s", post.kind, post.target, refusal)
            return None
        client = rt.clients.for_anchor(Anchor(post.anchor, rt.clients.installation_for(session, post.anchor)))
        if client is None:
            post.state, post.last_error = "failed", rt.clients.missing_reason(WorkItemKey.parse(post.anchor).tracker)
            return None
        wait = reserve_write(session, client.credential, now)
        if wait is not None:
            return max((wait - now).total_seconds(), 0.05)
        post.attempts, post.state, post.uncertain = post.attempts + 1, "sending", True
        anchor, body, mark, look_first = Anchor(post.anchor), post.body, post.data["marker"], post.attempts > 1
    try:
        found = client.find_comment(anchor, mark) if look_first else None
        comment_id, error = (found.id if found else client.create_comment(anchor, body).id), None
    except (RateLimited, Transient, Gone) as exc:
        comment_id, error = None, exc
    return _settle(rt, post_id, client.credential, comment_id, error, now)


def _deliver_email(rt, session, post: SummaryPost, now: datetime) -> float | None:
    """Send the stored message once; a failure is retried like every write (the one retry policy)."""
    if not rt.settings.smtp_url:
        post.state, post.last_error = "failed", "e-mail summary, but OKRBOT_SMTP_URL is not set"
        return None
    server = mail.parse_smtp_url(rt.settings.smtp_url)
    wait = reserve_write(session, server.credential, now)
    if wait is not None:
        return max((wait - now).total_seconds(), 0.05)
    post.attempts, post.state, post.uncertain = post.attempts + 1, "sending", True
    # SMTP lines end in CRLF (smtplib fixes them in text, not in bytes); the stored message is 7-bit
    message = post.body.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "replace")
    recipients, post_id = list(post.data["recipients"]), post.id
    message_id = post.data["marker"]
    session.commit()  # the attempt is recorded before the server is called: a crash leaves it "sending"
    try:
        mail.send(server, message, parseaddr(rt.settings.smtp_from)[1], recipients)
        error = None
    except (Transient, Gone) as exc:
        error = exc
    return _settle(rt, post_id, server.credential, message_id if error is None else None, error, now)


def _settle(rt, post_id: int, credential: str, comment_id: str | None, error, now: datetime) -> float | None:
    with unit_of_work(rt.sessions) as session:
        post = session.get(SummaryPost, post_id, with_for_update=True)
        if error is None:
            post.state, post.comment_id, post.posted_at, post.uncertain = "sent", comment_id, now, False
            return None
        post.last_error = error_text(error)
        delay = after_failure(session, error, credential, post.attempts, now, rt.settings.retry)
        if delay is None:
            post.state = "failed"
            log.error("%s for %s failed for good: %s", post.kind, post.target, error.message)
            return None
        post.state, post.due_at = "pending", now + timedelta(seconds=delay)
        return delay


def retry_due(rt, now: datetime | None = None) -> list[int]:
    """Posts whose retry time has come, and those a crashed worker left sending (looked for first)."""
    now = now or datetime.now(UTC)
    with unit_of_work(rt.sessions) as session:
        stuck = session.scalars(select(SummaryPost).where(SummaryPost.state == "sending",
                                                          SummaryPost.due_at <= now - timedelta(minutes=5)))
        for post in stuck:
            post.state = "pending"
        return list(session.scalars(select(SummaryPost.id).where(SummaryPost.state == "pending",
                                                                 SummaryPost.due_at <= now)))


# --- check-in reminders -----------------------------------------------------------------------------


def _reminder_settings(rt):
    mapping = rt.domain.index.mapping
    reminders = (getattr(mapping, "reminders", None) if mapping else None) or Reminders()  # the file's defaults
    return reminders.enabled, reminders.after_days, set(reminders.skip_people)


def due_reminders(rt, now: datetime) -> list[int]:
    """One reminder per key result per week, after N days without progress, inside the period only, and
    none in a week the owner checked in (the week of the summary that lists the key result, see `weeks_of`).

    Runs every minute, so it reads in a fixed number of queries: the summary targets, the week's
    reminders already made, the key results, their current check-ins and their history.
    """
    enabled, after_days, skip = _reminder_settings(rt)
    if not enabled:
        return []
    quiet = _objectives_without_reminders(rt)
    with rt.sessions() as session:
        krs = [kr for kr in session.scalars(select(KeyResult).where(KeyResult.active.is_(True),
                                                                    KeyResult.anchor_key.isnot(None)))
               if kr.objective_id not in quiet]
        zones = weeks_of(targets(rt, session), krs)
        weeks = {kr.id: iso_week(now, zones[kr.id]) for kr in krs}
        made = set(session.execute(select(SummaryPost.target, SummaryPost.week).where(
            SummaryPost.kind == "reminder", SummaryPost.week.in_(sorted(set(weeks.values()))))).all())
        krs = [kr for kr in krs if (f"reminder:{kr.id}", weeks[kr.id]) not in made]
        checkins = current_checkins(session, [kr.id for kr in krs])
        krs = [kr for kr in krs if not _checked_in_this_week(checkins.get(kr.id), now, zones[kr.id])]
        history = History.load(session, [kr.id for kr in krs], now)
        wanted = [(kr, text) for kr in krs
                  if (text := _reminder_text(rt, kr, now, weeks[kr.id], history, after_days, skip))]
    claimed = []
    for kr, text in wanted:
        post_id = claim(rt, "reminder", f"reminder:{kr.id}", kr.anchor_key, weeks[kr.id], text,
                        {"marker": reminder_marker(kr, weeks[kr.id])}, now)
        if post_id is not None:
            claimed.append(post_id)
    return claimed


def weeks_of(summary_targets: list[SummaryTarget], krs: list[KeyResult]) -> dict[str, ZoneInfo]:
    """Each key result's week is that of the first summary target listing it (its timezone, Monday first,
    as the summaries count weeks); UTC for a key result no summary lists."""
    utc = ZoneInfo("UTC")
    return {kr.id: next((ZoneInfo(t.timezone) for t in summary_targets if covers(t, kr)), utc) for kr in krs}


def _checked_in_this_week(checkin: Checkin | None, now: datetime, tz: ZoneInfo) -> bool:
    """The owner's current check-in was written in the week of `now` (in the key result's timezone)."""
    return checkin is not None and checkin.at <= now and iso_week(checkin.at, tz) == iso_week(now, tz)


def _objectives_without_reminders(rt) -> set[str]:
    mapping = rt.domain.index.mapping
    return {o.id for o in mapping.objectives if not getattr(o, "reminders", True)} if mapping else set()


def _reminder_text(rt, kr: KeyResult, now: datetime, week: str, history: History, after_days: int,
                   skip: set[str]) -> str | None:
    if not (kr.period_start <= now.date() <= kr.period_end):
        return None
    owner = ownership_of(kr).owner
    if owner is None or owner.login in skip:
        return None
    idle = (now - (history.last_move.get(kr.id) or kr.created_at)).days
    if idle < after_days:
        return None
    tracker = WorkItemKey.parse(kr.anchor_key).tracker
    m = MARKUPS[tracker]
    text = (f"{owner_call(rt, kr, tracker)}, a check-in: {m.bold(m.defuse(kr.title))} has had no progress for "
            f"{idle} days ({_progress_words(kr)}). Close what is done, or check in here: a comment on this issue "
            f"whose first line is {m.command(USAGE)}, for example {m.command(EXAMPLE)}.")
    return _with_marker(tracker, reminder_marker(kr, week), text + "\n")


def _progress_words(kr: KeyResult) -> str:
    p = progress_of(kr)
    if p.percent is None:
        return "no work linked"
    return f"{min(p.percent, 100.0):.0f}% · {p.done:g} of {p.total:g} done"


def reminder_marker(kr: KeyResult, week: str) -> str:
    return marker(WorkItemKey.parse(kr.anchor_key).tracker, f"{kr.id}:{week}", "reminder")
