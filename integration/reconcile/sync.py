"""Backfill and reconcile: a key result's whole work read through the tracker APIs and applied through
the same path as webhook events, so both routes agree.

Cheap when nothing changed: every GitHub page is asked for with its last ETag (a 304 costs no rate
limit), Jira is asked only for what was updated since the last sync. A rate limit stops the sync and
reschedules it; pages already read answer 304 the next time, so nothing is read twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.events import Event, Person, WorkItemSnapshot
from mappings.keys import GITHUB, WorkItemKey
from mappings.models import KeyResult, Membership, WorkItem
from mappings.sources import Source, anchor_source
from mappings.workitems import find_work_item
from webhooks import github, jira

from ..apply.mapping_sync import sync_mapping_file
from ..db import unit_of_work
from ..trackers.access import place_refusal
from ..trackers.base import RateLimited, TrackerError
from ..writeback.outbox import note_changes
from .models import SyncState

log = logging.getLogger("okrbot.reconcile")
JIRA_MARGIN = timedelta(minutes=5)  # JQL compares in the account's time zone at minute precision


@dataclass
class SyncReport:
    kr_id: str
    calls: int = 0
    not_modified: int = 0
    items: int = 0
    left: int = 0
    retry_after: float | None = None
    errors: list[str] = field(default_factory=list)


def sync_name(source: Source) -> str:
    """What sync_state records the source as: "sub_issues:github:acme/web#12", "label:acme/web:growth"."""
    return f"{_LISTINGS[source.kind].recorded_as}:{source.address}"


def sources_of(rt, kr: KeyResult) -> list[Source]:
    """Where the key result's work can be read: its anchor's children, and okrs.yml sources."""
    spec = rt.domain.index.spec(kr.id) if kr.origin == "file" else None
    found = [anchor_source(WorkItemKey.parse(kr.anchor_key))] if kr.anchor_key else []
    found += spec.sources if spec else ()
    unique: dict[tuple, Source] = {}
    for source in found:  # an anchor that is also a file source is read once
        unique.setdefault(source.identity(), source)
    return list(unique.values())


def sync_key_result(rt, kr_id: str, full: bool = False) -> SyncReport:
    """Read every source of the key result and apply what differs. Never raises for tracker errors."""
    report = SyncReport(kr_id)
    sync_mapping_file(rt)  # okrs.yml first: the key result may come from it
    with rt.sessions() as session:
        kr = session.get(KeyResult, kr_id)
        sources = sources_of(rt, kr) if kr is not None and kr.active else []
    for source in sources:
        refusal = _refusal(rt, source)
        if refusal is not None:  # neither read nor applied: the scope and the App lifecycle hold here too
            report.errors.append(f"{sync_name(source)}: not read: {refusal}")
            continue
        try:
            if source.tracker == GITHUB:
                _sync_github(rt, kr_id, source, report)
            else:
                _sync_jira(rt, kr_id, source, report, full)
        except RateLimited as exc:
            report.retry_after = exc.retry_after
            log.warning("sync of %s paused by a rate limit: resumes in %.0f s", kr_id, exc.retry_after)
            return report
        except (TrackerError, ValueError) as exc:  # ValueError: a source the API cannot be asked for
            message = exc.message if isinstance(exc, TrackerError) else str(exc)
            report.errors.append(f"{sync_name(source)}: {type(exc).__name__}: {message}")
            log.error("sync of %s: %s cannot be read: %s", kr_id, sync_name(source), message)
    return report


def _refusal(rt, source: Source) -> str | None:
    if source.tracker == GITHUB:
        with rt.sessions() as session:
            return place_refusal(session, rt.settings.scope, GITHUB, source.repo)
    site = jira.site_host(rt.settings.jira_url) if rt.settings.jira_url else None
    return None if rt.settings.scope.allows_site(site) else \
        f"out of scope: the Jira site {site or '(none)'} is not in OKRBOT_JIRA_ALLOWED_SITES"


# --- applying, exactly as webhook events are ---------------------------------------------------


def apply_snapshots(rt, events: list[Event], cause: str) -> list[int]:
    """One unit of work: store the snapshots, apply them to key results, mark changed comments pending."""
    from ..apply.processing import apply_events, in_scope, schedule_sends

    with unit_of_work(rt.sessions) as session:
        ctx = rt.domain.context(session, cause=cause)
        apply_events(ctx, [(event, None) for event in events if in_scope(ctx.scope, event)])
        pending = note_changes(session, ctx.changed, ctx.now, rt.settings.write_delay)

    schedule_sends(rt, pending)
    return pending


def _event(snapshot: WorkItemSnapshot, parent: WorkItemSnapshot | None = None, kind: str = "updated") -> Event:
    return Event(snapshot.tracker, kind, snapshot, parent=parent)


# --- GitHub: conditional pages ------------------------------------------------------------------


def _state(session, kr_id: str, name: str) -> SyncState:
    state = session.get(SyncState, (kr_id, name))
    if state is None:
        state = SyncState(kr_id=kr_id, source=name, pages=[], calls=0)
        session.add(state)
    return state


def _sync_github(rt, kr_id: str, source: Source, report: SyncReport) -> None:
    reader = rt.readers.github_for(rt, source.repo)
    if reader is None:
        report.errors.append(f"{sync_name(source)}: no GitHub credentials to read with")
        return
    started = datetime.now(UTC)
    with rt.sessions() as session:
        known = list(_state(session, kr_id, sync_name(source)).pages)
    parent = _anchor_snapshot(rt, reader, kr_id, source, report) if source.anchor is not None else None
    pages, keys, url, index = [], set(), None, 0
    while True:
        etag = known[index]["etag"] if index < len(known) and (url is None or known[index]["url"] == url) else None
        page = _fetch(reader, source, etag, url)
        report.calls += page.calls
        if page.not_modified:
            report.not_modified += 1
            pages.append(known[index])
            url = known[index + 1]["url"] if index + 1 < len(known) else None
        else:
            snapshots = [_github_snapshot(rt, item, parent) for item in page.items]
            pages.append({"url": url or "", "etag": page.etag, "keys": [s.key for s in snapshots]})
            report.items += len(snapshots)
            if snapshots:
                kind = "linked" if parent is not None else "updated"
                apply_snapshots(rt, [_event(s, parent, kind) for s in snapshots], f"sync:{sync_name(source)}")
            url = page.next_url
        keys |= set(pages[-1]["keys"])
        index += 1
        if not url:
            break
    _leavers(rt, kr_id, source, keys, parent, report, reader)
    with unit_of_work(rt.sessions) as session:
        state = _state(session, kr_id, sync_name(source))
        state.pages, state.synced_at, state.calls = pages, started, report.calls


def _fetch(reader, source: Source, etag: str | None, url: str | None):
    """One page of the source's items, as the GitHub API lists them for its kind."""
    return _LISTINGS[source.kind].page(reader, source, etag=etag, url=url)


