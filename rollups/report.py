"""A :class:`Report`: everything the roll-up's outputs show, and nothing they must not.

Renderers (CSV, HXL, XLSX, HTML) read a report only, never the exact roll-up, so the SGBV rules
of :mod:`rollups.suppress` hold in every output alike. Besides the published numbers, a report
carries the version and its changes, the reconciliation and the data-quality scorecard, with
the numbers of SGBV keys left out of the first two (their keys and field names stay: a
difference is reported, never hidden).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollups.compute import Rollup
from rollups.model import KEY
from rollups.quality import KindCoverage
from rollups.render_csv import published_checksum
from rollups.store import Version
from rollups.suppress import SENSITIVE_KIND, Figure, Publication, is_sensitive, publish
from schemas.labels import region_names


@dataclass(frozen=True)
class Change:
    """A key added, removed or changed since the previous version; ``fields`` maps a field to
    (old, new), or to None where the values are withheld (SGBV)."""

    key: tuple[str, ...]
    status: str
    fields: Mapping[str, tuple[Any, Any] | None]


@dataclass(frozen=True)
class Difference:
    """A key whose totals differ between facts and aggregates: field -> (facts, aggregates),
    or None where the values are withheld (SGBV)."""

    key: tuple[str, ...]
    fields: Mapping[str, tuple[Any, Any] | None]


@dataclass(frozen=True)
class PartnerScore:
    """A partner's line of the scorecard as published."""

    partner_id: str
    name: str
    mandated: tuple[str, ...]
    reported: tuple[str, ...]
    completeness: float | None
    events: Figure
    #: None where there is nothing to rate, or where withheld (``rates_withheld``).
    timeliness: float | None
    reject_rate: float | None
    rates_withheld: bool
    rejected: int


@dataclass(frozen=True)
class Report:
    month: str
    threshold: int
    publication: Publication
    version: int
    created_at: datetime
    created_by: str
    #: SHA-256 of the published CSV (never a hash of exact data).
    checksum: str
    facts_through: datetime | None
    previous: int | None
    changes: tuple[Change, ...]
    reconciled_keys: int
    differences: tuple[Difference, ...]
    partners: tuple[PartnerScore, ...]
    kinds: tuple[KindCoverage, ...]
    timely_days: int
    deadline: datetime
    unattributed_rejects: int
    partner_names: Mapping[str, str]
    region_names: Mapping[str, str]


def _key(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(entry["key"][k]) for k in KEY)


#: How every SGBV key is shown in changes and differences: one line for the kind, never its
#: exact keys (a key's existence can say that a case happened in a small group) nor how many.
SGBV_KEY: tuple[str, ...] = ("", "", SENSITIVE_KIND, "", "", "")


def _changes(changes: Mapping[str, Any]) -> tuple[Change, ...]:
    out: list[Change] = []
    sgbv = False
    for status in ("added", "removed"):
        for entry in changes.get(status, ()):
            key = _key(entry)
            if is_sensitive(key):
                sgbv = True
                continue
            events = entry["values"]["events"]
            pair = (None, events) if status == "added" else (events, None)
            out.append(Change(key, status, {"events": pair}))
    for entry in changes.get("changed", ()):
        key = _key(entry)
        if is_sensitive(key):
            sgbv = True
            continue
        out.append(Change(key, "changed", _shown_fields(key, entry["fields"])))
    if sgbv:
        out.append(Change(SGBV_KEY, "changed", {"figures": None}))
    return tuple(sorted(out, key=lambda c: c.key))


def _shown_fields(
    key: tuple[str, ...], fields: Mapping[str, Sequence[Any]]
) -> dict[str, tuple[Any, Any] | None]:
    """Field -> its two values, or None for every field of an SGBV key."""
    return {name: None if is_sensitive(key) else (a, b) for name, (a, b) in fields.items()}


def _differences(reconciliation: Mapping[str, Any]) -> tuple[Difference, ...]:
    entries = reconciliation.get("differences", ())
    out = [
        Difference(_key(entry), _shown_fields(_key(entry), entry["fields"]))
        for entry in entries
        if not is_sensitive(_key(entry))
    ]
    if any(is_sensitive(_key(entry)) for entry in entries):
        out.append(Difference(SGBV_KEY, {"figures": None}))
    return tuple(out)


def build_report(
    rollup: Rollup, version: Version, threshold: int, *, partner_names: Mapping[str, str]
) -> Report:
    """The report of ``rollup`` stored as ``version``; SGBV numbers suppressed at
    ``threshold``. The reconciliation shown is the roll-up's (this run's), the changes the
    version's (against the version before it)."""
    publication = publish(rollup.rows, threshold, rollup.progress, month=rollup.month)
    card = rollup.scorecard
    shown = {p.partner_id: publication.partner_rates_shown(p.partner_id) for p in card.partners}
    partners = tuple(
        PartnerScore(
            partner_id=p.partner_id,
            name=p.name,
            mandated=p.mandated,
            reported=p.reported,
            completeness=p.completeness,
            events=publication.partner_total(p.partner_id, "events"),
            timeliness=p.timeliness if shown[p.partner_id] else None,
            reject_rate=p.reject_rate if shown[p.partner_id] else None,
            rates_withheld=not shown[p.partner_id],
            rejected=p.rejected,
        )
        for p in card.partners
    )
    return Report(
        month=rollup.month,
        threshold=threshold,
        publication=publication,
        version=version.version,
        created_at=version.created_at,
        created_by=version.created_by,
        checksum=published_checksum(publication),
        facts_through=version.facts_through,
        previous=version.changes.get("previous"),
        changes=_changes(version.changes),
        reconciled_keys=rollup.reconciliation.keys,
        differences=_differences(rollup.reconciliation.to_json()),
        partners=partners,
        kinds=card.kinds,
        timely_days=card.timely_days,
        deadline=card.deadline,
        unattributed_rejects=card.unattributed_rejects,
        partner_names={**dict(partner_names), **{p.partner_id: p.name for p in card.partners}},
        region_names=dict(region_names(int(rollup.month[:4]))),
    )


def describe_key(key: Sequence[str]) -> str:
    """A key as one readable line: ``partner / region / kind / population / origin / indicator``."""
    return " / ".join(part or "-" for part in key)
