"""Who may check in, and what a `/checkin` comment's verdict is: pure functions.

Only the key result's one current owner may check in. The author is compared with the owner by login,
case-insensitively: the GitHub login, the Jira Cloud accountId, the Jira Server / Data Center name
(`core.events.Person.login` holds whichever the tracker has; the anchor's assignee and an okrs.yml
`owner:` are compared alike). A key result owned by a team, shared by several assignees, or with no
owner has no one who may check in until it has exactly one owner: a check-in is one person's word.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.events import Person

from .checkin_command import BadCheckin, CheckinCommand
from .checkins import ACCEPTED, BAD_INPUT, NOT_OWNER
from .progress import OK, Ownership


@dataclass(frozen=True)
class Verdict:
    verdict: str  # ACCEPTED | NOT_OWNER | BAD_INPUT
    owner: Person | None = None  # NOT_OWNER: who may (None: nobody, until there is exactly one owner)
    ownership: str = OK  # NOT_OWNER: the key result's ownership status (ok, none, shared, team)
    reason: str | None = None  # BAD_INPUT: what was wrong


def may_check_in(ownership: Ownership, author: Person | None) -> bool:
    if ownership.status != OK or ownership.owner is None or author is None:
        return False
    return author.login.casefold() == ownership.owner.login.lstrip("@").casefold()


def verdict_of(command: CheckinCommand | BadCheckin, ownership: Ownership, author: Person | None) -> Verdict:
    """Not the owner comes first: whoever is not the owner gets that answer, whatever they wrote."""
    if not may_check_in(ownership, author):
        return Verdict(NOT_OWNER, ownership.owner if ownership.status == OK else None, ownership.status)
    if isinstance(command, BadCheckin):
        return Verdict(BAD_INPUT, reason=command.reason)
    return Verdict(ACCEPTED)
