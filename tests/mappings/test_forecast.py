"""The least-squares forecast of when a key result reaches 100%, on known series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mappings.forecast import Forecast, forecast

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
END = date(2026, 12, 31)


def series(*pairs: tuple[float, float]) -> list[tuple[datetime, float]]:
    """(days before NOW, percent) → points."""
    return [(NOW - timedelta(days=ago), percent) for ago, percent in pairs]


def test_linear_series_gives_the_exact_date():
    # 2 points a day, 60% now: 100% in 20 days → 2026-12-10, 21 days before 2026-12-31
    result = forecast(series((21, 18), (14, 32), (7, 46), (0, 60)), NOW, END)
    assert result == Forecast("on_pace", date(2026, 12, 10), 21, 21, pytest.approx(2.0))  # 21 days of history seen


def test_late_when_the_line_reaches_100_after_the_period():
    # 1 point a day, 50% now: 100% in 50 days → 2027-01-09, 9 days late
    result = forecast(series((20, 30), (10, 40), (0, 50)), NOW, END)
    assert (result.status, result.reaches_100_on, result.days_before_end) == ("late", date(2027, 1, 9), -9)


def test_on_the_last_day_is_on_pace():
    result = forecast(series((10, 40), (0, 50)), NOW, date(2027, 1, 9))
    assert (result.status, result.days_before_end) == ("on_pace", 0)
    assert forecast(series((10, 40), (0, 50)), NOW, date(2027, 1, 8)).status == "late"


def test_flat_series():
    result = forecast(series((21, 40), (14, 40), (7, 40), (0, 40)), NOW, END)
    assert (result.status, result.reaches_100_on, result.days_before_end) == ("flat", None, None)


def test_going_backwards_is_flat_with_its_negative_slope():
    result = forecast(series((14, 50), (0, 40)), NOW, END)
    assert result.status == "flat" and result.slope_per_day == pytest.approx(-10 / 14)


@pytest.mark.parametrize("points", [[], series((3, 40)), series((40, 10), (35, 20), (0, 30))])
def test_no_history_with_fewer_than_two_points_in_the_window(points):
    assert forecast(points, NOW, END) == Forecast("no_history", None, None)


def test_two_points_at_the_same_instant_are_no_history():
    assert forecast(series((2, 40), (2, 45)), NOW, END).status == "no_history"


@pytest.mark.parametrize("last", [100.0, 130.0])
def test_already_done_even_without_recent_history(last):
    assert forecast(series((90, 20), (60, last)), NOW, END) == Forecast("done", None, None)


def test_raw_values_past_100_fit_as_they_are():
    # against a target: 80 → 95 in 15 days; the latest point below 100 is not done
    result = forecast(series((15, 80), (0, 95)), NOW, END)
    assert (result.status, result.reaches_100_on) == ("on_pace", date(2026, 11, 25))


def test_noisy_series_is_least_squares_not_endpoints():
    # x = days from now, y: endpoints (-21, 10) and (0, 40) alone would say 30/21 pts a day
    points = series((21, 10), (14, 30), (7, 25), (0, 40))
    result = forecast(points, NOW, END)
    xs, ys = [-21, -14, -7, 0], [10, 30, 25, 40]
    mx, my = sum(xs) / 4, sum(ys) / 4
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert slope == pytest.approx(17 / 14) and slope != pytest.approx(30 / 21)
    crossing = mx + (100 - my) / slope  # ≈ 50.24 days from now: 2027-01-09 (endpoints: 42 days, 2027-01-01)
    assert result.slope_per_day == pytest.approx(slope)
    assert result.reaches_100_on == (NOW + timedelta(days=crossing)).date() == date(2027, 1, 9)
    assert (result.status, result.days_before_end) == ("late", -9)


def test_points_older_than_the_window_are_ignored():
    recent = series((20, 50), (10, 55), (0, 60))
    with_old = series((60, 0), (45, 5), (30, 10)) + recent  # steep start, long ago
    assert forecast(with_old, NOW, END) == forecast(recent, NOW, END)
    assert forecast(with_old, NOW, END).slope_per_day == pytest.approx(0.5)
    # a wider window takes them in
    assert forecast(with_old, NOW, END, window_days=90).slope_per_day > 0.5


def test_the_window_edge_is_inclusive_and_the_future_is_ignored():
    points = series((28, 30), (0, 58)) + [(NOW + timedelta(days=3), 100.0)]
    result = forecast(points, NOW, date(2027, 1, 1))
    assert result.slope_per_day == pytest.approx(1.0)  # 30 → 58 in 28 days; 42 to go
    assert (result.status, result.reaches_100_on, result.days_before_end) == ("on_pace", date(2027, 1, 1), 0)
    just_outside = series((28.01, 0), (0, 58))
    assert forecast(just_outside, NOW, END).status == "no_history"


def test_unsorted_points_are_fine():
    points = series((0, 60), (21, 18), (7, 46), (14, 32))
    assert forecast(points, NOW, END).reaches_100_on == date(2026, 12, 10)


def test_a_line_already_past_100_reaches_it_today():
    # noisy: the fit is above 100 at now though the latest point is 99
    result = forecast(series((9, 40), (8, 120), (0, 99)), NOW, END)
    assert (result.status, result.reaches_100_on) == ("on_pace", NOW.date())


def test_an_imperceptible_pace_is_flat_and_a_very_slow_one_has_no_date():
    assert forecast(series((20, 10), (0, 10.00001)), NOW, END).status == "flat"
    slow = forecast(series((20, 10), (0, 10.02)), NOW, END)  # 0.001 pts a day: 90,000 days
    assert (slow.status, slow.reaches_100_on, slow.days_before_end) == ("late", None, None)


# --- issue 13: a forecast needs at least a week of history ----------------------------------------

def test_minutes_of_history_are_not_enough_even_on_a_steep_line():
    # the case found: 0% → 50% within minutes once said "100% by" today
    points = [(NOW - timedelta(minutes=30), 0.0), (NOW - timedelta(minutes=5), 50.0), (NOW, 50.0)]
    assert forecast(points, NOW, END).status == "no_history"


def test_six_days_are_not_enough_seven_are():
    assert forecast(series((6.99, 10), (0, 40)), NOW, END).status == "no_history"
    assert forecast(series((7, 10), (0, 40)), NOW, END).status == "on_pace"


def test_a_week_of_one_repeated_instant_is_not_two_points():
    moment = NOW - timedelta(days=10)
    assert forecast([(moment, 10.0), (moment, 30.0)], NOW, NOW.date()).status == "no_history"


def test_flat_reports_the_history_it_saw_not_the_whole_window():
    result = forecast(series((10, 30), (0, 30)), NOW, END)
    assert (result.status, result.window_days) == ("flat", 10)
    assert forecast(series((40, 30), (28, 30), (0, 30)), NOW, END).window_days == 28  # the 40-day-old one is outside
