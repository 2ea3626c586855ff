"""Periods as Korean law counts them (민법 제155조–제161조), one rule for every clock of a program: supplement
deadlines (E6), document ages (E6), signature, report and payment deadlines (C2, P3), restrictions (C6/X10),
follow-up due dates (M1).

- 제157조: a period counted from an event does not count the event's own day; its first day is the next one.
- 제159조: a period ends at the end (24:00) of its last day — here a Korean day (KST), whatever the server's zone.
- 제160조: weeks, months and years are counted by the calendar, not as 7, 30 or 365 days; a period counted from
  the middle of a month ends the day before the corresponding day of its last month, and where that month has no
  such day, on its last day. With 제157조 the last day is the event's day number in the last month (31 Jan + 1
  month → 28/29 Feb; 2023-04-02 + 1 year → 2024-04-02).
- 제161조: a period whose last day is a Saturday, a Sunday or a public holiday ends on the next working day
  (the public holidays of 「관공서의 공휴일에 관한 규정」: 설날·추석 by the lunar calendar, substitute holidays,
  election days — the maintained `holidays` calendar — and a program's own closures).

Pure: no clock, no I/O; the holiday table is computed, not fetched."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

KST = timezone(timedelta(hours=9))
WEEKDAYS_KO = "월화수목금토일"


def local_date(at: datetime) -> date:
    """The calendar day in Korea of a UTC instant."""
    return at.astimezone(KST).date()


def months_after(day: date, months: int) -> date:
    """제160조: the same day `months` later (or earlier, when negative); the month's last day where it has no such
    day (31 Jan + 1 → 28/29 Feb; 29 Feb 2024 − 12 → 28 Feb 2023)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day_of_period(event_day: date, *, days: int = 0, months: int = 0, years: int = 0) -> date:
    """제157조·제160조: the last day of a period counted from an event on `event_day` (its own day not counted):
    7 days from the 2nd end on the 9th; 1 month from 31 Jan on 28/29 Feb; 1 year from 2023-04-02 on 2024-04-02."""
    return months_after(event_day, months + 12 * years) + timedelta(days=days)


def earliest_within(reference_day: date, *, days: int = 0, months: int = 0, years: int = 0) -> date:
    """The first day still 'within' a period reckoned backwards from `reference_day` (E6 '신청일 기준 1년 이내'):
    by the calendar, so a year before 2024-04-02 is 2023-04-02 (the leap day between does not shorten it) and a
    year before 2024-02-29 is 2023-02-28."""
    return months_after(reference_day, -(months + 12 * years)) - timedelta(days=days)


def end_of_day(day: date) -> datetime:
    """제159조: 24:00 KST of `day` as a UTC instant — the last microsecond of the Korean day, so `at <= end` holds
    for everything filed that day and nothing filed the next."""
    return datetime.combine(day + timedelta(days=1), time.min, KST).astimezone(timezone.utc) - timedelta(microseconds=1)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("KR", years=year, language="ko"))


@dataclass(frozen=True)
class WorkingCalendar:
    """제161조's calendar: Saturdays, Sundays, Korea's public holidays and the program's own closures
    (`closures`: e.g. a city's foundation day or a center's moving day, from the program file) are not working
    days."""

    closures: frozenset[date] = field(default_factory=frozenset)

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is not a working day ('토요일', '추석', '센터 휴무'), or None on a working day."""
        if day in self.closures:
            return "기관 휴무일"
        if (name := _public_holidays(day.year).get(day)) is not None:
            return name
        return f"{WEEKDAYS_KO[day.weekday()]}요일" if day.weekday() >= 5 else None

    def is_working_day(self, day: date) -> bool:
        return self.holiday_name(day) is None

    def on_or_after(self, day: date) -> date:
        """제161조: `day` when it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def due_date(self, event_day: date, *, days: int = 0, months: int = 0, years: int = 0) -> date:
        """The day a period counted from an event on `event_day` ends, moved past weekends and holidays: the
        30 days of P3 from a request received on 2024-09-05 end on 2024-10-07 (10-05 is a Saturday)."""
        return self.on_or_after(last_day_of_period(event_day, days=days, months=months, years=years))

    def deadline(self, event_at: datetime, *, days: int = 0, months: int = 0) -> datetime:
        """The instant a period counted from the instant `event_at` ends: 24:00 KST of its (working) last day —
        a supplement of 7 days requested at 2024-04-02 15:00 KST ends 2024-04-09 24:00 KST, not at 15:00."""
        return end_of_day(self.due_date(local_date(event_at), days=days, months=months))


def korean_day(day: date) -> str:
    """'2024-10-07(월)': a date as a letter to a company shows it."""
    return f"{day:%Y-%m-%d}({WEEKDAYS_KO[day.weekday()]})"


def korean_time(at: datetime) -> str:
    """'2024-04-09(화) 24:00 KST' for the end of a Korean day, else '2024-04-09(화) 15:00 KST'."""
    local = at.astimezone(KST)
    if local.time() == time.max.replace(microsecond=999999):
        return f"{korean_day(local.date())} 24:00 KST"
    return f"{korean_day(local.date())} {local:%H:%M} KST"
