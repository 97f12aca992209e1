"""May okrbot act there? The one place for the App lifecycle and the scope, for applying and for writing.

- `installation` deleted or suspended: nothing from that installation is applied and nothing is written
  to its repositories; `unsuspend` (or `created` again) resumes both.
- `installation_repositories` removed: the same for those repositories; the key results anchored there
  show "source removed" (`source_states`) and keep their history; added back: resumes.
- A write that is refused is not lost: its outbox entry (or summary post) is `held` with the reason, and
  released when the installation or the repository is back (`apply.lifecycle.release_held`).

States are written by conditional upserts (the newest delivery wins, `changed_by`), never read and
written back in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from core.events import InstallationEvent, Parsed
from core.schema import upsert_insert
from mappings.keys import GITHUB, WorkItemKey
from mappings.scope import Scope

from .models import ACTIVE, DELETED, SUSPENDED, AppInstallation, GithubInstallation

SOURCE_OK, SOURCE_REMOVED, SOURCE_SUSPENDED = "ok", "source removed", "installation suspended"
_STATE_OF_ACTION = {"deleted": DELETED, "suspend": SUSPENDED, "unsuspend": ACTIVE, "created": ACTIVE,
                    "new_permissions_accepted": ACTIVE}
_REASON = {SUSPENDED: "installation suspended", DELETED: "installation deleted"}


@dataclass
class Standing:
    """What the database says of the installations and repositories of a batch, kept up to date as the
    batch's own lifecycle events are walked in delivery order."""

    states: dict[int, str] = field(default_factory=dict)  # installation id → state (absent: active)
    removed: set[str] = field(default_factory=set)  # lower-case "owner/repo" removed from their installation

    def refusal(self, parsed: Parsed) -> str | None:
        """Why this delivery is not applied, or None. Lifecycle events themselves always are."""
        if parsed.tracker != GITHUB or any(isinstance(e, InstallationEvent) for e in parsed.events):
            return None
        state = self.states.get(parsed.installation_id) if parsed.installation_id is not None else None
        if state in _REASON:
            return _REASON[state]
        repo = parsed.origin.repo if parsed.origin else None
        if repo and repo.lower() in self.removed:
            return "repository removed from the installation"
        return None

    def take(self, event: InstallationEvent) -> None:
        if event.action in _STATE_OF_ACTION:
            self.states[event.installation_id] = _STATE_OF_ACTION[event.action]
        self.removed -= {r.lower() for r in event.repositories_added}
        if event.action != "deleted":
            self.removed |= {r.lower() for r in event.repositories_removed}


# Built once (Core, on the tables): the screen runs for every batch of the apply path.
_APPS, _REPOS = AppInstallation.__table__, GithubInstallation.__table__
_STATES = (select(_APPS.c.installation_id, _APPS.c.state)
           .where(_APPS.c.installation_id.in_(bindparam("ids", expanding=True))))
_REMOVED = select(_REPOS.c.repo).where(_REPOS.c.repo.in_(bindparam("repos", expanding=True)),
                                       _REPOS.c.removed.is_(True))


def standing(session: Session, batch: Iterable[Parsed]) -> Standing:
    """At most two reads per batch (installations, repositories), and none without GitHub deliveries."""
    ids = sorted({p.installation_id for p in batch if p.tracker == GITHUB and p.installation_id is not None})
    repos = sorted({p.origin.repo.lower() for p in batch if p.tracker == GITHUB and p.origin and p.origin.repo})
    found = Standing()
    if ids:
        found.states = dict(session.connection().execute(_STATES, {"ids": ids}).all())
    if repos:
        found.removed = set(session.connection().execute(_REMOVED, {"repos": repos}).scalars())
    return found


