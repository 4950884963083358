"""Business calendars: open intervals, business time between instants, and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tierbridge.core.sla.calendar import BusinessCalendar, parse_time_range

BRUSSELS = ZoneInfo("Europe/Brussels")
#: Friday 4 January 2030; Monday 7 January is a holiday in these tests.
FRIDAY = date(2030, 1, 4)
HOLIDAY = date(2030, 1, 7)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS)


def office() -> BusinessCalendar:
    return BusinessCalendar.preset("8/5", "Europe/Brussels", [HOLIDAY], name="office")


class TestPresets:
    def test_always_open(self) -> None:
        """24/7 without holidays counts wall-clock time."""
        calendar = BusinessCalendar.preset("24/7")
        start = datetime(2030, 1, 4, 22, 0, tzinfo=UTC)

        assert calendar.always_open
        assert calendar.business_seconds(start, start + timedelta(days=3)) == 3 * 86400
        assert calendar.add(start, 3600) == start + timedelta(hours=1)

    def test_eight_five_hours(self) -> None:
        """8/5 is open 09:00-17:00 local time, Monday to Friday."""
        calendar = office()

        assert calendar.is_open(local(FRIDAY, 9))
        assert calendar.is_open(local(FRIDAY, 16, 59))
        assert not calendar.is_open(local(FRIDAY, 17))
        assert not calendar.is_open(local(FRIDAY, 8, 59))
        assert not calendar.is_open(local(date(2030, 1, 5), 12))

    def test_twelve_five_hours(self) -> None:
        """12/5 is open 08:00-20:00 local time, Monday to Friday."""
        calendar = BusinessCalendar.preset("12/5", "Europe/Brussels")
        day = local(FRIDAY, 0)

        assert calendar.business_seconds(day, day + timedelta(days=1)) == 12 * 3600

    def test_unknown_preset(self) -> None:
        """An unknown preset name raises ValueError listing the presets."""
        with pytest.raises(ValueError, match="24/7, 12/5, 8/5"):
            BusinessCalendar.preset("9/6")


class TestBusinessSeconds:
    def test_across_weekend_and_holiday(self) -> None:
        """Friday 16:00 to Tuesday 12:00 is 1 h on Friday plus 3 h on Tuesday."""
        seconds = office().business_seconds(local(FRIDAY, 16), local(date(2030, 1, 8), 12))

        assert seconds == 4 * 3600

    def test_reversed_interval(self) -> None:
        """An end before the start counts nothing."""
        assert office().business_seconds(local(FRIDAY, 12), local(FRIDAY, 10)) == 0.0

    def test_outside_hours_only(self) -> None:
        """An interval that lies outside the opening hours counts nothing."""
        assert office().business_seconds(local(FRIDAY, 18), local(FRIDAY, 23)) == 0.0


class TestAdd:
    def test_deadline_skips_weekend_and_holiday(self) -> None:
        """4 business hours from Friday 16:00 end on Tuesday 12:00."""
        deadline = office().add(local(FRIDAY, 16), 4 * 3600)

        assert deadline == local(date(2030, 1, 8), 12)

    def test_start_before_opening(self) -> None:
        """Time added before opening starts counting at 09:00."""
        assert office().add(local(FRIDAY, 6), 1800) == local(FRIDAY, 9, 30)

    def test_exact_end_of_day(self) -> None:
        """A deadline that uses up the day ends at closing time, not the next morning."""
        assert office().add(local(FRIDAY, 9), 8 * 3600) == local(FRIDAY, 17)

    def test_zero_is_start(self) -> None:
        """Adding nothing returns the start, even outside business hours."""
        start = local(FRIDAY, 22)

        assert office().add(start, 0) == start

    def test_add_inverts_business_seconds(self) -> None:
        """The business time up to a computed deadline is the time that was added."""
        calendar = office()
        start = local(FRIDAY, 11, 17)

        for hours in (0.5, 3, 7.25, 20, 41):
            deadline = calendar.add(start, hours * 3600)
            assert calendar.business_seconds(start, deadline) == pytest.approx(hours * 3600)

    def test_never_open_raises(self) -> None:
        """A calendar without opening hours raises instead of searching forever."""
        closed = BusinessCalendar.weekly("closed", {}, "UTC")

        with pytest.raises(ValueError, match="no open time"):
            closed.add(datetime(2030, 1, 1, tzinfo=UTC), 60)


class TestDaylightSaving:
    def test_round_the_clock_day_of_change(self) -> None:
        """A 24/7 Brussels day on which clocks go forward has 23 hours."""
        calendar = BusinessCalendar.weekly(
            "brussels", {d: ["00:00-24:00"] for d in ("sun",)}, "Europe/Brussels"
        )
        start = local(date(2030, 3, 31), 0)

        assert calendar.business_seconds(start, start + timedelta(days=2)) == 23 * 3600

    def test_office_hours_keep_length(self) -> None:
        """09:00-17:00 stays 8 hours on the Friday before the change."""
        calendar = office()
        day = local(date(2030, 3, 29), 0)

        assert calendar.business_seconds(day, day + timedelta(days=1)) == 8 * 3600


class TestWeekly:
    def test_split_day(self) -> None:
        """A day with a lunch break counts both intervals."""
        calendar = BusinessCalendar.weekly("split", {"fri": ["09:00-12:00", "13:00-17:00"]}, "UTC")
        day = datetime(2030, 1, 4, tzinfo=UTC)

        assert calendar.business_seconds(day, day + timedelta(days=1)) == 7 * 3600
        assert calendar.add(day, 4 * 3600) == day.replace(hour=14)

    def test_overlap_rejected(self) -> None:
        """Overlapping intervals on one day raise ValueError."""
        with pytest.raises(ValueError, match="overlap"):
            BusinessCalendar.weekly("bad", {"mon": ["09:00-12:00", "11:00-13:00"]})

    def test_unknown_weekday(self) -> None:
        """A weekday name outside mon..sun raises ValueError."""
        with pytest.raises(ValueError, match="unknown weekday 'monday'"):
            BusinessCalendar.weekly("bad", {"monday": ["09:00-12:00"]})

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("9-17", "HH:MM"),
            ("09:00", "HH:MM-HH:MM"),
            ("17:00-09:00", "start must be before the end"),
            ("09:00-24:30", "00:00 to 24:00"),
            ("09:75-10:00", "00:00 to 24:00"),
        ],
    )
    def test_invalid_ranges(self, text: str, message: str) -> None:
        """Malformed or empty ranges raise ValueError with the expected form."""
        with pytest.raises(ValueError, match=message):
            parse_time_range(text)

    def test_midnight_end(self) -> None:
        """24:00 is accepted as the end of a range."""
        assert parse_time_range("18:00-24:00") == (18 * 60, 24 * 60)
