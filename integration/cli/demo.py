"""`okrbot demo [--clear]`: a clearly marked sample for a fresh install, through the normal apply path."""

from __future__ import annotations

import click

from ..demo.load import DemoError, clear, load
from ..demo.story import REPO
from .common import ensure_schema, with_runtime


@click.command()
@click.option("--clear", "remove", is_flag=True, help="remove the sample again")
@with_runtime
def demo(rt, remove: bool) -> None:
    """Load a sample (two objectives, six key results, weeks of history) from generated GitHub events."""
    ensure_schema(rt)
    if remove:
        counts = clear(rt)
        click.echo(f"removed the sample ({REPO}): " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        return
    try:
        loaded = load(rt)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"loaded the sample ({REPO}, titles starting [sample]): {loaded['key_results']} key results from "
               f"{loaded['deliveries']} generated GitHub deliveries over {loaded['days']} days, applied through "
               "the worker's apply path. Open http://127.0.0.1:8000/ (`make run`); `okrbot demo --clear` removes it.")
