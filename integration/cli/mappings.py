"""okrs.yml from the command line: `okrbot check` validates it, `okrbot mappings sync` applies it now."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from mappings.okrs_file import MappingFileError, describe_mapping, load_mapping

from ..apply.mapping_sync import sync_mapping_file
from ..domain import configured_trackers, mapping_path
from ..runtime import Runtime
from .common import settings_from_env, with_runtime


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check(file: str | None) -> None:
    """Validate okrs.yml (OKRBOT_MAPPINGS, or ./okrs.yml) and show what each key result resolves to."""
    settings = settings_from_env()
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


@click.group("mappings")
def mappings_group() -> None:
    """okrs.yml and the database."""


@mappings_group.command("sync")
@with_runtime
def mappings_sync(rt: Runtime) -> None:
    """Bring the database in line with okrs.yml now (the worker also does it when the file changes)."""
    if rt.domain.path is None:
        raise click.ClickException("no mapping file: set OKRBOT_MAPPINGS, or create ./okrs.yml")
    result = sync_mapping_file(rt, force=True)
    click.echo(f"{rt.domain.path}: {len(rt.domain.index.mapping.key_results())} key result(s) declared, "
               f"{len(result.created)} new")