def note_lifecycle(session: Session, delivery_pk: int | None, event: InstallationEvent, now: datetime) -> bool:
    """Store what an installation event says; True when it resumes something (held writes to release)."""
    dialect, changed_by = session.get_bind().dialect.name, delivery_pk or 0
    state = _STATE_OF_ACTION.get(event.action)
    if state is not None:
        insert = upsert_insert(dialect, AppInstallation).values(
            installation_id=event.installation_id, account=event.account, state=state, changed_by=changed_by,
            updated_at=now)
        table = AppInstallation.__table__
        session.execute(insert.on_conflict_do_update(
            index_elements=["installation_id"],
            set_={"state": insert.excluded.state, "account": insert.excluded.account,
                  "changed_by": insert.excluded.changed_by, "updated_at": insert.excluded.updated_at},
            where=table.c.changed_by <= insert.excluded.changed_by))
    rows = [{"repo": r.lower(), "installation_id": event.installation_id, "removed": False} for r in
            event.repositories_added]
    if event.action != "deleted":  # deleted lists every repository: the installation's state covers them
        rows += [{"repo": r.lower(), "installation_id": event.installation_id, "removed": True} for r in
                 event.repositories_removed]
    if rows:
        insert = upsert_insert(dialect, GithubInstallation)
        table, new = GithubInstallation.__table__, insert.excluded
        session.execute(insert.values([r | {"changed_by": changed_by, "updated_at": now} for r in rows])
                        .on_conflict_do_update(
                            index_elements=["repo"],
                            set_={"removed": new.removed, "installation_id": new.installation_id,
                                  "changed_by": new.changed_by, "updated_at": new.updated_at},
                            where=or_(table.c.changed_by.is_(None), table.c.changed_by <= new.changed_by)))
    return state == ACTIVE or bool(event.repositories_added)


def write_refusal(session: Session, anchor_key: str, scope: Scope) -> str | None:
    """Why nothing may be written on this item now (None: it may). Used by every writer."""
    try:
        key = WorkItemKey.parse(anchor_key)
    except ValueError:
        return None  # not a tracker item (an e-mail summary): nothing here to refuse
    return place_refusal(session, scope, key.tracker, key.container)


def place_refusal(session: Session, scope: Scope, tracker: str, container: str) -> str | None:
    """Why okrbot may neither read nor write in this repository ("owner/repo") or Jira "<site>/<PROJECT>"."""
    if not scope.allows_container(tracker, container):
        setting = "OKRBOT_GITHUB_ALLOWED" if tracker == GITHUB else "OKRBOT_JIRA_ALLOWED_SITES"
        return f"out of scope: {container} is not in {setting}"
    if tracker != GITHUB:
        return None
    row = session.execute(select(GithubInstallation.removed, AppInstallation.state)
                          .outerjoin(AppInstallation, AppInstallation.installation_id ==
                                     GithubInstallation.installation_id)
                          .where(GithubInstallation.repo == container.lower())).first()
    if row is None:
        return None
    if row.state in _REASON:
        return _REASON[row.state]
    return SOURCE_REMOVED if row.removed else None


def source_states(session: Session) -> dict[str, str]:
    """Lower-case repository → "source removed" / "installation suspended", for every repository that is
    not ok. One statement, whatever the number of key results (the pages and the API read it once)."""
    rows = session.execute(select(GithubInstallation.repo, GithubInstallation.removed, AppInstallation.state)
                           .outerjoin(AppInstallation, AppInstallation.installation_id ==
                                      GithubInstallation.installation_id)
                           .where(or_(GithubInstallation.removed.is_(True),
                                      AppInstallation.state.in_((SUSPENDED, DELETED))))).all()
    return {r.repo: SOURCE_SUSPENDED if r.state in (SUSPENDED, DELETED) else SOURCE_REMOVED for r in rows}


def source_of(states: dict[str, str], repos: Iterable[str]) -> str:
    """A key result's "source" as the API and pages show it: from `source_states` and the repositories it
    reads (`repos_of`); "ok" when none of them is removed or suspended."""
    found = {states[repo.lower()] for repo in repos if repo.lower() in states}
    return SOURCE_SUSPENDED if SOURCE_SUSPENDED in found else SOURCE_REMOVED if found else SOURCE_OK


def repos_of(anchor_key: str | None, sources: Iterable[object] = ()) -> list[str]:
    """The GitHub repositories a key result lives in: its anchor's, and those of its okrs.yml sources."""
    repos = [WorkItemKey.parse(anchor_key).repo] if anchor_key and anchor_key.startswith("github:") else []
    return repos + [s.repo for s in sources if getattr(s, "tracker", None) == GITHUB and hasattr(s, "repo")]
