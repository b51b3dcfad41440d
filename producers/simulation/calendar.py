"""Months, working days and the partners' monthly reporting rhythm (pure, clock injected)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from itertools import accumulate

#: Almaty time (UTC+6 all year since Kazakhstan dropped daylight saving in 2005).
ALMATY = timezone(timedelta(hours=6))
#: An activity is four times likelier on a weekday than on a Saturday or Sunday.
WEEKEND_WEIGHT = 0.25
#: Days after the month's end that a punctual partner reports (a few), and a habitually late one.
PUNCTUAL_DELAY = (1, 7)
LATE_DELAY = (14, 42)
#: Share of partners that habitually report late (at least one when there are two or more).
LATE_PARTNER_SHARE = 0.2
#: Seconds between two events of one monthly report: the partner's system exports them in a row.
EXPORT_STEP = 3


def parse_month(month: str) -> date:
    """The first day of ``YYYY-MM``; ``ValueError`` when it is not such a month."""
    year, _, number = month.partition("-")
    if len(year) != 4 or len(number) != 2 or not (year + number).isdigit():
        raise ValueError(f"{month!r} is not a month written YYYY-MM")
    return date(int(year), int(number), 1)


def next_month(first: date) -> date:
    """The first day of the month after the one starting on ``first``."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def months_between(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM``."""
    first, last = parse_month(start), parse_month(end)
    out: list[str] = []
    while first <= last:
        out.append(first.strftime("%Y-%m"))
        first = next_month(first)
    return out


def month_end(month: str) -> date:
    """The last day of ``YYYY-MM``."""
    return next_month(parse_month(month)) - timedelta(days=1)


class DayPicker:
    """Draws a day of a month (weekdays likelier), never after ``today``."""

    def __init__(self, months: Sequence[str], today: date) -> None:
        self._days: list[list[date]] = []
        self._weights: list[list[float]] = []
        for month in months:
            first = parse_month(month)
            days = [
                first + timedelta(days=i)
                for i in range((month_end(month) - first).days + 1)
                if first + timedelta(days=i) <= today
            ]
            if not days:
                raise ValueError(f"month {month} has no day on or before today ({today})")
            self._days.append(days)
            weights = (WEEKEND_WEIGHT if d.weekday() >= 5 else 1.0 for d in days)
            self._weights.append(list(accumulate(weights)))

    def pick(self, rng: random.Random, month: int) -> date:
        """A day of month number ``month`` (an index into the months given)."""
        return rng.choices(self._days[month], cum_weights=self._weights[month])[0]

    def days(self, month: int) -> list[date]:
        """Every day of month number ``month`` that may be drawn."""
        return self._days[month]


class ReportingRhythm:
    """When each partner sends its monthly report: a few days after the month, or weeks late.

    Every event of one partner's month shares that report's time, a few seconds apart.
    """

    def __init__(self, rng: random.Random, partners: Iterable[str], months: Sequence[str]) -> None:
        codes = sorted(partners)
        count = max(1, round(len(codes) * LATE_PARTNER_SHARE)) if len(codes) > 1 else 0
        self.habitually_late: tuple[str, ...] = tuple(sorted(rng.sample(codes, count)))
        self._rng = rng
        self._months = list(months)
        self._starts: dict[tuple[str, int], datetime] = {}
        self._sent: dict[tuple[str, int], int] = {}

    def report_time(self, partner: str, month: int) -> datetime:
        """The reported_at of the next event in ``partner``'s report for month ``month``."""
        key = (partner, month)
        start = self._starts.get(key)
        if start is None:
            low, high = LATE_DELAY if partner in self.habitually_late else PUNCTUAL_DELAY
            day = month_end(self._months[month]) + timedelta(days=self._rng.randint(low, high))
            minutes = self._rng.randint(0, 8 * 60)
            start = datetime.combine(day, time(9), ALMATY) + timedelta(minutes=minutes)
            self._starts[key] = start
        sent = self._sent.get(key, 0)
        self._sent[key] = sent + 1
        return start + timedelta(seconds=EXPORT_STEP * sent)


def timestamp(moment: datetime) -> str:
    """RFC 3339 with the offset, to the second: ``2006-02-04T10:23:11+06:00``."""
    return moment.isoformat(timespec="seconds")
