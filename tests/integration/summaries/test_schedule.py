"""When the weekly summary is due: local weekday and hour → UTC, ISO weeks in the target's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from integration.summaries.schedule import WEEKDAYS, due_this_week, is_due, iso_week, local_to_utc

BERLIN, NEW_YORK, TOKYO, UTC_ZONE = (ZoneInfo(name) for name in ("Europe/Berlin", "America/New_York",
                                                                 "Asia/Tokyo", "UTC"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_weekdays():
    assert WEEKDAYS == ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.mark.parametrize(("now", "tz", "due"), [
    (utc(2026, 12, 2, 10), UTC_ZONE, utc(2026, 11, 30, 9)),
    (utc(2026, 7, 8, 10), BERLIN, utc(2026, 7, 6, 7)),  # 09:00 CEST
    (utc(2026, 12, 2, 10), BERLIN, utc(2026, 11, 30, 8)),  # 09:00 CET
    (utc(2026, 7, 8, 10), NEW_YORK, utc(2026, 7, 6, 13)),  # 09:00 EDT
    (utc(2026, 12, 2, 10), NEW_YORK, utc(2026, 11, 30, 14)),  # 09:00 EST
    (utc(2026, 7, 8, 10), TOKYO, utc(2026, 7, 6, 0)),  # 09:00 JST, no DST
    (utc(2026, 12, 2, 10), TOKYO, utc(2026, 11, 30, 0)),
])
def test_monday_nine_across_timezones(now, tz, due):
    assert due_this_week(now, "monday", 9, tz) == due
    assert due_this_week(now, "monday", 9, tz).tzinfo is UTC


@pytest.mark.parametrize(("week_of", "due"), [
    # Europe/Berlin changes on 2026-03-29 (02:00 → 03:00) and 2026-10-25 (03:00 → 02:00)
    (date(2026, 3, 25), utc(2026, 3, 23, 8)),  # last winter Monday
    (date(2026, 4, 1), utc(2026, 3, 30, 7)),  # first summer Monday
    (date(2026, 10, 21), utc(2026, 10, 19, 7)),  # last summer Monday
    (date(2026, 10, 28), utc(2026, 10, 26, 8)),  # first winter Monday
])
def test_berlin_monday_nine_on_both_sides_of_each_change(week_of, due):
    now = datetime.combine(week_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert due_this_week(now, "monday", 9, BERLIN) == due


@pytest.mark.parametrize(("now", "weekday", "hour", "tz", "due"), [
    # the week's own change day: Sunday evening is after the change
    (utc(2026, 3, 25), "sunday", 18, BERLIN, utc(2026, 3, 29, 16)),  # 18:00 CEST
    (utc(2026, 10, 21), "sunday", 18, BERLIN, utc(2026, 10, 25, 17)),  # 18:00 CET
    (utc(2026, 3, 4), "sunday", 12, NEW_YORK, utc(2026, 3, 8, 16)),  # 12:00 EDT
    (utc(2026, 10, 28), "sunday", 12, NEW_YORK, utc(2026, 11, 1, 17)),  # 12:00 EST
])
def test_the_change_day_itself(now, weekday, hour, tz, due):
    assert due_this_week(now, weekday, hour, tz) == due


def test_a_skipped_hour_moves_forward_to_the_end_of_the_gap():
    # 2026-03-29 02:00–03:00 does not exist in Berlin: the first valid instant is 03:00 CEST = 01:00 UTC
    assert due_this_week(utc(2026, 3, 25), "sunday", 2, BERLIN) == utc(2026, 3, 29, 1)
    assert local_to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1)
    # New York, 2026-03-08 02:00 → 03:00 EDT = 07:00 UTC
    assert due_this_week(utc(2026, 3, 4), "sunday", 2, NEW_YORK) == utc(2026, 3, 8, 7)
    # the hours either side are ordinary
    assert due_this_week(utc(2026, 3, 25), "sunday", 1, BERLIN) == utc(2026, 3, 29, 0)
    assert due_this_week(utc(2026, 3, 25), "sunday", 3, BERLIN) == utc(2026, 3, 29, 1)


def test_a_repeated_hour_is_its_first_occurrence():
    # 2026-10-25 02:00–03:00 happens twice in Berlin: first in CEST (00:00 UTC), then in CET (01:00 UTC)
    assert due_this_week(utc(2026, 10, 21), "sunday", 2, BERLIN) == utc(2026, 10, 25, 0)
    # New York, 2026-11-01 01:00 EDT (05:00 UTC), then 01:00 EST (06:00 UTC)
    assert due_this_week(utc(2026, 10, 28), "sunday", 1, NEW_YORK) == utc(2026, 11, 1, 5)


@pytest.mark.parametrize(("moment", "tz", "week"), [
    (utc(2026, 12, 6, 23, 30), UTC_ZONE, "2026-W49"),  # Sunday night in UTC
    (utc(2026, 12, 6, 23, 30), TOKYO, "2026-W50"),  # already Monday 08:30 in Tokyo
    (utc(2026, 12, 7, 3, 0), NEW_YORK, "2026-W49"),  # still Sunday 22:00 in New York
    (utc(2026, 12, 7, 3, 0), UTC_ZONE, "2026-W50"),
    (utc(2026, 12, 31, 12), UTC_ZONE, "2026-W53"),  # a Thursday: 2026 has 53 ISO weeks
    (utc(2027, 1, 3, 12), UTC_ZONE, "2026-W53"),  # Sunday, still 2026's last week
    (utc(2027, 1, 4, 0), UTC_ZONE, "2027-W01"),
    (utc(2027, 1, 3, 15), TOKYO, "2027-W01"),  # Monday 00:00 in Tokyo
    (utc(2025, 12, 29, 12), UTC_ZONE, "2026-W01"),  # a Monday of December in 2026's first week
    (utc(2026, 1, 1), NEW_YORK, "2026-W01"),  # 2025-12-31 19:00 in New York, also 2026-W01
    (utc(2026, 3, 2), UTC_ZONE, "2026-W10"),
])
def test_iso_week_in_the_timezone(moment, tz, week):
    assert iso_week(moment, tz) == week


def test_due_this_week_across_the_year_boundary():
    # 2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03
    assert due_this_week(utc(2027, 1, 2, 12), "monday", 9, UTC_ZONE) == utc(2026, 12, 28, 9)
    assert due_this_week(utc(2026, 12, 29), "sunday", 18, UTC_ZONE) == utc(2027, 1, 3, 18)
    assert due_this_week(utc(2027, 1, 4, 0), "monday", 9, UTC_ZONE) == utc(2027, 1, 4, 9)
    assert due_this_week(utc(2025, 12, 31), "friday", 9, UTC_ZONE) == utc(2026, 1, 2, 9)


def test_the_week_is_the_targets_not_utcs():
    sunday_night = utc(2026, 12, 6, 23, 30)  # Monday 08:30 in Tokyo
    assert due_this_week(sunday_night, "monday", 9, TOKYO) == utc(2026, 12, 7, 0)
    assert not is_due(sunday_night, "monday", 9, TOKYO)
    assert is_due(utc(2026, 12, 7, 0), "monday", 9, TOKYO)
    # Monday 03:00 UTC is Sunday evening in New York: that week's Monday has long passed
    assert due_this_week(utc(2026, 12, 7, 3), "monday", 9, NEW_YORK) == utc(2026, 11, 30, 14)
    assert is_due(utc(2026, 12, 7, 3), "monday", 9, NEW_YORK)


def test_is_due_before_at_and_after():
    due = utc(2026, 11, 30, 8)  # Monday 09:00 in Berlin
    assert not is_due(due - timedelta(seconds=1), "monday", 9, BERLIN)
    assert is_due(due, "monday", 9, BERLIN)
    assert is_due(due + timedelta(days=3), "monday", 9, BERLIN)  # a late clock still fires
    assert not is_due(utc(2026, 11, 30, 0), "monday", 9, BERLIN)  # Monday 01:00, same week
    assert is_due(utc(2026, 12, 6, 22, 59), "monday", 9, BERLIN)  # Sunday 23:59, the week's last minute
    assert not is_due(utc(2026, 12, 6, 23, 0), "monday", 9, BERLIN)  # Monday 00:00: a new week


def test_a_ticking_clock_fires_once_a_week_at_the_first_tick_after_the_time():
    fired, posted_for = [], None
    now = utc(2026, 10, 12)
    while now < utc(2026, 11, 9):  # four weeks over the October change, ticking every 25 minutes
        week = iso_week(now, BERLIN)
        if week != posted_for and is_due(now, "monday", 9, BERLIN):
            fired.append(now)
            posted_for = week
        now += timedelta(minutes=25)
    assert [iso_week(t, BERLIN) for t in fired] == ["2026-W42", "2026-W43", "2026-W44", "2026-W45"]
    for t in fired:  # the first tick at or after Monday 09:00 local, summer time or winter time
        assert timedelta(0) <= t - due_this_week(t, "monday", 9, BERLIN) < timedelta(minutes=25)
    assert [t.astimezone(BERLIN).strftime("%a %H:%M") for t in fired] == [
        "Mon 09:05", "Mon 09:00", "Mon 09:10", "Mon 09:05"]  # ticks every 25 min from 00:00 UTC


def test_a_clock_down_on_the_day_fires_when_it_comes_back():
    posted_for, back = "2026-W48", utc(2026, 12, 2, 15)  # down from Sunday to Wednesday afternoon
    assert iso_week(back, BERLIN) == "2026-W49" != posted_for and is_due(back, "monday", 9, BERLIN)


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, TOKYO, UTC_ZONE])
def test_every_weekday_and_hour_around_the_changes_is_in_the_week_at_that_local_time(tz):
    for start in (date(2026, 3, 2), date(2026, 10, 19), date(2026, 12, 21)):
        for day in range(21):
            now = datetime.combine(start + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)
            for weekday in WEEKDAYS:
                for hour in range(24):
                    local = due_this_week(now, weekday, hour, tz).astimezone(tz)
                    assert iso_week(local, tz) == iso_week(now, tz)
                    assert local.strftime("%A").lower() == weekday
                    assert local.hour == hour or (local.hour == hour + 1 and local.minute == 0)  # only a gap moves


def test_mixed_case_weekdays_and_bad_input():
    assert due_this_week(utc(2026, 12, 2), " Monday ", 9, UTC_ZONE) == utc(2026, 11, 30, 9)
    with pytest.raises(ValueError, match="unknown weekday"):
        due_this_week(utc(2026, 12, 2), "mon", 9, UTC_ZONE)
    with pytest.raises(ValueError, match="hour"):
        due_this_week(utc(2026, 12, 2), "monday", 24, UTC_ZONE)
    with pytest.raises(ValueError, match="naive"):
        is_due(datetime(2026, 12, 2), "monday", 9, UTC_ZONE)
    with pytest.raises(ValueError, match="naive"):
        iso_week(datetime(2026, 12, 2), UTC_ZONE)
