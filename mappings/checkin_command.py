"""Reading a `/checkin` comment: pure, no I/O. The command's forms are `mappings.checkins.USAGE`.

`read_checkin(body)` is None when the comment is not a check-in (its first line does not start with
`/checkin`), a `CheckinCommand` when it is a well-formed one, and a `BadCheckin` (with the reason)
otherwise. The first line is `/checkin <status> [<confidence>/10] [note]`:

- the command word is case-insensitive and must stand alone (`/checkins` is not it);
- status `on-track`, `at-risk` or `off-track`, case-insensitive, `_` accepted for `-`;
- a token that looks like a score (`6/10`, `11/10`, `-1/10`, `7/5`, `6.5/10`) is the confidence, and is bad
  input unless it is a whole number from 0 to 10 over 10;
- the rest of the first line and the lines after it are the note, kept as written (trimmed), cut to
  `NOTE_LIMIT` characters ending in "…".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checkins import COMMAND, NOTE_LIMIT, CheckinStatus

_STATUSES = {status.value.replace("_", "-"): status for status in CheckinStatus}
_SCORE = re.compile(r"[+-]?\d+(?:[.,]\d+)?/[+-]?\d+(?:[.,]\d+)?")
_CONFIDENCE = re.compile(r"\+?(\d{1,2})/10")
ELLIPSIS = "…"


@dataclass(frozen=True)
class CheckinCommand:
    status: CheckinStatus
    confidence: int | None  # 0..10, None when not given
    note: str  # trimmed, at most NOTE_LIMIT characters


@dataclass(frozen=True)
class BadCheckin:
    reason: str  # for the log and the reply; never holds the comment's text


def read_checkin(body: str) -> CheckinCommand | BadCheckin | None:
    """What a comment says as a check-in; None when it is not one."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").lstrip()
    first, _, rest = text.partition("\n")
    words = first.split(maxsplit=1)
    if not words or words[0].lower() != COMMAND:
        return None
    tokens = words[1].split(maxsplit=1) if len(words) > 1 else []
    if not tokens:
        return BadCheckin("no status given")
    status = _STATUSES.get(tokens[0].lower().replace("_", "-"))
    if status is None:
        return BadCheckin("unknown status")
    after = tokens[1] if len(tokens) > 1 else ""
    confidence, after = _confidence(after)
    if isinstance(confidence, BadCheckin):
        return confidence
    return CheckinCommand(status, confidence, cut_note("\n".join(part for part in (after, rest) if part).strip()))


def _confidence(text: str) -> tuple[int | None | BadCheckin, str]:
    parts = text.split(maxsplit=1)
    if not parts or not _SCORE.fullmatch(parts[0]):
        return None, text
    match = _CONFIDENCE.fullmatch(parts[0])
    if match is None or int(match.group(1)) > 10:
        return BadCheckin("confidence is not a whole number from 0 to 10 over 10"), text
    return int(match.group(1)), parts[1] if len(parts) > 1 else ""


def cut_note(note: str) -> str:
    """At most NOTE_LIMIT characters; a longer note keeps its start and ends with "…"."""
    return note if len(note) <= NOTE_LIMIT else note[:NOTE_LIMIT - 1].rstrip() + ELLIPSIS
