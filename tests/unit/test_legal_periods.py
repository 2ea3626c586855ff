"""Periods as Korean law counts them (민법 제157조–제161조; sme_schemas.periods), at their boundaries: the day before,
the day, the day after; month ends and 2024-02-29; a Friday before a Monday holiday; 설날 and 추석 with their
substitute days; a program's own closures. The rules that use them (E6, P3, M1, supplement deadlines) have their
own tables beside their rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from sme_schemas.periods import (
    KST, WorkingCalendar, earliest_within, end_of_day, korean_day, korean_time, last_day_of_period, local_date,
    months_after,
)

CAL = WorkingCalendar()


@pytest.mark.parametrize("day, name", [
    (date(2024, 2, 9), "설날 전날"), (date(2024, 2, 10), "설날"), (date(2024, 2, 11), "설날 다음날"),
    (date(2024, 2, 12), "설날 대체 휴일"),  # 설날 on a Saturday: the Monday after is a substitute holiday
    (date(2024, 9, 16), "추석 전날"), (date(2024, 9, 17), "추석"), (date(2024, 9, 18), "추석 다음날"),
    (date(2025, 10, 8), "추석 대체 휴일"),  # 추석 2025 on 10-5..10-7, 10-5 a Sunday
    (date(2024, 5, 6), "어린이날 대체 휴일"), (date(2024, 4, 10), "국회의원 선거일"),
    (date(2024, 12, 25), "기독탄신일"), (date(2024, 3, 1), "삼일절"),
])
def test_public_holidays_including_lunar_and_substitute_days_are_not_working_days(day, name):
    assert not CAL.is_working_day(day)
    assert CAL.holiday_name(day) == name


@pytest.mark.parametrize("day, working", [
    (date(2024, 2, 8), True), (date(2024, 2, 13), True),  # around 설날
    (date(2024, 9, 13), True), (date(2024, 9, 19), True),  # around 추석
    (date(2024, 2, 29), True),  # the leap day, a Thursday
    (date(2024, 3, 2), False), (date(2024, 3, 3), False),  # a weekend
    (date(2024, 3, 4), True),
])
def test_working_days_around_them(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize("last_day, ends_on", [
    (date(2024, 5, 3), date(2024, 5, 3)),  # a Friday: itself
    (date(2024, 5, 4), date(2024, 5, 7)),  # Sat, Sun 어린이날, Mon its substitute: Tuesday
    (date(2024, 2, 9), date(2024, 2, 13)),  # 설날 전날 (Fri) through the substitute Monday
    (date(2024, 9, 14), date(2024, 9, 19)),  # Sat before 추석: five days on
    (date(2024, 2, 29), date(2024, 2, 29)),
    (date(2024, 3, 1), date(2024, 3, 4)),  # 삼일절 on a Friday before a weekend
])
def test_a_last_day_on_a_weekend_or_holiday_ends_on_the_next_working_day(last_day, ends_on):
    assert CAL.on_or_after(last_day) == ends_on


@pytest.mark.parametrize("event_day, period, last_day", [
    (date(2024, 4, 2), {"days": 7}, date(2024, 4, 9)),  # 제157조: the event's own day is not counted
    (date(2024, 4, 2), {"days": 1}, date(2024, 4, 3)),
    (date(2024, 2, 22), {"days": 7}, date(2024, 2, 29)),
    (date(2024, 1, 31), {"months": 1}, date(2024, 2, 29)),  # 제160조 ③: no 31 Feb, the month's last day
    (date(2023, 1, 31), {"months": 1}, date(2023, 2, 28)),
    (date(2024, 1, 30), {"months": 1}, date(2024, 2, 29)),
    (date(2023, 4, 2), {"years": 1}, date(2024, 4, 2)),  # 366 days across the leap day: still a year
    (date(2024, 2, 29), {"years": 1}, date(2025, 2, 28)),
    (date(2024, 8, 31), {"months": 6}, date(2025, 2, 28)),
])
def test_the_last_day_of_a_period_counted_by_the_calendar(event_day, period, last_day):
    assert last_day_of_period(event_day, **period) == last_day


@pytest.mark.parametrize("reference, period, earliest", [
    (date(2024, 4, 2), {"years": 1}, date(2023, 4, 2)),
    (date(2024, 2, 29), {"years": 1}, date(2023, 2, 28)),
    (date(2024, 3, 31), {"months": 1}, date(2024, 2, 29)),
    (date(2024, 4, 2), {"days": 90}, date(2024, 1, 3)),
])
def test_the_first_day_within_a_period_before(reference, period, earliest):
    assert earliest_within(reference, **period) == earliest


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(-240, 240))
def test_months_after_lands_in_the_right_month_on_the_same_day_or_its_last(start, months):
    due = months_after(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day == start.day or due.day < start.day and (due + timedelta(days=1)).day == 1


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(1, 120))
def test_within_and_after_are_each_others_bounds(day, months):
    # a document issued on the earliest day within `months` before `day` is, counted forward, exactly that old
    earliest = earliest_within(day, months=months)
    assert last_day_of_period(earliest, months=months) <= day
    assert last_day_of_period(earliest - timedelta(days=1), months=months) < day


@given(st.dates(date(2020, 1, 1), date(2035, 12, 31)), st.integers(1, 60))
def test_the_due_date_is_the_first_working_day_on_or_after_the_last_day(event_day, days):
    last = last_day_of_period(event_day, days=days)
    due = CAL.due_date(event_day, days=days)
    assert due >= last and CAL.is_working_day(due)
    assert all(not CAL.is_working_day(last + timedelta(days=n)) for n in range((due - last).days))


@given(st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31), timezones=st.just(timezone.utc)),
       st.integers(1, 30))
def test_a_deadline_is_the_end_of_a_korean_working_day_after_the_event(event_at, days):
    deadline = CAL.deadline(event_at, days=days)
    last = deadline.astimezone(KST)
    assert (last + timedelta(microseconds=1)).time() == datetime.min.time()  # 24:00 KST
    assert CAL.is_working_day(last.date()) and last.date() >= local_date(event_at) + timedelta(days=days)
    assert korean_time(deadline).endswith("24:00 KST")


def test_end_of_day_is_the_last_instant_of_the_korean_day():
    end = end_of_day(date(2024, 4, 9))
    assert end == datetime(2024, 4, 9, 14, 59, 59, 999999, tzinfo=timezone.utc)
    assert local_date(end) == date(2024, 4, 9) and local_date(end + timedelta(microseconds=1)) == date(2024, 4, 10)


def test_a_closure_from_the_program_file_is_no_working_day():
    closed = WorkingCalendar(frozenset({date(2024, 5, 3)}))
    assert closed.holiday_name(date(2024, 5, 3)) == "기관 휴무일"
    assert closed.on_or_after(date(2024, 5, 3)) == date(2024, 5, 7)


def test_people_read_dates_with_their_weekday():
    assert korean_day(date(2024, 12, 26)) == "2024-12-26(목)"
    assert korean_time(datetime(2024, 4, 2, 6, 0, tzinfo=timezone.utc)) == "2024-04-02(화) 15:00 KST"