def _github_snapshot(rt, item: dict, parent: WorkItemSnapshot | None) -> WorkItemSnapshot:
    return github.issue_snapshot(item, rt.github_options, parent=parent)


def _anchor_snapshot(rt, reader, kr_id: str, source: Source, report: SyncReport) -> WorkItemSnapshot:
    """The anchor itself, applied too (its labels, type, state and assignee make the key result)."""
    anchor = f"issue:{source.address}"
    with rt.sessions() as session:
        known = _state(session, kr_id, anchor).pages
        stored = find_work_item(session, source.anchor)
    etag = known[0]["etag"] if known and stored is not None else None
    page = reader.get_issue(source.repo, source.number, etag=etag)
    report.calls += page.calls
    if page.not_modified:
        report.not_modified += 1
        return snapshot_of(stored)
    snapshot = _github_snapshot(rt, page.items[0], None)
    apply_snapshots(rt, [_event(snapshot)], f"sync:{sync_name(source)}")
    with unit_of_work(rt.sessions) as session:
        _state(session, kr_id, anchor).pages = [{"url": "", "etag": page.etag, "keys": [snapshot.key]}]
    return snapshot


def _leavers(rt, kr_id, source: Source, keys: set[str], parent, report, reader) -> None:
    """Items the API no longer returns leave, as they would by webhook."""
    with rt.sessions() as session:
        if parent is not None:
            stale = list(session.scalars(select(WorkItem).where(WorkItem.parent_key == parent.key,
                                                                WorkItem.removed.is_(False))))
        else:
            members = select(Membership.work_item_key).where(Membership.kr_id == kr_id)
            stale = list(session.scalars(select(WorkItem).where(WorkItem.key.in_(members),
                                                                WorkItem.tracker == "github")))
        stale = [i for i in stale if i.key not in keys]
    events = []
    for item in stale:
        if parent is not None:  # no longer a sub-issue of the anchor: unlinked as of this listing
            events.append(_unlinked(item))
        else:  # left the milestone or label: its own state says where it is now
            key = WorkItemKey.parse(item.key)
            page = reader.get_issue(key.repo, key.number)
            report.calls += page.calls
            events.append(_event(_github_snapshot(rt, page.items[0], None)))
    if events:
        report.left += len(events)
        apply_snapshots(rt, events, f"sync:{sync_name(source)}")


