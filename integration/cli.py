"""The `okrbot` command: serve, worker, db upgrade, replay, deliveries."""

from __future__ import annotations

import functools
import logging
import sys
import threading

import click
from sqlalchemy import select

from mappings.models import FAILED, Delivery

from .config import ConfigError, Settings, load_settings, warn_unknown_settings
from .db import current_revision, head_revision, upgrade
from .logs import configure_logging
from .runtime import Runtime, build_runtime

log = logging.getLogger("okrbot.cli")


def _settings() -> Settings:
    """The settings of this process, its logging set up and any misspelt OKRBOT_* variable told."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level)
    warn_unknown_settings(settings)
    return settings


def _runtime() -> Runtime:
    from mappings.okrs_file import MappingFileError

    settings = _settings()
    try:
        return build_runtime(settings)
    except MappingFileError as exc:  # a bad okrs.yml stops the start, saying where and why
        raise click.ClickException(f"okrs.yml is invalid:\n{exc}") from None


def with_runtime(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        rt = _runtime()
        try:
            return fn(rt, *args, **kwargs)
        finally:
            rt.close()

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """okrbot: OKR key results from the work in GitHub and Jira."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_runtime
def db_upgrade(rt: Runtime) -> None:
    """Apply every pending migration."""
    upgrade(rt.engine)
    click.echo(f"database at revision {current_revision(rt.engine)}")


def _ensure_schema(rt: Runtime) -> None:
    # An embedded SQLite database is ours to migrate; a shared server is migrated by `release:`.
    if rt.engine.dialect.name == "sqlite":
        upgrade(rt.engine)
    elif current_revision(rt.engine) != head_revision(rt.engine):
        raise click.ClickException("the database schema is not current: run `okrbot db upgrade` first")


def _consumer(rt: Runtime, workers: int):
    from huey.consumer import Consumer

    from .jira_fields import resolve_story_points

    resolve_story_points(rt)  # the site's story-points field, by name, unless configured
    return Consumer(rt.huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", "--workers", "workers", default=2, show_default=True, help="queue consumer threads")
def serve(host: str, port: int, workers: int) -> None:
    """Web receiver and queue consumer in one process (local use; production uses the Procfile)."""
    from werkzeug.serving import make_server

    from .app import create_app

    rt = _runtime()
    _ensure_schema(rt)
    app = create_app(rt.settings, runtime=rt)
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="okrbot-web", daemon=True).start()
    click.echo(f"okrbot serving on http://{host}:{port} (queue: {rt.settings.effective_queue_url})", err=True)
    try:
        _consumer(rt, workers).run()  # in the main thread: it owns the signal handlers
    finally:
        server.shutdown()
        rt.close()


@main.command()
@click.option("--threads", "--workers", "workers", default=2, show_default=True,
              help="consumer threads in this process (each applies a batch at a time)")
@click.option("--metrics-port", type=int, default=None, help="serve this worker's /metrics on this port")
def worker(workers: int, metrics_port: int | None) -> None:
    """The queue consumer; it also runs the periodic jobs (sweep, later reconcile and summaries)."""
    rt = _runtime()
    _ensure_schema(rt)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=rt.metrics.registry)
    try:
        _consumer(rt, workers).run()
    finally:
        rt.close()


