"""Everything a request, a task or a CLI command needs, built once from the settings and passed on."""

from __future__ import annotations

from dataclasses import dataclass, field

from huey import Huey
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from webhooks.github import GithubOptions
from webhooks.inbox import Inbox
from webhooks.jira import JiraOptions

from .config import Settings
from .db import make_engine, make_sessionmaker
from .domain import Domain
from .metrics import Metrics
from .queue import Doorbell, make_huey
from .trackers.factory import Clients, Readers


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    huey: Huey
    inbox: Inbox
    metrics: Metrics
    github_options: GithubOptions
    jira_options: JiraOptions
    domain: Domain = None
    clients: Clients = None
    readers: Readers = None
    doorbell: Doorbell = None  # set once the tasks exist
    tasks: object = None
    after_apply: list = field(default_factory=list)

    def close(self) -> None:
        self.doorbell.flush(timeout=2)
        self.inbox.close()
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    from .processing import count_waiting
    from .tasks import register_tasks

    domain = Domain(settings)  # a bad okrs.yml stops the start here
    engine = make_engine(settings.database_url)
    rt = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine),
        huey=make_huey(settings.effective_queue_url), inbox=Inbox(engine), metrics=None,
        github_options=settings.github_options, jira_options=settings.jira_options,
    )
    rt.domain = domain
    rt.clients = Clients(settings)
    rt.readers = Readers(settings)
    rt.metrics = Metrics(lambda: count_waiting(rt))
    rt.tasks = register_tasks(rt.huey, rt)
    rt.doorbell = Doorbell(rt.tasks.process_deliveries, window=settings.doorbell_window_ms / 1000)
    return rt
