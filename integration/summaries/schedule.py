"""When the weekly summary is due: a local weekday and hour in the target's timezone, as a UTC instant.

Pure: the clock is passed in. Weeks are ISO weeks (Monday first) in the target's timezone. The
caller stores the week it last posted for (`iso_week`), so a late clock still fires, once a week.
Local times are turned into instants with zoneinfo: an hour that happens twice (autumn change)
is its first occurrence (fold=0); an hour that does not exist (spring change) moves forward to the
first instant after the gap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime has no instant: {moment!r} (pass an aware one, e.g. in UTC)")
    return moment


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """`2026-W49`: the ISO week `moment` falls in, in that timezone."""
    year, week, _ = _aware(moment).astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def weekday_number(weekday: str) -> int:
    """ISO weekday, 1 (monday) … 7 (sunday); case and surrounding blanks do not matter."""
    name = weekday.strip().lower()
    if name not in WEEKDAYS:
        raise ValueError(f"unknown weekday {weekday!r} (one of: {', '.join(WEEKDAYS)})")
    return WEEKDAYS.index(name) + 1


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time: first occurrence when repeated, the gap's end when skipped."""
    earlier = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if earlier.astimezone(tz).replace(tzinfo=None) == local:
        return earlier
    # Skipped: fold=0 reads the wall time with the offset before the change (an instant after the gap),
    # fold=1 with the offset after it (an instant before the gap); the change lies between them.
    before_gap = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return _transition(min(before_gap, earlier), max(before_gap, earlier), tz)


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (lo, hi] whose UTC offset differs from lo's (to the second)."""
    offset = lo.astimezone(tz).utcoffset()
    low, high = 0, int((hi - lo).total_seconds())
    while high - low > 1:
        mid = (low + high) // 2
        if (lo + timedelta(seconds=mid)).astimezone(tz).utcoffset() == offset:
            low = mid
        else:
            high = mid
    return lo + timedelta(seconds=high)


def due_this_week(now: datetime, weekday: str, hour: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of (weekday, hour:00) local time in the ISO week that `now` falls in, in `tz`."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0–23, not {hour!r}")
    year, week, _ = _aware(now).astimezone(tz).isocalendar()
    day = date.fromisocalendar(year, week, weekday_number(weekday))
    return local_to_utc(datetime.combine(day, time(hour)), tz)


def is_due(now: datetime, weekday: str, hour: int, tz: ZoneInfo) -> bool:
    """Whether this week's summary time has come (the caller checks it has not posted for iso_week yet)."""
    return _aware(now) >= due_this_week(now, weekday, hour, tz)
