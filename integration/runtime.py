"""Everything a request, a task or a CLI command needs, built once per process and passed on.

The app factory builds one (`create_app`), and so does each CLI command and the worker at its start;
tests build their own. It is frozen: nothing is swapped at run time. What a look-up at start finds
(the Jira story points field ids) is part of building it, not a later patch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from huey import Huey
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from webhooks.github import GithubOptions
from webhooks.inbox import Inbox
from webhooks.jira import JiraOptions

from .apply.processing import count_waiting
from .config import Settings
from .db import make_engine, make_sessionmaker
from .domain import Domain
from .jobs.queue import Doorbell, make_huey
from .jobs.tasks import Tasks, register_tasks
from .metrics import Metrics
from .trackers.factory import Clients, Readers
from .trackers.jira_fields import resolve_story_points


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    huey: Huey
    inbox: Inbox
    metrics: Metrics
    github_options: GithubOptions
    jira_options: JiraOptions
    domain: Domain
    clients: Clients
    readers: Readers
    tasks: Tasks
    doorbell: Doorbell

    def close(self) -> None:
        self.doorbell.flush(timeout=2)
        self.inbox.close()
        self.engine.dispose()


def build_runtime(settings: Settings, *, resolve_fields: bool = False) -> Runtime:
    """`resolve_fields`: look the Jira story points field up by name when not configured (one GET at a
    worker's start; the web process never parses, so it does not ask)."""
    domain = Domain(settings)  # a bad okrs.yml stops the start here
    engine = make_engine(settings.database_url)
    huey = make_huey(settings.effective_queue_url)
    readers = Readers(settings)
    story_points = resolve_story_points(settings, readers) if resolve_fields else settings.jira_story_points_fields

    def runtime() -> Runtime:
        return rt  # bound below; tasks run and metrics are scraped only once it exists

    tasks = register_tasks(huey, settings, runtime)
    rt = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), huey=huey, inbox=Inbox(engine),
        metrics=Metrics(lambda: count_waiting(runtime())),
        github_options=settings.github_options,
        jira_options=replace(settings.jira_options, story_points_fields=story_points),
        domain=domain, clients=Clients(settings), readers=readers, tasks=tasks,
        doorbell=Doorbell(tasks.process_deliveries, window=settings.doorbell_window_ms / 1000),
    )
    return rt
