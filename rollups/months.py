"""Months as the roll-ups name them: ``YYYY-MM`` strings, first days and boundaries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> date:
    """The first day of month ``YYYY-MM``; ValueError naming the text otherwise."""
    match = _MONTH.match(text)
    if match is None:
        raise ValueError(f"month {text!r}: expected YYYY-MM, e.g. 2006-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_name(day: date) -> str:
    """``YYYY-MM`` of the month holding ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def next_month(first: date) -> date:
    """The first day of the month after the one holding ``first``."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    """The first day of the month before the one holding ``first``."""
    if first.month == 1:
        return date(first.year - 1, 12, 1)
    return date(first.year, first.month - 1, 1)


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` and first day of the next one (an exclusive end)."""
    start = parse_month(month)
    return start, next_month(start)


def midnight(day: date) -> datetime:
    """00:00 UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when last < first)."""
    out: list[str] = []
    day, end = parse_month(first), parse_month(last)
    while day <= end:
        out.append(month_name(day))
        day = next_month(day)
    return out


def due_at(month: str, after_days: int) -> datetime:
    """When ``month``'s roll-up is due: ``after_days`` days after its last day ends (UTC)."""
    return midnight(month_bounds(month)[1]) + timedelta(days=after_days)
