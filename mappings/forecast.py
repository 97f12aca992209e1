"""When a key result reaches 100%, at the pace of its recent history: a pure least-squares fit.

The line is fitted to the (time, percent) points of the last `window_days` before `now` (points
after `now` are ignored too), percent per day as its slope. Raw percentages may pass 100 (against a
target); "done" compares the latest point capped at 100. A fit needs at least MIN_HISTORY_DAYS of
history (the first point at least that long before `now`) and two points at distinct times: minutes
of history once said "100% by today" while the health said at risk (issue 13). The window a result
reports is the span of history it saw, so a week-old key result never says "no movement in 4 weeks".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DONE, NO_HISTORY, FLAT, ON_PACE, LATE = "done", "no_history", "flat", "on_pace", "late"
FLAT_SLOPE = 1e-6  # percent per day; below it the line is flat (also absorbs float noise of a constant series)
MIN_HISTORY_DAYS = 7  # less history than this is "not enough history yet", whatever the points say
HORIZON_DAYS = 36525  # ~100 years: beyond it no date is given (and none would fit in a `date` for tiny slopes)


@dataclass(frozen=True)
class Forecast:
    status: str  # DONE | NO_HISTORY | FLAT | ON_PACE | LATE
    reaches_100_on: date | None  # ON_PACE, LATE (None when LATE beyond HORIZON_DAYS)
    days_before_end: int | None  # positive = early, 0 = on the last day, negative = late
    window_days: int = 28  # whole days of history the fit saw, at most the window ("no movement in 4 weeks")
    slope_per_day: float | None = None  # percentage points per day; None when nothing was fitted


def forecast(points: Sequence[tuple[datetime, float]], now: datetime, period_end: date,
             window_days: int = 28) -> Forecast:
    """done / no_history (under MIN_HISTORY_DAYS, or < 2 distinct points) / flat (slope ≤ 0) / on_pace / late."""
    past = sorted((t, float(p)) for t, p in points if t <= now)
    if past and min(past[-1][1], 100.0) >= 100.0:
        return Forecast(DONE, None, None, window_days)
    start = now - timedelta(days=window_days)
    recent = [(_days(t, now), p) for t, p in past if t >= start]
    span = -recent[0][0] if recent else 0.0  # days from the first point of the window to now
    slope = _slope(recent) if span >= MIN_HISTORY_DAYS else None
    if slope is None:
        return Forecast(NO_HISTORY, None, None, window_days)
    seen = min(window_days, int(span))
    if slope <= FLAT_SLOPE:
        return Forecast(FLAT, None, None, seen, slope)
    mean_x = sum(x for x, _ in recent) / len(recent)
    mean_y = sum(y for _, y in recent) / len(recent)
    days_to_100 = mean_x + (100.0 - mean_y) / slope  # from now; the line's crossing of 100
    if days_to_100 > HORIZON_DAYS:
        return Forecast(LATE, None, None, seen, slope)
    # a noisy series whose line crossed 100 already (the latest point below it) reaches it today at the earliest
    reaches = (now + timedelta(days=max(days_to_100, 0.0))).date()
    early = (period_end - reaches).days
    return Forecast(ON_PACE if early >= 0 else LATE, reaches, early, seen, slope)


def _days(t: datetime, now: datetime) -> float:
    return (t - now).total_seconds() / 86400.0


def _slope(xy: list[tuple[float, float]]) -> float | None:
    """Least-squares slope, or None with fewer than two points at distinct times."""
    if len(xy) < 2:
        return None
    mean_x = sum(x for x, _ in xy) / len(xy)
    mean_y = sum(y for _, y in xy) / len(xy)
    sxx = sum((x - mean_x) ** 2 for x, _ in xy)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in xy) / sxx
