"""Business-hours SLA calendar: parsing, adding business minutes, time zones, holidays."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from core.business_hours import BusinessHours, BusinessHoursError, Window, parse_windows
from core.settings import Settings

OFFICE = BusinessHours.parse("mon-fri 09:00-17:00")


def test_parse_days_ranges_lists_and_several_windows():
    table = parse_windows("mon-fri 08:00-12:00; MON-FRI 13:00-17:30; sat,sun 10:00-24:00")
    assert table[0] == table[4] == (Window(480, 720), Window(780, 1050))
    assert table[5] == table[6] == (Window(600, 1440),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no opening window"),
        ("weekdays 09:00-17:00", "not a day"),
        ("fri-mon 09:00-17:00", "runs backwards"),
        ("mon 17:00-09:00", "cannot cross midnight"),
        ("mon 09:00-25:00", "not a time of day"),
        ("mon 24:00-24:00", "not a time of day"),
        ("mon 9-17", "is not 'DAYS HH:MM-HH:MM'"),
        ("mon 09:00-13:00; mon 12:00-17:00", "overlap on mon"),
    ],
)
def test_bad_calendars_say_why(text, message):
    with pytest.raises(BusinessHoursError, match=message):
        BusinessHours.parse(text)


def test_unknown_zone_and_bad_holiday():
    with pytest.raises(BusinessHoursError, match="unknown time zone"):
        BusinessHours.parse("mon 09:00-17:00", "Mars/Olympus")
    with pytest.raises(BusinessHoursError, match="not a date"):
        BusinessHours.parse("mon 09:00-17:00", holidays="next friday")


# 2026-11-27 is a Friday.
@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (datetime(2026, 11, 27, 10, 0), 60, datetime(2026, 11, 27, 11, 0)),  # inside hours
        (datetime(2026, 11, 27, 16, 30), 60, datetime(2026, 11, 30, 9, 30)),  # over the weekend
        (datetime(2026, 11, 27, 17, 0), 60, datetime(2026, 11, 30, 10, 0)),  # at closing
        (datetime(2026, 11, 28, 3, 0), 30, datetime(2026, 11, 30, 9, 30)),  # Saturday night
        (datetime(2026, 11, 30, 7, 0), 0, datetime(2026, 11, 30, 9, 0)),  # due at opening
        (datetime(2026, 11, 30, 9, 0), 3 * 480, datetime(2026, 12, 2, 17, 0)),  # three days
    ],
)
def test_add_counts_only_business_minutes(start, minutes, due):
    assert OFFICE.add(start, minutes) == due


def test_lunch_breaks_and_holidays_stop_the_clock():
    split = BusinessHours.parse(
        "mon-fri 08:00-12:00; mon-fri 13:00-17:00", holidays="2026-12-24, 2026-12-25"
    )
    assert split.add(datetime(2026, 11, 30, 11, 30), 60) == datetime(2026, 11, 30, 13, 30)
    # Wednesday 23 December 16:00 + 2 h: Thursday and Friday are holidays, Monday 28th it is.
    assert split.add(datetime(2026, 12, 23, 16, 0), 120) == datetime(2026, 12, 28, 9, 0)
    assert split.holidays == {date(2026, 12, 24), date(2026, 12, 25)}


def test_local_hours_follow_daylight_saving_in_utc():
    berlin = BusinessHours.parse("mon-fri 09:00-17:00", "Europe/Berlin")
    # Winter (UTC+1): 09:00 Berlin is 08:00 UTC; summer (UTC+2): 07:00 UTC.
    assert berlin.add(datetime(2026, 11, 30, 5, 0), 30) == datetime(2026, 11, 30, 8, 30)
    assert berlin.add(datetime(2026, 6, 1, 5, 0), 30) == datetime(2026, 6, 1, 7, 30)
    # Friday 27 March 2026 16:00 UTC (17:00 CET, closed) + 60 min: the clocks go forward on
    # Sunday 29th, so Monday opens at 07:00 UTC.
    assert berlin.add(datetime(2026, 3, 27, 16, 0), 60) == datetime(2026, 3, 30, 8, 0)


def test_a_calendar_that_never_opens_is_an_error():
    weekends_only = BusinessHours.parse(
        "sun 10:00-11:00", holidays=",".join(f"2027-01-{d:02d}" for d in (3, 10, 17, 24, 31))
    )
    assert weekends_only.add(datetime(2027, 1, 1), 30) == datetime(2027, 2, 7, 10, 30)
    with pytest.raises(BusinessHoursError):
        BusinessHours({0: ()})


def test_settings_check_the_calendar_at_start_up(tmp_path):
    def settings(**kw):
        return Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", _env_file=None, **kw)

    assert settings().business_calendar() is None
    calendar = settings(business_hours="mon-fri 09:00-17:00", business_timezone="Europe/Paris")
    assert calendar.business_calendar() is not None
    with pytest.raises(ValidationError, match="cannot cross midnight"):
        settings(business_hours="mon 22:00-06:00")
    with pytest.raises(ValidationError, match="needs SOCIALCRM_BUSINESS_HOURS"):
        settings(business_holidays="2026-12-25")
