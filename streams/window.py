"""When to write the buffered events: the adaptive batch window (pure).

A batch is written as soon as the stream goes quiet (no event for ``quiet_seconds``), so an
event on a quiet day is written at once; while events keep coming it waits for more, up to
``max_seconds`` after its first event or ``max_size`` events, so large batches form only under
load. With the pipelined agent (``streams/ingest.py``) the write of the previous batch is a
window too: what arrives meanwhile is the next batch, so batches grow with the write time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchWindow:
    """The batch-window policy: how long to wait before writing what is buffered."""

    max_size: int
    max_seconds: float
    quiet_seconds: float

    def __post_init__(self) -> None:
        if self.max_size < 1 or self.max_seconds <= 0 or self.quiet_seconds <= 0:
            raise ValueError(f"a batch window needs positive bounds, got {self!r}")

    def wait(self, buffered: int, oldest_age: float, idle: float) -> float | None:
        """Seconds to wait before writing ``buffered`` events (0: write now; ``None``: nothing
        to write, wait for an event). ``oldest_age`` is the age of the first buffered event,
        ``idle`` the time since the last one arrived (seconds). Asked again after the wait, as
        events may have arrived meanwhile."""
        if buffered <= 0:
            return None
        if buffered >= self.max_size:
            return 0.0
        return max(0.0, min(self.quiet_seconds - idle, self.max_seconds - oldest_age))
