"""The `calendars:` and `sla:` config sections: durations, calendars, targets."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tierbridge.core.model import Priority, Status, Tier
from tierbridge.core.sla.settings import (
    Calendars,
    CalendarSettings,
    SlaSettings,
    parse_duration,
)


class TestDuration:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [("90s", 90), ("15m", 900), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), (120, 120)],
    )
    def test_valid(self, text: object, seconds: float) -> None:
        """Durations with units, or plain seconds, parse to seconds."""
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("text", ["", "4 hours", "h", "-5m", "0m", True, 0])
    def test_invalid(self, text: object) -> None:
        """Anything but a positive duration raises ValueError naming the expected form."""
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)


class TestCalendars:
    def test_presets_always_there(self) -> None:
        """Without a calendars section the three presets exist, in UTC."""
        calendars = Calendars().build()

        assert set(calendars) == {"24/7", "12/5", "8/5"}
        assert str(calendars["8/5"].zone) == "UTC"

    def test_named_calendar(self) -> None:
        """A configured calendar keeps its zone and holidays."""
        settings = CalendarSettings(
            hours="8/5", timezone="Europe/Brussels", holidays=(date(2030, 1, 7),)
        )

        calendar = Calendars({"office": settings}).build()["office"]

        assert calendar.name == "office"
        assert str(calendar.zone) == "Europe/Brussels"
        assert calendar.holidays == frozenset({date(2030, 1, 7)})

    def test_weekly_hours(self) -> None:
        """Hours given per weekday build that schedule; a single string is one range."""
        settings = CalendarSettings.model_validate({"hours": {"sat": "10:00-14:00"}})

        calendar = settings.build("saturday")

        assert calendar.week[5] == ((600, 840),)
        assert calendar.week[0] == ()

    def test_unknown_zone(self) -> None:
        """An unknown time zone is rejected with an example of a valid one."""
        with pytest.raises(ValidationError, match="Europe/Brussels"):
            CalendarSettings(hours="8/5", timezone="Mars/Olympus")

    def test_bad_hours(self) -> None:
        """A malformed opening-hours range is rejected when the config loads."""
        with pytest.raises(ValidationError, match="HH:MM"):
            CalendarSettings.model_validate({"hours": {"mon": ["9-5"]}})


class TestTargets:
    def test_priority_then_default(self) -> None:
        """A priority without its own target uses the tier's default."""
        sla = SlaSettings.model_validate(
            {
                "targets": {
                    "L1": {
                        "P1": {"response": "15m", "resolution": "4h"},
                        "default": {"resolution": "3d"},
                    }
                }
            }
        )

        assert sla.target_seconds(Tier.L1, Priority.P1, "response") == 900
        assert sla.target_seconds(Tier.L1, Priority.P3, "resolution") == 3 * 86400
        assert sla.target_seconds(Tier.L1, None, "resolution") == 3 * 86400
        assert sla.target_seconds(Tier.L1, Priority.P3, "response") is None
        assert sla.target_seconds(Tier.L2, Priority.P1, "response") is None

    def test_calendar_per_tier(self) -> None:
        """A tier's own calendar wins over the section default."""
        sla = SlaSettings.model_validate(
            {"calendar": "8/5", "targets": {"L2": {"calendar": "24/7"}}}
        )

        assert sla.calendar_of(Tier.L1) == "8/5"
        assert sla.calendar_of(Tier.L2) == "24/7"

    def test_pause_statuses_default(self) -> None:
        """Clocks pause in pending unless the config names other statuses."""
        assert SlaSettings().pause_statuses == (Status.PENDING,)

    def test_unknown_priority_key(self) -> None:
        """A key that is not a priority, calendar or default is rejected."""
        with pytest.raises(ValidationError, match="P6"):
            SlaSettings.model_validate({"targets": {"L1": {"P6": {"response": "1h"}}}})
