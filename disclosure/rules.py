"""Which rows and topics carry SGBV data: what operational outputs (status, metrics, counts)
leave out of their numbers, so that none of them is an SGBV count (``docs/sgbv.md``).

Operational outputs say *whether* SGBV data arrived ("reported this month: yes"), never how
much: a count of SGBV facts, dead letters, lag or batch sizes is an SGBV number like any other,
and one subtracted from a total of every kind gives it away.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

#: The kind whose figures only the disclosure engine may publish.
SENSITIVE_KIND = "sgbv"


def _topic_kind(topic: str) -> str:
    """The kind a partner topic (``partners.<partner>.<kind>.<version>``) names, else ``""``."""
    parts = topic.split(".")
    return parts[2] if len(parts) == 4 and parts[0] == "partners" else ""


def is_sensitive_topic(topic: str) -> bool:
    """Whether ``topic`` is a partner's SGBV topic (``partners.<partner>.sgbv.v1``)."""
    return _topic_kind(topic) == SENSITIVE_KIND


def is_sensitive_row(row: Mapping[str, Any]) -> bool:
    """Whether a fact, aggregate or dead-letter row is SGBV data (a dead letter's ``kind`` is
    :func:`deadletter_kind`)."""
    if row.get("kind") == SENSITIVE_KIND:
        return True
    return is_sensitive_topic(str(row.get("topic", "")))


def names_sensitive_kind(raw: bytes) -> bool:
    """Whether rejected bytes may be SGBV data: they name ``sgbv`` anywhere (any case), as
    written or once decoded as JSON (``"\\u0073gbv"``, UTF-16). Deliberately broad: a dead
    letter marked SGBV only drops out of counts, one missed is an SGBV record in the open."""
    if SENSITIVE_KIND.encode() in raw.lower():
        return True
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return False  # not JSON: the bytes as written were searched above
    stack = [value]
    while stack:  # every key and string of the document, without recursion
        item = stack.pop()
        if isinstance(item, str):
            if SENSITIVE_KIND in item.casefold():
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def deadletter_kind(topic: str, raw: bytes) -> str:
    """The ``kind`` a dead letter is filed under: ``sgbv`` when its topic or its bytes name
    SGBV (:func:`names_sensitive_kind`), so every filter on ``kind`` hides it like an SGBV
    fact; otherwise the kind its topic names, or ``""``."""
    if SENSITIVE_KIND in topic.casefold() or names_sensitive_kind(raw):
        return SENSITIVE_KIND
    return _topic_kind(topic)


Row = TypeVar("Row", bound=Mapping[str, Any])


def open_rows(rows: Iterable[Row]) -> list[Row]:
    """The rows that are not SGBV data."""
    return [row for row in rows if not is_sensitive_row(row)]


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