def snapshot_of(item: WorkItem) -> WorkItemSnapshot:
    """A stored work item as a snapshot (what the last 200 said, when a page answers 304)."""
    return WorkItemSnapshot(
        key=item.key, tracker=item.tracker, id=item.ref.rsplit(":", 1)[-1], title=item.title, url=item.url,
        state=item.state, state_reason=item.state_reason,
        assignees=tuple(Person(a["login"], a.get("name")) for a in item.assignees), labels=tuple(item.labels),
        updated_at=item.updated_at, container=item.container, milestone=item.milestone,
        issue_type=item.issue_type, estimate=item.estimate)


def _unlinked(item: WorkItem) -> Event:
    """The stored item, with no parent. Its time stays the item's own: the listing says nothing newer
    about its state, and a later real change must still win over this."""
    stamp = max(item.updated_at, item.parent_changed_at or item.updated_at)
    snapshot = replace(snapshot_of(item), updated_at=stamp, parent_known=True)
    return Event(item.tracker, "unlinked", snapshot)


# --- Jira: what was updated since the last sync -----------------------------------------------


def _sync_jira(rt, kr_id: str, source: Source, report: SyncReport, full: bool) -> None:
    reader = rt.readers.jira_for(rt)
    if reader is None:
        report.errors.append(f"{sync_name(source)}: no Jira credentials to read with")
        return
    started = datetime.now(UTC)
    with rt.sessions() as session:
        state = _state(session, kr_id, sync_name(source))
        since = None if full else state.synced_at
        members = _jira_members(session, kr_id)
    jql = _jira_jql(rt, source, members, since)
    issues, calls = reader.search(jql, fields=_jira_fields(rt))
    report.calls += calls
    snapshots = [jira.issue_snapshot(issue, rt.jira_options) for issue in issues]
    report.items += len(snapshots)
    events = [_event(s) for s in snapshots]
    if since is None:  # a full read: a member it did not return no longer exists (or is out of reach)
        returned = {s.key for s in snapshots}
        gone = [key for key in members.values() if key not in returned]
        events += [Event("jira", "deleted", None, removed_key=key) for key in gone]
        report.left += len(gone)
    if events:
        apply_snapshots(rt, events, f"sync:{sync_name(source)}")
    with unit_of_work(rt.sessions) as session:
        state = _state(session, kr_id, sync_name(source))
        state.synced_at, state.calls = started, calls


