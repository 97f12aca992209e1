"""What every `okrbot` command shares: the runtime built from the environment, errors as CLI errors."""

from __future__ import annotations

import functools

import click

from mappings.okrs_file import MappingFileError

from ..config import ConfigError, Settings, load_settings, warn_unknown_settings
from ..db import current_revision, head_revision, upgrade
from ..logs import configure_logging
from ..runtime import Runtime, build_runtime


def settings_from_env() -> Settings:
    """The settings of this process, its logging set up and any misspelt OKRBOT_* variable told."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level)
    warn_unknown_settings(settings)
    return settings


def runtime_from_env(resolve_fields: bool = False) -> Runtime:
    """`resolve_fields` for the commands that parse or read Jira issues (worker, serve, sync)."""
    settings = settings_from_env()
    try:
        return build_runtime(settings, resolve_fields=resolve_fields)
    except MappingFileError as exc:  # a bad okrs.yml stops the start, saying where and why
        raise click.ClickException(f"okrs.yml is invalid:\n{exc}") from None


def with_runtime(fn=None, *, resolve_fields: bool = False):
    """Pass the command a runtime as its first argument, and close it afterwards."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            rt = runtime_from_env(resolve_fields)
            try:
                return command(rt, *args, **kwargs)
            finally:
                rt.close()

        return wrapper

    return decorate(fn) if fn is not None else decorate


def ensure_schema(rt: Runtime) -> None:
    # An embedded SQLite database is ours to migrate; a shared server is migrated by `release:`.
    if rt.engine.dialect.name == "sqlite":
        upgrade(rt.engine)
    elif current_revision(rt.engine) != head_revision(rt.engine):
        raise click.ClickException("the database schema is not current: run `okrbot db upgrade` first")
