"""A batch of outcomes as the rows to write, by table (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from streams.transform import Outcome, Row


@dataclass
class Batch:
    """The rows of one batch of messages, by table."""

    facts: list[Row] = field(default_factory=list)
    refs: list[Row] = field(default_factory=list)
    deadletters: list[Row] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Batch:
        """The rows of ``outcomes``: each accepted one's fact and refs, each rejected one's
        dead letter, in message order."""
        batch = cls()
        for outcome in outcomes:
            if outcome.fact is not None:
                batch.facts.append(outcome.fact)
                batch.refs.extend(outcome.refs)
            elif outcome.deadletter is not None:
                batch.deadletters.append(outcome.deadletter)
        return batch

    def __len__(self) -> int:
        """Messages in the batch (refs are not messages)."""
        return len(self.facts) + len(self.deadletters)

    def assistance_events(self) -> set[tuple[str, str]]:
        """``(partner_id, event_id)`` of the batch's assistance facts (for the duplicate check)."""
        return {(r["partner_id"], r["event_id"]) for r in self.facts if r["kind"] == "assistance"}

    def latencies(self, written_at: datetime) -> Iterator[float]:
        """Seconds from each message's broker timestamp to ``written_at``."""
        for rows in (self.facts, self.deadletters):
            for row in rows:
                yield (written_at - row["published_at"]).total_seconds()
