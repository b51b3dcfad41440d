"""Split a batch the warehouse refuses for its content until the offending items are isolated.

A batch write fails in one of two ways (DESIGN.md, "Errors say whether to retry"): the
warehouse is unavailable (transient: the caller backs off and retries the whole batch, offsets
kept), or it refuses the batch for what is in it (data: a value out of a column's range, one
that does not convert). Only the second is isolated here: the batch is bisected, each half
written on its own, until every refused item stands alone; everything else is written. With
``k`` bad items among ``n`` this takes about ``2 k log2(n)`` writes, and one when none is bad.

Writes must be idempotent (the hub's are): a half written before its sibling fails
transiently is written again when the caller retries. Pure: no I/O beyond ``write``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from streams.errors import Refusal, data_refusal

T = TypeVar("T")

__all__ = ["Isolated", "Refusal", "data_refusal", "isolate"]


@dataclass
class Isolated(Generic[T]):
    """What :func:`isolate` wrote, and what the warehouse refused (each with why)."""

    written: list[T] = field(default_factory=list)
    refused: list[tuple[T, Refusal]] = field(default_factory=list)
    writes: int = 0


def isolate(
    items: Sequence[T],
    write: Callable[[Sequence[T]], None],
    refusal_of: Callable[[BaseException], Refusal | None] = data_refusal,
) -> Isolated[T]:
    """Write ``items`` with ``write``; bisect every part refused for its data.

    Errors ``refusal_of`` does not call data errors propagate at once (the caller retries).
    Returns the items written, in order, and the refused ones, each alone, with its refusal.
    """
    out: Isolated[T] = Isolated()
    pending: list[Sequence[T]] = [items] if items else []
    while pending:
        part = pending.pop()
        out.writes += 1
        try:
            write(part)
        except Exception as error:
            refusal = refusal_of(error)
            if refusal is None:
                raise
            if len(part) == 1:
                out.refused.append((part[0], refusal))
            else:
                middle = len(part) // 2
                pending += [part[middle:], part[:middle]]  # the first half is written first
            continue
        out.written.extend(part)
    return out
