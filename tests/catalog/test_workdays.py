"""Working-day arithmetic around 春节 and 国庆 2026, hand-checked against the city's calendar."""
from datetime import date, datetime
from pathlib import Path

import pytest

from matchmaker import city as city_package
from matchmaker.city import load_city
from matchmaker.workdays import add_working_days, is_working_day, response_deadline, working_days_between


@pytest.fixture(scope="module")
def zz():
    """The shipped 枣庄 configuration, without an app: these are pure functions."""
    return load_city(str(Path(city_package.__file__).parent / "zaozhuang.toml"))


D = date.fromisoformat


@pytest.mark.parametrize("day, working", [
    ("2026-02-13", True),   # Friday before 春节
    ("2026-02-14", True),   # Saturday made a working day (调休)
    ("2026-02-15", False),  # Sunday
    ("2026-02-16", False),  # 春节 holiday (Monday)
    ("2026-02-20", False),  # 春节 holiday (Friday)
    ("2026-02-28", True),   # Saturday made a working day
    ("2026-09-20", True),   # Sunday made a working day before 国庆
    ("2026-10-01", False),
    ("2026-10-07", False),
    ("2026-10-08", True),
    ("2026-10-10", True),   # Saturday made a working day
    ("2026-10-11", False),  # an ordinary Sunday
])
def test_is_working_day(zz, day, working):
    assert is_working_day(D(day), zz) is working


@pytest.mark.parametrize("start, n, expected", [
    # 春节: 2-14 (Sat, 调休) counts, 2-15 … 2-22 do not, 2-28 (Sat, 调休) counts.
    ("2026-02-13", 1, "2026-02-14"),
    ("2026-02-13", 2, "2026-02-23"),
    ("2026-02-13", 7, "2026-02-28"),
    ("2026-02-13", 10, "2026-03-04"),
    # A request made on a holiday: its first working day is the first after the holiday.
    ("2026-02-17", 1, "2026-02-23"),
    # 国庆: 9-20 (Sun, 调休) counts, 9-25 and 10-1 … 10-7 do not, 10-10 (Sat, 调休) counts.
    ("2026-09-18", 1, "2026-09-20"),
    ("2026-09-18", 10, "2026-10-09"),
    ("2026-09-18", 11, "2026-10-10"),
    ("2026-09-30", 1, "2026-10-08"),
    ("2026-09-30", 3, "2026-10-10"),
    ("2026-09-24", 1, "2026-09-28"),
    # An ordinary week.
    ("2026-11-20", 5, "2026-11-27"),
    ("2026-11-20", 0, "2026-11-20"),
    # Backwards.
    ("2026-10-08", -1, "2026-09-30"),
    ("2026-02-23", -1, "2026-02-14"),
])
def test_add_working_days(zz, start, n, expected):
    assert add_working_days(D(start), n, zz) == D(expected)
    assert working_days_between(D(start), D(expected), zz) == n


def test_datetime_keeps_its_time_of_day(zz):
    assert add_working_days(datetime(2026, 9, 30, 15, 30), 2, zz) == datetime(2026, 10, 9, 15, 30)


@pytest.mark.parametrize("a, b, expected", [
    ("2026-09-30", "2026-10-07", 0),   # the whole 国庆 holiday
    ("2026-09-30", "2026-10-11", 3),   # 10-8, 10-9, 10-10
    ("2026-02-13", "2026-02-22", 1),   # only the 调休 Saturday
    ("2026-02-01", "2026-02-28", 17),  # 2-2 … 2-28: 20 weekdays − 5 holidays + 2 调休 Saturdays
    ("2026-10-11", "2026-09-30", -3),
    ("2026-05-05", "2026-05-05", 0),
])
def test_working_days_between(zz, a, b, expected):
    assert working_days_between(D(a), D(b), zz) == expected


def test_response_deadline_runs_in_local_days(zz):
    # 2026-09-29 17:00 UTC is 09-30 01:00 in 枣庄: ten working days from 09-30 end on 10-20 (local):
    # 10-8, 10-9, 10-10 (调休), 10-12 … 10-16, 10-19, 10-20.
    deadline = response_deadline(datetime(2026, 9, 29, 17, 0), zz)
    assert add_working_days(D("2026-09-30"), 10, zz) == D("2026-10-20")
    # End of 10-20 local (UTC+8) is 10-20 15:59:59.999999 UTC.
    assert deadline == datetime(2026, 10, 20, 15, 59, 59, 999999)
