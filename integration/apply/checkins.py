"""`/checkin` comments applied: a row per comment in `checkins`, newest version wins; answers noted once.

Called from the one apply path (`processing.apply_batch`), after work items and key results, in the
same transaction. For each comment event on a key result's anchor:

- the comment's own updated time (then the delivery id) is its version: one conditional upsert per
  batch, `INSERT … ON CONFLICT (comment_key) DO UPDATE … WHERE` the stored version is older and the
  row is not withdrawn, so redeliveries and out-of-order deliveries converge;
- a deletion withdraws the row for good (inserted withdrawn when it comes first), so that a late,
  older version cannot bring it back; the previous check-in is then current again;
- an edit that leaves no `/checkin` line withdraws it as well (when the row exists);
- a version that wins is answered once per comment (`checkin_answers`, unique per comment): a 👍 on
  GitHub when accepted; a reply when refused (not the owner, bad input), on GitHub and Jira alike.

Rows are written in comment-key order, after the key results (the apply path's lock order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Integer, bindparam, func, literal_column, select, tuple_, update

from core.events import Event
from core.schema import UTCDateTime, check_bounds, upsert_insert
from mappings.checkin_command import CheckinCommand, read_checkin
from mappings.checkin_rules import Verdict, verdict_of
from mappings.checkins import ACCEPTED
from mappings.models import CheckinRow, KeyResult, WorkItem
from mappings.views import ownership_of

from ..writeback.checkin_answers import note_answers

KINDS = ("commented", "comment_edited", "comment_deleted")
_TABLE = CheckinRow.__table__
_ZERO = literal_column("0")
_KRS_AT = (select(KeyResult).where(KeyResult.anchor_key.in_(bindparam("keys", expanding=True)),
                                   KeyResult.active.is_(True)).order_by(KeyResult.id))
_ITEMS_BY_REF = select(WorkItem.ref, WorkItem.key).where(WorkItem.tracker == "jira",
                                                          WorkItem.ref.in_(bindparam("refs", expanding=True)))


@dataclass(frozen=True)
class Version:
    """One version of one comment on an anchor, as a delivery showed it."""

    event: Event
    delivery_pk: int
    anchor_ref: str  # "key:<work item key>" or "ref:<Jira site host>:<numeric issue id>"

    @property
    def deleted(self) -> bool:
        return self.event.kind == "comment_deleted"

    @property
    def order(self) -> tuple:
        """Deletion wins; then the comment's updated time; then the later delivery."""
        c = self.event.comment
        return (self.deleted, c.updated_at or c.created_at, self.delivery_pk)


def comment_versions(events: list[tuple[Event, int | None]]) -> list[Version]:
    """The comment events that may be check-ins: not by a bot, on an anchor the body names."""
    out = []
    for event, pk in events:
        c = event.comment
        if event.kind not in KINDS or c is None or c.is_bot or c.author is None:
            continue
        ref = _anchor_ref(event)
        if ref is not None and (c.updated_at or c.created_at) is not None:
            out.append(Version(event, pk or 0, ref))
    return out


def _anchor_ref(event: Event) -> str | None:
    if event.item is not None:
        return f"key:{event.item.key}"
    for change in event.changes:
        if change.startswith("issue:"):
            return f"key:{change.removeprefix('issue:')}"
        if change.startswith("issue_id:"):  # Server: the issue by numeric id, "<site host>/<id>"
            host, _, number = change.removeprefix("issue_id:").rpartition("/")
            return f"ref:{host}:{number}"
    return None


def apply_checkins(session, events: list[tuple[Event, int | None]], now: datetime) -> tuple[list[int], set[str]]:
    """Store the batch's `/checkin` comments; return the answers that became pending (to be sent) and
    the key results whose check-ins may have changed (their living comment is noted for write-back)."""
    versions = comment_versions(events)
    if not versions:
        return [], set()
    anchors = _anchor_keys(session, {v.anchor_ref for v in versions})
    krs: dict[str, KeyResult] = {}
    for kr in session.scalars(_KRS_AT, {"keys": sorted(set(anchors.values()))}):
        krs.setdefault(kr.anchor_key, kr)  # several on one anchor: the first by id takes the check-ins
    newest: dict[str, tuple[Version, KeyResult]] = {}
    for v in versions:
        kr = krs.get(anchors.get(v.anchor_ref, ""))
        if kr is not None:
            key = f"{kr.anchor_key}@{v.event.comment.id}"
            if key not in newest or newest[key][0].order < v.order:
                newest[key] = (v, kr)
    rows, deletions, retractions, verdicts = [], [], [], {}
    for key in sorted(newest):
        v, kr = newest[key]
        command = read_checkin(v.event.comment.body)
        if command is None:
            if v.event.kind != "commented":
                retractions.append(_retraction(key, v))
            continue
        verdicts[key] = verdict = verdict_of(command, ownership_of(kr), v.event.comment.author)
        (deletions if v.deleted else rows).append(_row(key, kr, v, command, verdict))
    won = _upsert(session, rows)
    _withdraw(session, deletions, retractions)
    wanted = [(key, newest[key][1], newest[key][0].event.comment.id, verdicts[key]) for key in sorted(won)]
    touched = {row["kr_id"] for row in rows if row["comment_key"] in won} | {
        newest[row["comment_key"]][1].id for row in deletions} | {newest[row["key"]][1].id for row in retractions}
    return note_answers(session, wanted, now), touched


