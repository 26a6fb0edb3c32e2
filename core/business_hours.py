"""Business hours: SLA clocks that run only while the social team is at work.

A calendar is written as `DAYS HH:MM-HH:MM` rules separated by `;`, e.g.
`mon-fri 09:00-17:30; sat 10:00-14:00`, read in an IANA time zone (`Europe/Berlin`), with
optional holidays (`2026-12-25,2026-12-26`) on which nothing counts. DAYS is a day (`mon`), a
range (`mon-fri`) or a comma list (`mon,wed,fri`); a day may have several windows
(`mon-fri 08:00-12:00; mon-fri 13:00-17:00`) and a window may end at `24:00`. Windows of a day
must not overlap, and a window never crosses midnight (write two).

`add(start, minutes)` is the moment `minutes` of business time after `start`: a complaint that
arrives on Friday at 17:00 with a 60-minute SLA is due on Monday at 10:00. Times in and out are
naive UTC, like every timestamp in the database; the arithmetic is done in UTC between window
edges converted from local time, so a daylight-saving change moves the edges, not the minutes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(
    r"^\s*(?P<days>[a-z,\-\s]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
# A calendar with a window somewhere always finds one within a year and a week, unless holidays
# cover them all: past this, the calendar is unusable and says so.
MAX_DAYS_SEARCHED = 373


class BusinessHoursError(ValueError):
    """A calendar that cannot be read or never opens."""


@dataclass(frozen=True)
class Window:
    """One opening on a weekday, as minutes since local midnight: [start, end)."""

    start: int
    end: int


def _minutes(text: str, *, allow_24: bool) -> int:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and (m or not allow_24)):
        raise BusinessHoursError(f"{text!r} is not a time of day (00:00-23:59, or 24:00 to end)")
    return h * 60 + m


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, sep, last = part.partition("-")
        first, last = first.strip(), last.strip()
        if first not in DAYS or (sep and last not in DAYS):
            raise BusinessHoursError(f"{part!r} is not a day or day range ({', '.join(DAYS)})")
        a = DAYS.index(first)
        b = DAYS.index(last) if sep else a
        if b < a:
            raise BusinessHoursError(f"day range {part!r} runs backwards (write mon-fri)")
        out.extend(range(a, b + 1))
    return out


def parse_windows(text: str) -> dict[int, tuple[Window, ...]]:
    """Weekday (0 = Monday) → its sorted windows, from `DAYS HH:MM-HH:MM; ...`."""
    table: dict[int, list[Window]] = {d: [] for d in range(7)}
    for rule in (r for r in text.lower().split(";") if r.strip()):
        found = _RULE.match(rule)
        if found is None:
            raise BusinessHoursError(
                f"{rule.strip()!r} is not 'DAYS HH:MM-HH:MM' (mon-fri 09:00-17:00)"
            )
        start = _minutes(found["start"], allow_24=False)
        end = _minutes(found["end"], allow_24=True)
        if end <= start:
            raise BusinessHoursError(
                f"{rule.strip()!r} ends before it starts (a window cannot cross midnight)"
            )
        for day in _days(found["days"]):
            table[day].append(Window(start, end))
    out: dict[int, tuple[Window, ...]] = {}
    for day, windows in table.items():
        ordered = sorted(windows, key=lambda w: w.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise BusinessHoursError(f"two windows overlap on {DAYS[day]}")
        out[day] = tuple(ordered)
    return out


def parse_holidays(text: str) -> frozenset[date]:
    """ISO dates separated by commas."""
    out = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.add(date.fromisoformat(part))
        except ValueError:
            raise BusinessHoursError(f"holiday {part!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(out)


class BusinessHours:
    """A weekly calendar in one time zone, with holidays."""

    def __init__(
        self,
        windows: Mapping[int, Sequence[Window]],
        zone: str = "UTC",
        holidays: Iterable[date] = (),
    ) -> None:
        try:
            self.zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BusinessHoursError(f"unknown time zone {zone!r} (an IANA name)") from None
        self.windows = {d: tuple(windows.get(d, ())) for d in range(7)}
        self.holidays = frozenset(holidays)
        if not any(self.windows.values()):
            raise BusinessHoursError("business hours name no opening window")

    @classmethod
    def parse(cls, text: str, zone: str = "UTC", holidays: str = "") -> BusinessHours:
        """A calendar from its settings strings."""
        return cls(parse_windows(text), zone, parse_holidays(holidays))

    def _edges(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's windows as naive UTC [open, close) pairs."""
        if day in self.holidays:
            return []
        return [
            (self._utc(day, w.start), self._utc(day, w.end)) for w in self.windows[day.weekday()]
        ]

    def _utc(self, day: date, minutes: int) -> datetime:
        """Local wall-clock `minutes` after the day's midnight (1440: the next midnight), in UTC."""
        day, minutes = (day + timedelta(days=1), 0) if minutes >= 24 * 60 else (day, minutes)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of business time after `start` (naive UTC in and out)."""
        remaining = timedelta(minutes=minutes)
        local_day = start.replace(tzinfo=UTC).astimezone(self.zone).date()
        for offset in range(MAX_DAYS_SEARCHED):
            for opens, closes in self._edges(local_day + timedelta(days=offset)):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
        raise BusinessHoursError("business hours never open (are all days holidays?)")
