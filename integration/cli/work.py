"""Now, from the command line, what the worker does on its clock: sync with the trackers, the weekly
summary, and a recount of every key result."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from mappings.recount import recount as rebuild

from ..db import unit_of_work
from ..reconcile import sync as reconcile
from ..runtime import Runtime
from ..summaries import post as summary_post
from ..summaries.build import targets
from ..summaries.schedule import iso_week
from .common import with_runtime


@click.command()
@click.option("--key-result", "kr_id", help="the id of one key result")
@click.option("--all", "all_", is_flag=True, help="every active key result")
@click.option("--full", is_flag=True, help="Jira: read everything, not only what was updated since the last sync")
@with_runtime(resolve_fields=True)
def sync(rt: Runtime, kr_id: str | None, all_: bool, full: bool) -> None:
    """Compare key results with the tracker through its API and apply the differences, now."""
    if bool(kr_id) == all_:
        raise click.UsageError("give --key-result ID or --all")
    ids = reconcile.active_key_results(rt) if all_ else [kr_id]
    failed = 0
    for one in ids:
        report = reconcile.sync_key_result(rt, one, full=full)
        line = (f"{one}: {report.calls} API call(s), {report.not_modified} unchanged page(s), "
                f"{report.items} item(s) read, {report.left} left")
        if report.retry_after is not None:
            line += f"; paused by a rate limit, resume in {report.retry_after:.0f} s"
        click.echo(line)
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        failed += bool(report.errors) or report.retry_after is not None
    if failed:
        raise SystemExit(1)


@click.command()
@click.option("--target", "target_id", help="one summary target, e.g. github:acme/web#1 (default: all)")
@click.option("--dry-run", is_flag=True, help="print what would be posted now")
@click.option("--post", "post_now", is_flag=True, help="post now (counts as this week's summary)")
@with_runtime
def summary(rt: Runtime, target_id: str | None, dry_run: bool, post_now: bool) -> None:
    """The weekly summary: print it (--dry-run) or post it now (--post)."""


    if dry_run == post_now:
        raise click.UsageError("give --dry-run or --post")
    now = datetime.now(UTC)
    with rt.sessions() as session:
        chosen = [t for t in targets(rt, session) if target_id in (None, t.id)]
    if not chosen:
        raise click.ClickException("no summary target: add summaries: to okrs.yml, or label an issue okr-summary"
                                   if target_id is None else f"no summary target {target_id!r}")
    for target in chosen:
        with rt.sessions() as session:
            body, data = summary_post.compose(rt, session, target, now)
        if dry_run:
            click.echo(f"--- {target.id} ({target.anchor or 'not seen yet'})\n{body}")
            continue
        week = iso_week(now, ZoneInfo(target.timezone))
        post_id = (summary_post.claim(rt, "summary", target.id, target.anchor, week, body, data, now)
                   or summary_post.claim(rt, "summary", target.id, target.anchor, f"{week}-{now:%H%M%S}", body,
                                         data, now))
        delay = summary_post.deliver(rt, post_id)
        click.echo(f"{target.id}: " + ("posted" if delay is None else f"not yet posted, retried in {delay:.0f} s"))


@click.command()
@with_runtime
def recount(rt: Runtime) -> None:
    """Rebuild every key result's members and counters from the work items; report differences."""


    with unit_of_work(rt.sessions) as session:
        differences = rebuild(rt.domain.context(session, cause="recount"))
    for line in differences:
        click.echo(line)
    click.echo(f"{len(differences)} difference(s) found and repaired" if differences else
               "every counter agrees with the work items")