@main.command()
@click.option("--failed", is_flag=True, help="only deliveries that failed for good")
@click.option("--limit", default=50, show_default=True)
@with_runtime
def deliveries(rt: Runtime, failed: bool, limit: int) -> None:
    """What was received and what became of it, newest first."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if failed:
        query = query.where(Delivery.status == FAILED)
    with rt.sessions() as session:
        rows = list(session.scalars(query))
    if not rows:
        click.echo("no failed deliveries" if failed else "no deliveries")
        return
    click.echo(f"{'ID':>6}  {'RECEIVED (UTC)':19}  {'TRACKER':7}  {'EVENT':34}  {'STATUS':9}  TRIES  ERROR")
    for d in rows:
        event = d.event + (f".{d.action}" if d.action else "")
        click.echo(f"{d.id:>6}  {d.received_at:%Y-%m-%d %H:%M:%S}  {d.tracker:7}  {event[:34]:34}  "
                   f"{d.status:9}  {d.attempts:>5}  {(d.last_error or '')[:100]}")


@main.command()
@click.option("--failed", is_flag=True, help="only writes that failed for good")
@click.option("--limit", default=50, show_default=True)
@with_runtime
def outbox(rt: Runtime, failed: bool, limit: int) -> None:
    """Writes to the trackers: comments, summaries and reminders; pending, sent, failed (with why)."""
    from mappings.models import WRITE_FAILED, OutboxEntry, SummaryPost

    comments = select(OutboxEntry).order_by(OutboxEntry.updated_at.desc()).limit(limit)
    posts = select(SummaryPost).order_by(SummaryPost.created_at.desc()).limit(limit)
    if failed:
        comments = comments.where(OutboxEntry.state == WRITE_FAILED)
        posts = posts.where(SummaryPost.state == "failed")
    with rt.sessions() as session:
        rows = [("comment", e.kr_id, e.state, e.due_at, e.attempts, e.target, e.last_error)
                for e in session.scalars(comments)]
        rows += [(p.kind, p.target, p.state, p.due_at, p.attempts, p.anchor, p.last_error)
                 for p in session.scalars(posts)]
    if not rows:
        click.echo("no failed writes" if failed else "the outbox is empty")
        return
    click.echo(f"{'KIND':8}  {'FOR':34}  {'STATE':8}  {'DUE (UTC)':19}  TRIES  {'TARGET':40}  ERROR")
    for kind, what, state, due, tries, target, error in rows:
        click.echo(f"{kind:8}  {what[:34]:34}  {state:8}  {due:%Y-%m-%d %H:%M:%S}  {tries:>5}  "
                   f"{(target or '-')[:40]:40}  {(error or '')[:100]}")


@main.command()
@click.option("--key-result", "kr_id", help="the id of one key result")
@click.option("--all", "all_", is_flag=True, help="every active key result")
@click.option("--full", is_flag=True, help="Jira: read everything, not only what was updated since the last sync")
@with_runtime
def sync(rt: Runtime, kr_id: str | None, all_: bool, full: bool) -> None:
    """Compare key results with the tracker through its API and apply the differences, now."""
    from . import reconcile

    if bool(kr_id) == all_:
        raise click.UsageError("give --key-result ID or --all")
    from .jira_fields import resolve_story_points

    resolve_story_points(rt)
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


@main.command()
@click.option("--target", "target_id", help="one summary target, e.g. github:acme/web#1 (default: all)")
@click.option("--dry-run", is_flag=True, help="print what would be posted now")
@click.option("--post", "post_now", is_flag=True, help="post now (counts as this week's summary)")
@with_runtime
def summary(rt: Runtime, target_id: str | None, dry_run: bool, post_now: bool) -> None:
    """The weekly summary: print it (--dry-run) or post it now (--post)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from . import summary_post
    from .schedule import iso_week
    from .summaries import targets

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


@main.command()
@with_runtime
def recount(rt: Runtime) -> None:
    """Rebuild every key result's members and counters from the work items; report differences."""
    from mappings.recount import recount as rebuild

    from .db import unit_of_work

    with unit_of_work(rt.sessions) as session:
        differences = rebuild(rt.domain.context(session, cause="recount"))
    for line in differences:
        click.echo(line)
    click.echo(f"{len(differences)} difference(s) found and repaired" if differences else
               "every counter agrees with the work items")


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check(file: str | None) -> None:
    """Validate okrs.yml (OKRBOT_MAPPINGS, or ./okrs.yml) and show what each key result resolves to."""
    from datetime import UTC, datetime

    from mappings.okrs_file import MappingFileError, describe_mapping, load_mapping

    from .domain import configured_trackers, mapping_path

    settings = _settings()
    path = file or mapping_path(settings)
    if path is None:
        raise click.ClickException("no mapping file: pass FILE, set OKRBOT_MAPPINGS, or create ./okrs.yml")
    try:
        mapping = load_mapping(path, configured_trackers(settings), datetime.now(UTC).date())
    except MappingFileError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for line in describe_mapping(mapping):
        click.echo(line)


from .replay import replay  # noqa: E402  (a command of its own module, registered here)

main.add_command(replay)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
