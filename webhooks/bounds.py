"""The limits of what a request may carry into the inbox's columns, checked before the insert.

A value longer than its column is refused with 400 (naming the field), never left to the database,
which would refuse it (PostgreSQL) with an error the receiver could only answer with 500.
"""

from __future__ import annotations

from .errors import PayloadError

DELIVERY_ID_CHARS = 200  # deliveries.delivery_id
EVENT_CHARS = 100  # deliveries.event
ACTION_CHARS = 100  # deliveries.action
OTHER = "other"  # the metrics label of an event okrbot does not know (the label set stays bounded)
NOT_READ = "-"  # the event of a delivery refused before its event was read


def bounded(what: str, value: str, limit: int) -> str:
    """`value`, if it fits `limit` characters and holds no control character.

    PostgreSQL refuses a NUL in text, and a line break would forge lines in the request log.
    """
    if len(value) > limit:
        raise PayloadError(f"{what} is longer than {limit} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PayloadError(f"{what} contains a control character")
    return value


def single_header(name: str, value: str, limit: int) -> str:
    """A header that names one thing (an event, a delivery id): ASCII, one value, within `limit`.

    A repeated header reaches WSGI as its values joined by commas, which no event name or id holds.
    """
    bounded(f"{name} header", value, limit)
    if not value.isascii():
        raise PayloadError(f"{name} header is not ASCII")
    if "," in value:
        raise PayloadError(f"{name} header has more than one value")
    return value


def metrics_label(event: str, known: frozenset[str]) -> str:
    """The event as a metrics label: itself when okrbot knows it (or `NOT_READ`), else `OTHER`."""
    return event if event in known or event == NOT_READ else OTHER
