"""The `okrbot` command: its group, the long-running processes (serve, worker) and `db upgrade`.

The other verbs live beside this module, one module per concern, and are registered at the end."""

from __future__ import annotations

import logging
import sys
import threading

import click

from ..apply.mapping_sync import sync_mapping_file
from ..config import warn_open_scope
from ..db import current_revision, upgrade
from ..runtime import Runtime
from .common import ensure_schema, runtime_from_env, with_runtime
from .demo import demo
from .inspect import deliveries, outbox
from .mappings import check, mappings_group
from .replay import replay
from .work import recount, summary, sync

log = logging.getLogger("okrbot.cli")


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


def _consumer(rt: Runtime, workers: int):
    from huey.consumer import Consumer

    return Consumer(rt.huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", "--workers", "workers", default=2, show_default=True, help="queue consumer threads")
def serve(host: str, port: int, workers: int) -> None:
    """Web receiver and queue consumer in one process (local use; production uses the Procfile)."""
    from werkzeug.serving import make_server

    from ..web.access import is_loopback
    from ..web.app import create_app
    from ..web.serving import RequestLog

    rt = runtime_from_env(resolve_fields=True)
    ensure_schema(rt)
    sync_mapping_file(rt)  # okrs.yml at start; the worker's periodic check takes later changes
    # Open to loopback only when nothing but this machine can reach it: bound to loopback, and no
    # reverse proxy declared in front (through one, every request would come from loopback).
    open_to_loopback = (host == "localhost" or is_loopback(host)) and not rt.settings.trust_proxy
    app = create_app(rt.settings, runtime=rt, open_to_loopback=open_to_loopback)
    server = make_server(host, port, app, threaded=True, request_handler=RequestLog)
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
    """The queue consumer; it also runs the periodic jobs: sweeps, okrs.yml check, reconcile, summaries."""
    rt = runtime_from_env(resolve_fields=True)
    warn_open_scope(rt.settings)
    ensure_schema(rt)
    sync_mapping_file(rt)  # okrs.yml at start; the worker's periodic check takes later changes
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=rt.metrics.registry)
    try:
        _consumer(rt, workers).run()
    finally:
        rt.close()


for command in (replay, deliveries, outbox, sync, summary, recount, check, mappings_group, demo):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
