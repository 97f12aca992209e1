"""`okrbot deliveries` and `okrbot outbox`: what came in, what went out, and what became of it."""

from __future__ import annotations

import click
from sqlalchemy import select

from webhooks.models import FAILED, IGNORED, Delivery

from ..runtime import Runtime
from ..summaries.models import SummaryPost
from ..writeback.models import WRITE_FAILED, CheckinAnswer, OutboxEntry
from .common import with_runtime


@click.command()
@click.option("--failed", is_flag=True, help="only deliveries that failed for good")
@click.option("--ignored", is_flag=True, help="only deliveries stored but not applied (out of scope, App removed)")
@click.option("--limit", default=50, show_default=True)
@with_runtime
def deliveries(rt: Runtime, failed: bool, ignored: bool, limit: int) -> None:
    """What was received and what became of it, newest first: the error of a failed delivery, the reason
    of an ignored one."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    wanted = [state for state, asked in ((FAILED, failed), (IGNORED, ignored)) if asked]
    if wanted:
        query = query.where(Delivery.status.in_(wanted))
    with rt.sessions() as session:
        rows = list(session.scalars(query))
    if not rows:
        click.echo(f"no {' or '.join(wanted)} deliveries" if wanted else "no deliveries")
        return
    click.echo(f"{'ID':>6}  {'RECEIVED (UTC)':19}  {'TRACKER':7}  {'EVENT':34}  {'STATUS':9}  TRIES  ERROR / REASON")
    for d in rows:
        event = d.event + (f".{d.action}" if d.action else "")
        click.echo(f"{d.id:>6}  {d.received_at:%Y-%m-%d %H:%M:%S}  {d.tracker:7}  {event[:34]:34}  "
                   f"{d.status:9}  {d.attempts:>5}  {(d.last_error or '')[:100]}")


@click.command()
@click.option("--failed", is_flag=True, help="only writes that failed for good")
@click.option("--limit", default=50, show_default=True)
@with_runtime
def outbox(rt: Runtime, failed: bool, limit: int) -> None:
    """Writes to the trackers: comments, summaries, reminders and check-in answers; pending, sent, failed (with why).

    A check-in answer is listed as kind `reaction` or `reply`, for the comment `<anchor>@<comment id>`.
    """
    comments = select(OutboxEntry).order_by(OutboxEntry.updated_at.desc()).limit(limit)
    posts = select(SummaryPost).order_by(SummaryPost.created_at.desc()).limit(limit)
    answers = select(CheckinAnswer).order_by(CheckinAnswer.created_at.desc()).limit(limit)
    if failed:
        comments = comments.where(OutboxEntry.state == WRITE_FAILED)
        posts = posts.where(SummaryPost.state == "failed")
        answers = answers.where(CheckinAnswer.state == "failed")
    with rt.sessions() as session:
        rows = [("comment", e.kr_id, e.state, e.due_at, e.attempts, e.target, e.last_error)
                for e in session.scalars(comments)]
        rows += [(p.kind, p.target, p.state, p.due_at, p.attempts, p.anchor, p.last_error)
                 for p in session.scalars(posts)]
        rows += [(a.kind, a.kr_id, a.state, a.due_at, a.attempts, a.comment_key, a.last_error)
                 for a in session.scalars(answers)]
    if not rows:
        click.echo("no failed writes" if failed else "the outbox is empty")
        return
    click.echo(f"{'KIND':8}  {'FOR':34}  {'STATE':8}  {'DUE (UTC)':19}  TRIES  {'TARGET':40}  ERROR")
    for kind, what, state, due, tries, target, error in rows:
        click.echo(f"{kind:8}  {what[:34]:34}  {state:8}  {due:%Y-%m-%d %H:%M:%S}  {tries:>5}  "
                   f"{(target or '-')[:40]:40}  {(error or '')[:100]}")
