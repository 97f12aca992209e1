"""The small interface write-back needs from a tracker, and the errors its clients raise.

Clients are thin: one short method per API call, no domain logic. They translate the tracker's
answers into these errors so that the outbox can decide: retry later, look before re-creating,
or give up and record why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Anchor:
    """Where a key result's comment lives: `github:<owner>/<repo>#<n>` or `jira:<host>/<KEY>`."""

    key: str
    installation_id: int | None = None  # GitHub App: the installation that covers the repository


@dataclass(frozen=True)
class RemoteComment:
    id: str
    body: str


class TrackerError(Exception):
    """Base of every client error; `message` never holds a token."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class RateLimited(TrackerError):
    """429, GitHub's secondary rate limit (403 + Retry-After or its message), or x-ratelimit-remaining: 0.

    `retry_after`: seconds to wait (from Retry-After, or until x-ratelimit-reset).
    """

    def __init__(self, message: str, retry_after: float, status: int | None = None):
        super().__init__(message, status)
        self.retry_after = retry_after


class Transient(TrackerError):
    """5xx, timeout, connection error. `uncertain`: the write may have happened (a create that timed out)."""

    def __init__(self, message: str, status: int | None = None, uncertain: bool = False):
        super().__init__(message, status)
        self.uncertain = uncertain


class Gone(TrackerError):
    """Permanent: the anchor was deleted, transferred or locked, or the credential has no access (401/403/404/410)."""


class CommentMissing(TrackerError):
    """The comment being edited no longer exists (a person deleted it): create it again."""


class CommentClient(Protocol):
    credential: str  # what the one-write-per-second budget is counted on, e.g. "github:installation:42"

    def find_comment(self, anchor: Anchor, marker: str) -> RemoteComment | None:
        """okrbot's own comment on the anchor: the first whose body contains `marker`."""

    def create_comment(self, anchor: Anchor, body: str) -> RemoteComment: ...

    def edit_comment(self, anchor: Anchor, comment_id: str, body: str) -> RemoteComment: ...