def _jira_members(session, kr_id: str) -> dict[str, str]:
    """Issue key → work item key of the key result's Jira members: asked for too, so that one that
    moved to another epic or lost its label shows up (its `updated` moved) and leaves."""
    members = select(Membership.work_item_key).where(Membership.kr_id == kr_id)
    keys = session.scalars(select(WorkItem.key).where(WorkItem.key.in_(members), WorkItem.tracker == "jira",
                                                      WorkItem.removed.is_(False)))
    return {WorkItemKey.parse(key).issue_key: key for key in keys}


def _jira_jql(rt, source: Source, members: dict[str, str], since: datetime | None) -> str:
    from ..trackers.jira_reader import jql_quote, updated_since

    clauses = _LISTINGS[source.kind].jql(source, jql_quote, rt.settings.jira_epic_link_field)
    if members:
        clauses.append("key in (" + ", ".join(jql_quote(k) for k in sorted(members)) + ")")
    jql = "(" + " OR ".join(clauses) + ")"
    return jql + " AND " + updated_since(since - JIRA_MARGIN) if since is not None else jql


def _epic_clauses(source: Source, quote, epic_link_field: str | None) -> list[str]:
    """The epic's children, and the epic itself; on older sites also through the Epic Link field."""
    key = quote(source.issue_key)
    clauses = [f"parent = {key}", f"key = {key}"]
    if epic_link_field:
        clauses.append(f"cf[{epic_link_field.rsplit('_', 1)[-1]}] = {key}")
    return clauses


@dataclass(frozen=True)
class _Listing:
    """How reconcile lists the items of one kind of source (mappings.sources.KINDS)."""

    recorded_as: str  # sync_state's name for the kind, kept as first named so that stored ETags stay valid
    page: Callable[..., object] | None = None  # GitHub: one page of the listing (a Page)
    jql: Callable[..., list[str]] | None = None  # Jira: the search's clauses


def _label_clauses(source: Source, quote, _epic_link_field: str | None) -> list[str]:
    return [f"(project = {quote(source.project)} AND labels = {quote(source.label)})"]


_LISTINGS = {
    "github_issue": _Listing("sub_issues", page=lambda reader, s, **at: reader.sub_issues(s.repo, s.number, **at)),
    "github_milestone": _Listing("milestone", page=lambda reader, s, **at: reader.issues(s.repo, milestone=s.number,
                                                                                        **at)),
    "github_label": _Listing("label", page=lambda reader, s, **at: reader.issues(s.repo, label=s.label, **at)),
    "jira_epic": _Listing("jira_epic", jql=_epic_clauses),
    "jira_label": _Listing("jira_label", jql=_label_clauses),
}


def _jira_fields(rt) -> tuple[str, ...]:
    wanted = ["summary", "status", "resolution", "assignee", "parent", "labels", "issuetype", "updated", "project"]
    if rt.settings.jira_epic_link_field:
        wanted.append(rt.settings.jira_epic_link_field)
    return tuple(wanted + list(rt.settings.jira_story_points_fields))


def active_key_results(rt) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(KeyResult.id).where(KeyResult.active.is_(True)).order_by(KeyResult.id)))


def redeliver_failed(rt, now: datetime | None = None) -> int:
    """GitHub never redelivers by itself: an App's failed deliveries of the last days are asked for again.

    Only those okrbot has not stored (a delivery it stored is never lost, whatever GitHub recorded).
    """
    app = rt.readers.github_app()
    if app is None:
        return 0
    from webhooks.models import Delivery

    since = (now or datetime.now(UTC)) - timedelta(days=rt.settings.redeliver_days)
    try:
        failed = app.failed_deliveries(since)
        with rt.sessions() as session:
            guids = {d["guid"] for d in failed}
            stored = set(session.scalars(select(Delivery.delivery_id).where(
                Delivery.tracker == "github", Delivery.delivery_id.in_(guids)))) if guids else set()
        again = [d for d in failed if d["guid"] not in stored]
        for delivery in again:
            app.redeliver(delivery["id"])
    except TrackerError as exc:
        log.warning("failed deliveries could not be redelivered now: %s", exc.message)
        return 0
    if again:
        log.warning("asked GitHub to redeliver %d failed deliveries", len(again))
    return len(again)
