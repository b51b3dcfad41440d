"""A batch of outcomes as the rows to write, by table (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from streams.transform import Outcome, Row


def place(row: Row) -> tuple[str, int, int]:
    """Where a row's message came from: (topic, partition, offset)."""
    return (row["topic"], row["partition"], row["offset"])


class Original(NamedTuple):
    """An accepted event's bytes and its place in its bulk message (-1: a single event)."""

    raw: bytes
    event_index: int = -1


@dataclass
class Batch:
    """The rows of one batch of events, by table."""

    facts: list[Row] = field(default_factory=list)
    refs: list[Row] = field(default_factory=list)
    deadletters: list[Row] = field(default_factory=list)
    #: Each fact's event bytes, in the order of ``facts`` (the events of a bulk message share
    #: one offset): for a dead letter should the warehouse refuse the fact.
    originals: list[Original] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Batch:
        """The rows of ``outcomes``: each accepted one's fact and refs, each rejected one's
        dead letter, in event order."""
        batch = cls()
        for outcome in outcomes:
            if outcome.fact is not None:
                batch.facts.append(outcome.fact)
                batch.refs.extend(outcome.refs)
                batch.originals.append(Original(outcome.raw, outcome.event_index))
            elif outcome.deadletter is not None:
                batch.deadletters.append(outcome.deadletter)
        return batch

    def messages(self) -> list[Batch]:
        """One batch per event: a fact with its refs, or a dead letter (isolation units)."""
        refs: dict[tuple[str, str, int], list[Row]] = {}
        for ref in self.refs:
            refs.setdefault((ref["partner_id"], ref["event_id"], ref["revision"]), []).append(ref)
        originals = self.originals + [Original(b"")] * (len(self.facts) - len(self.originals))
        units = [
            Batch(
                facts=[fact],
                refs=refs.get((fact["partner_id"], fact["event_id"], fact["revision"]), []),
                originals=[original],
            )
            for fact, original in zip(self.facts, originals, strict=False)
        ]
        return units + [Batch(deadletters=[row]) for row in self.deadletters]

    @classmethod
    def merged(cls, parts: Sequence[Batch]) -> Batch:
        """One batch of the rows of ``parts``, in order."""
        out = cls()
        for part in parts:
            out.facts += part.facts
            out.refs += part.refs
            out.deadletters += part.deadletters
            out.originals += part.originals
        return out

    def __len__(self) -> int:
        """Events in the batch (refs are not events; a bulk message counts its events)."""
        return len(self.facts) + len(self.deadletters)

    def assistance_events(self) -> set[tuple[str, str]]:
        """``(partner_id, event_id)`` of the batch's assistance facts (for the duplicate check)."""
        return {(r["partner_id"], r["event_id"]) for r in self.facts if r["kind"] == "assistance"}

    def latencies(self, written_at: datetime) -> Iterator[float]:
        """Seconds from each event's broker timestamp to ``written_at``."""
        for rows in (self.facts, self.deadletters):
            for row in rows:
                yield (written_at - row["published_at"]).total_seconds()