def _anchor_keys(session, refs: set[str]) -> dict[str, str]:
    """anchor ref → the work item key it names (Server bodies name the issue by id: looked up)."""
    out = {ref: ref.removeprefix("key:") for ref in refs if ref.startswith("key:")}
    by_id = sorted(ref.removeprefix("ref:") for ref in refs if ref.startswith("ref:"))
    if by_id:
        out |= {f"ref:{ref}": key for ref, key in session.execute(_ITEMS_BY_REF, {"refs": by_id})}
    return out


def _row(key: str, kr: KeyResult, v: Version, command, verdict: Verdict) -> dict:
    c = v.event.comment
    accepted = verdict.verdict == ACCEPTED and isinstance(command, CheckinCommand)
    url = c.url or (f"{kr.anchor_url}?focusedCommentId={c.id}" if kr.anchor_url and v.event.tracker == "jira"
                    else kr.anchor_url)
    return {"comment_key": key, "kr_id": kr.id, "verdict": verdict.verdict,
            "status": command.status.value if accepted else None,
            "confidence": command.confidence if accepted else None, "note": command.note if accepted else "",
            "author_login": c.author_login, "author_account_id": c.author_account_id, "author_name": c.author.name,
            "url": url, "written_at": c.created_at or c.updated_at, "updated_at": c.updated_at or c.created_at,
            "withdrawn": v.deleted, "last_delivery_id": v.delivery_pk}


def _retraction(key: str, v: Version) -> dict:
    c = v.event.comment
    return {"key": key, "version": c.updated_at or c.created_at, "pk": v.delivery_pk}


_VERSIONED = ("kr_id", "verdict", "status", "confidence", "note", "author_login", "author_account_id",
              "author_name", "url", "updated_at", "last_delivery_id")


@cache
def _statements(dialect_name: str):
    insert = upsert_insert(dialect_name, CheckinRow)
    new, old = insert.excluded, _TABLE.c
    newer = tuple_(old.updated_at, func.coalesce(old.last_delivery_id, _ZERO)) < tuple_(
        new.updated_at, func.coalesce(new.last_delivery_id, _ZERO))
    upsert = insert.on_conflict_do_update(index_elements=[old.comment_key], set_={n: new[n] for n in _VERSIONED},
                                          where=old.withdrawn.is_(False) & newer).returning(old.comment_key)
    withdraw = insert.on_conflict_do_update(index_elements=[old.comment_key], set_={"withdrawn": True},
                                            where=old.withdrawn.is_(False))
    return upsert, withdraw


_RETRACT = (update(_TABLE).where(_TABLE.c.comment_key == bindparam("key"), _TABLE.c.withdrawn.is_(False),
                                 tuple_(_TABLE.c.updated_at, func.coalesce(_TABLE.c.last_delivery_id, _ZERO))
                                 < tuple_(bindparam("version", type_=UTCDateTime()), bindparam("pk", type_=Integer())))
            .values(withdrawn=True))


def _upsert(session, rows: list[dict]) -> set[str]:
    """The versions that won (inserted, or newer than what was stored)."""
    if not rows:
        return set()
    check_bounds(CheckinRow, rows)  # an overlong login or id: the delivery fails, with the reason
    upsert, _withdraw_stmt = _statements(session.get_bind().dialect.name)
    return set(session.connection().execute(upsert, rows).scalars())


def _withdraw(session, deletions: list[dict], retractions: list[dict]) -> None:
    if deletions:
        session.connection().execute(_statements(session.get_bind().dialect.name)[1], deletions)
    if retractions:
        session.connection().execute(_RETRACT, retractions)
