"""Which rows and topics carry SGBV data: what operational outputs (status, metrics, counts)
leave out of their numbers, so that none of them is an SGBV count (``docs/sgbv.md``).

Operational outputs say *whether* SGBV data arrived ("reported this month: yes"), never how
much: a count of SGBV facts, dead letters, lag or batch sizes is an SGBV number like any other,
and one subtracted from a total of every kind gives it away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

#: The kind whose figures only the disclosure engine may publish.
SENSITIVE_KIND = "sgbv"


def is_sensitive_topic(topic: str) -> bool:
    """Whether ``topic`` is a partner's SGBV topic (``partners.<partner>.sgbv.v1``)."""
    parts = topic.split(".")
    return len(parts) == 4 and parts[0] == "partners" and parts[2] == SENSITIVE_KIND


def is_sensitive_row(row: Mapping[str, Any]) -> bool:
    """Whether a fact, aggregate or dead-letter row is SGBV data."""
    if row.get("kind") == SENSITIVE_KIND:
        return True
    return is_sensitive_topic(str(row.get("topic", "")))


Row = TypeVar("Row", bound=Mapping[str, Any])


def open_rows(rows: Iterable[Row]) -> list[Row]:
    """The rows that are not SGBV data."""
    return [row for row in rows if not is_sensitive_row(row)]


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
