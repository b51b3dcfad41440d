"""The partner data-quality scorecard of a month (pure; the counts come from the warehouse).

- **Completeness**: of the kinds a partner is mandated for (registry), those it reported at
  least one active event of in the month; per kind, the mandated partners that reported.
- **Timeliness**: of the month's active events of a partner, the share first reported (the
  earliest revision's ``reported_at``) before the deadline: ``timely_days`` days after the
  month's end, i.e. before 00:00 UTC of the first of the next month plus ``timely_days``.
- **Reject rate**: dead letters / (accepted revisions + dead letters), over the messages of a
  partner *about* the month (the event's day, or for a dead letter the ``occurred_on`` in its
  raw JSON when there is one) or *received* in it. Accepted revisions are counted once each
  (a re-sent identical message is not a second one); dead letters once per message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rollups.model import RollupRow
from schemas.refdata import Partner
from schemas.vocabulary import Kind


@dataclass(frozen=True)
class PartnerQuality:
    """One partner's month: mandated and reported kinds, events, timely events, messages."""

    partner_id: str
    name: str
    mandated: tuple[str, ...]
    reported: tuple[str, ...]
    events: int
    timely: int
    accepted: int
    rejected: int

    @property
    def completeness(self) -> float | None:
        if not self.mandated:
            return None
        return len(set(self.reported) & set(self.mandated)) / len(self.mandated)

    @property
    def timeliness(self) -> float | None:
        return self.timely / self.events if self.events else None

    @property
    def reject_rate(self) -> float | None:
        messages = self.accepted + self.rejected
        return self.rejected / messages if messages else None


@dataclass(frozen=True)
class KindCoverage:
    """Per kind: the registry's partners mandated for it and those that reported."""

    kind: str
    mandated: tuple[str, ...]
    reported: tuple[str, ...]

    @property
    def completeness(self) -> float | None:
        if not self.mandated:
            return None
        return len(set(self.reported) & set(self.mandated)) / len(self.mandated)


@dataclass(frozen=True)
class Scorecard:
    timely_days: int
    deadline: datetime
    partners: tuple[PartnerQuality, ...]
    kinds: tuple[KindCoverage, ...]
    #: Dead letters about or in the month on topics of no partner.
    unattributed_rejects: int


def scorecard(
    registry: Mapping[str, Partner],
    rows: Sequence[RollupRow],
    timeliness: Mapping[str, tuple[int, int]],
    accepted: Mapping[str, int],
    rejected: Mapping[str, int],
    *,
    timely_days: int,
    deadline: datetime,
) -> Scorecard:
    """The scorecard of every registry partner (and any other partner seen in the month)."""
    reported: dict[str, set[str]] = {}
    for row in rows:
        if row.events:
            reported.setdefault(row.partner_id, set()).add(row.kind)
    seen = set(reported) | set(timeliness) | set(accepted) | {p for p in rejected if p}
    codes = sorted(set(registry) | seen)
    partners = []
    for code in codes:
        entry = registry.get(code)
        events, timely = timeliness.get(code, (0, 0))
        partners.append(
            PartnerQuality(
                partner_id=code,
                name=entry.name if entry else code,
                mandated=tuple(k.value for k in entry.kinds) if entry else (),
                reported=tuple(k for k in (x.value for x in Kind) if k in reported.get(code, ())),
                events=events,
                timely=timely,
                accepted=accepted.get(code, 0),
                rejected=rejected.get(code, 0),
            )
        )
    kinds = tuple(
        KindCoverage(
            kind=kind.value,
            mandated=tuple(sorted(c for c, p in registry.items() if kind in p.kinds)),
            reported=tuple(sorted(c for c, ks in reported.items() if kind.value in ks)),
        )
        for kind in Kind
    )
    return Scorecard(
        timely_days=timely_days,
        deadline=deadline,
        partners=tuple(partners),
        kinds=kinds,
        unattributed_rejects=rejected.get("", 0),
    )
