"""Business calendars: opening hours per weekday in one time zone, minus holidays.

An SLA clock counts only the time its calendar is open. `business_seconds(start, end)`
measures that time between two instants, and `add(start, seconds)` finds the instant at
which a given amount of it has passed, which is how a deadline is computed.

Opening hours are local wall-clock times, converted to UTC day by day with `zoneinfo`.
A day on which daylight saving time starts or ends is therefore one hour shorter or longer
when the calendar is open across the change, as 24/7 is and 8/5 and 12/5 are not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "PRESET_HOURS",
    "WEEKDAYS",
    "BusinessCalendar",
    "OpeningHours",
    "parse_time_range",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Open intervals of one day, in minutes after local midnight; 1440 is the next midnight.
OpeningHours = tuple[tuple[int, int], ...]

_DAY_MINUTES = 24 * 60
_WHOLE_DAY: OpeningHours = ((0, _DAY_MINUTES),)
_CLOSED: OpeningHours = ()

#: Built-in weekly schedules: round the clock, 08:00-20:00 and 09:00-17:00 on Monday-Friday.
PRESET_HOURS: dict[str, tuple[OpeningHours, ...]] = {
    "24/7": (_WHOLE_DAY,) * 7,
    "12/5": (((8 * 60, 20 * 60),),) * 5 + (_CLOSED,) * 2,
    "8/5": (((9 * 60, 17 * 60),),) * 5 + (_CLOSED,) * 2,
}

#: A deadline search gives up after this many days without finding enough open time.
_MAX_SEARCH_DAYS = 3 * 366


def parse_time_range(text: str) -> tuple[int, int]:
    """Parse `HH:MM-HH:MM` into minutes after midnight; `24:00` is allowed as the end.

    Raises ValueError naming the expected form when the text is invalid or the range is empty.
    """
    start_text, separator, end_text = text.strip().partition("-")
    if not separator:
        msg = f"invalid opening hours {text!r}; write them as HH:MM-HH:MM, such as 09:00-17:00"
        raise ValueError(msg)
    start, end = _minutes(start_text), _minutes(end_text)
    if start >= end:
        msg = f"invalid opening hours {text!r}; the start must be before the end"
        raise ValueError(msg)
    return start, end


def _minutes(text: str) -> int:
    hours, separator, minutes = text.strip().partition(":")
    if not separator or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        msg = f"invalid time {text.strip()!r}; write it as HH:MM, such as 09:00"
        raise ValueError(msg)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > _DAY_MINUTES:
        msg = f"invalid time {text.strip()!r}; use 00:00 to 24:00"
        raise ValueError(msg)
    return value


@dataclass(frozen=True)
class BusinessCalendar:
    """When the support team works: weekly opening hours in `zone`, closed on `holidays`.

    `week` has seven entries, Monday first. Each entry lists the day's open intervals in
    minutes after local midnight, sorted and not overlapping.
    """

    name: str
    zone: ZoneInfo
    week: tuple[OpeningHours, ...]
    holidays: frozenset[date] = frozenset()

    @classmethod
    def preset(
        cls,
        preset: str,
        zone: str = "UTC",
        holidays: Sequence[date] = (),
        *,
        name: str | None = None,
    ) -> BusinessCalendar:
        """Build a calendar from a built-in schedule: `24/7`, `12/5` or `8/5`."""
        if preset not in PRESET_HOURS:
            msg = f"unknown calendar preset {preset!r}; use one of {', '.join(PRESET_HOURS)}"
            raise ValueError(msg)
        return cls(name or preset, ZoneInfo(zone), PRESET_HOURS[preset], frozenset(holidays))

    @classmethod
    def weekly(
        cls,
        name: str,
        hours: Mapping[str, Sequence[str]],
        zone: str = "UTC",
        holidays: Sequence[date] = (),
    ) -> BusinessCalendar:
        """Build a calendar from `{"mon": ["09:00-12:00", "13:00-17:00"], ...}`; unlisted days are closed."""
        unknown = sorted(set(hours) - set(WEEKDAYS))
        if unknown:
            msg = f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}"
            raise ValueError(msg)
        week = tuple(_day_hours(hours.get(day, ())) for day in WEEKDAYS)
        return cls(name, ZoneInfo(zone), week, frozenset(holidays))

    @property
    def always_open(self) -> bool:
        """Whether every instant is business time (24/7 without holidays)."""
        return not self.holidays and all(day == _WHOLE_DAY for day in self.week)

    def is_open(self, instant: datetime) -> bool:
        """Tell whether `instant` (aware) falls in business hours."""
        return any(start <= instant < end for start, end in self._day_intervals(instant))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Return the business time between two aware instants, in seconds (0 if end <= start)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()

        total = 0.0
        for open_start, open_end in self.intervals(start, end):
            total += (open_end - open_start).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """Return the instant at which `seconds` of business time have passed since `start`.

        With `seconds` at 0 the result is `start`, even outside business hours. Raises
        ValueError when the calendar has no open time in the next three years.
        """
        if seconds <= 0:
            return start
        if self.always_open:
            return start + timedelta(seconds=seconds)

        remaining = seconds
        day = start.astimezone(self.zone).date()
        for _ in range(_MAX_SEARCH_DAYS):
            for open_start, open_end in self._intervals_of(day):
                begin = max(open_start, start)
                if open_end <= begin:
                    continue
                available = (open_end - begin).total_seconds()
                if remaining <= available:
                    return begin + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
        msg = f"calendar {self.name!r} has no open time in the {_MAX_SEARCH_DAYS} days after {start.isoformat()}"
        raise ValueError(msg)

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield the open intervals between `start` and `end`, clipped to them, in UTC."""
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for open_start, open_end in self._intervals_of(day):
                begin, finish = max(open_start, start), min(open_end, end)
                if begin < finish:
                    yield begin, finish
            day += timedelta(days=1)

    def _day_intervals(self, instant: datetime) -> list[tuple[datetime, datetime]]:
        return self._intervals_of(instant.astimezone(self.zone).date())

    def _intervals_of(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the open intervals of one local day, in UTC."""
        if day in self.holidays:
            return []
        return [
            (self._instant(day, start), self._instant(day, end))
            for start, end in self.week[day.weekday()]
        ]

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes >= _DAY_MINUTES:
            day, minutes = day + timedelta(days=1), minutes - _DAY_MINUTES
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC)


def _day_hours(ranges: Sequence[str]) -> OpeningHours:
    parsed = sorted(parse_time_range(text) for text in ranges)
    for (_, end), (start, _) in pairwise(parsed):
        if start < end:
            msg = f"opening hours {', '.join(ranges)} overlap; list each hour once"
            raise ValueError(msg)
    return tuple(parsed)
