"""Salesforce cron expressions (``System.schedule``): parse and find the next fire time.

Format: ``Seconds Minutes Hours Day_of_month Month Day_of_week [Year]``, e.g.
``0 0 * * * ?`` (hourly) or ``0 30 2 ? * MON-FRI``. Supported in each field: numbers,
``*``, ``?`` (day fields), lists ``a,b``, ranges ``a-b``, increments ``a/n`` and
``*/n``, month names ``JAN`` to ``DEC`` and day names ``SUN`` to ``SAT`` (1 = Sunday). The
special characters ``L``, ``W`` and ``#`` are refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sf_sim.exceptions import SfSimError

__all__ = ["CronError", "CronExpression"]

_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {name: i + 1 for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2099))


class CronError(SfSimError):
    """A cron expression the platform would refuse (``System.StringException``)."""


def _value(text: str, names: dict[str, int], low: int, high: int, expression: str) -> int:
    token = text.upper()
    number = names.get(token) if token in names else (int(token) if token.isdigit() else None)
    if number is None or not low <= number <= high:
        raise CronError(f"Invalid cron expression '{expression}': unexpected value {text!r}")
    return number


def _field(text: str, index: int, expression: str) -> frozenset[int] | None:
    """The allowed values of one field; None means "any" (``*`` or ``?``)."""
    low, high = _RANGES[index]
    names = _MONTHS if index == 4 else _DAYS if index == 5 else {}
    if text in ("*", "?"):
        if text == "?" and index not in (3, 5):
            raise CronError(f"Invalid cron expression '{expression}': '?' is only for day fields")
        return None
    if any(char in text.upper() for char in "LW#") and not any(
        name in text.upper() for name in (*_MONTHS, *_DAYS)
    ):
        raise CronError(
            f"Invalid cron expression '{expression}': L, W and # are not supported by the simulator"
        )
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"Invalid cron expression '{expression}': bad increment {part!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = (
                _value(first, names, low, high, expression),
                _value(last, names, low, high, expression),
            )
        else:
            start = _value(base, names, low, high, expression)
            end = high if step else start
        if start > end:
            raise CronError(
                f"Invalid cron expression '{expression}': range {part!r} runs backwards"
            )
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


@dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression."""

    text: str
    seconds: frozenset[int] | None
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None
    years: frozenset[int] | None

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        """Parse an expression.

        Raises:
            CronError: For a malformed expression.
        """
        parts = text.split() if isinstance(text, str) else []
        if len(parts) not in (6, 7):
            raise CronError(f"Invalid cron expression '{text}': expected 6 or 7 fields")
        if (parts[3] == "?") == (parts[5] == "?"):
            raise CronError(
                f"Invalid cron expression '{text}': exactly one of day-of-month and day-of-week must be '?'"
            )
        fields = [_field(part, index, text) for index, part in enumerate(parts)]
        if len(fields) == 6:
            fields.append(None)
        return cls(text, *fields)

    def next_after(self, instant: datetime, zone: str = "GMT") -> datetime | None:
        """The first fire time strictly after ``instant`` (aware), in UTC; None if none within 5 years."""
        tz = ZoneInfo(zone)
        local = instant.astimezone(tz).replace(microsecond=0) + timedelta(seconds=1)
        day = local.date()
        for _ in range(366 * 5):
            if self._day_ok(day.year, day.month, day.day, day.isoweekday() % 7 + 1):
                first = day == local.date()
                for hour in sorted(self.hours or range(24)):
                    if first and hour < local.hour:
                        continue
                    for minute in sorted(self.minutes or range(60)):
                        if first and hour == local.hour and minute < local.minute:
                            continue
                        for second in sorted(self.seconds or range(60)):
                            candidate = datetime(
                                day.year, day.month, day.day, hour, minute, second, tzinfo=tz
                            )
                            if candidate >= local:
                                return candidate.astimezone(ZoneInfo("UTC"))
            day += timedelta(days=1)
        return None

    def _day_ok(self, year: int, month: int, day: int, weekday: int) -> bool:
        return (
            (self.years is None or year in self.years)
            and (self.months is None or month in self.months)
            and (self.days is None or day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )
