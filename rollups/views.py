"""The report's cross-tables, built from the published figures only.

Every figure here is a sum of figures the :class:`~rollups.suppress.Publication` already
publishes (:func:`rollups.suppress.total`): a withheld SGBV number is never an input, so no
table can show it or let it be worked out, and a sum with withheld parts is marked partial.

- **3W** (who does what where): partner x region x activity (the kind, with its indicators
  listed), the coordinator's first question;
- **population x origin**: people reached (and activities) by population group and country.

Regions are grouped by the name in force in the reported year (two of today's codes may be
one 2006 region, as Almaty Region and Jetisu were Almaty Oblast).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rollups.suppress import SENSITIVE_KIND, Figure, Publication, PublishedRow, total
from schemas.vocabulary import Kind, PopulationType

#: The two numbers every cross-table shows.
NUMBERS: tuple[str, str] = ("events", "persons")


@dataclass(frozen=True)
class ThreeW:
    """One line of the 3W table: a partner's work of one kind in one region."""

    partner_id: str
    region: str  # the region's name in force in the reported year
    codes: tuple[str, ...]  # today's codes grouped under that name
    kind: str
    indicators: tuple[str, ...]  # the activities (indicators) of the line
    events: Figure
    persons: Figure


def _figures(rows: Sequence[PublishedRow]) -> dict[str, Figure]:
    return {n: total(Figure(row.values[n]) for row in rows) for n in NUMBERS}


def _by_partner_and_origin(publication: Publication) -> list[PublishedRow]:
    """The rows that may be shown by partner and by origin: every kind but SGBV, whose figures
    the disclosure engine publishes by region and activity only, with margins that must not be
    added to their parts (docs/sgbv.md). The tables say so in their notes."""
    return [row for row in publication.rows if row.kind != SENSITIVE_KIND]


def three_w(publication: Publication, region_names: Mapping[str, str]) -> list[ThreeW]:
    """Partner x region x kind of activity (with the activities listed), sorted by partner,
    region name and kind order. The XLSX holds every activity's own numbers."""
    groups: dict[tuple[str, str, str], list[PublishedRow]] = defaultdict(list)
    for row in _by_partner_and_origin(publication):
        code = row.field("region")
        groups[(row.field("partner_id"), region_names.get(code, code), row.kind)].append(row)
    order = {kind.value: index for index, kind in enumerate(Kind)}
    lines = [
        ThreeW(
            partner,
            region,
            tuple(sorted({r.field("region") for r in members})),
            kind,
            tuple(sorted({r.field("indicator") for r in members})),
            **_figures(members),
        )
        for (partner, region, kind), members in groups.items()
    ]
    return sorted(lines, key=lambda w: (w.partner_id, w.region, order.get(w.kind, 99)))


@dataclass(frozen=True)
class CrossTable:
    """Rows x columns of figures, with row, column and grand totals (all sums of published
    figures)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], Mapping[str, Figure]]
    row_totals: Mapping[str, Mapping[str, Figure]]
    column_totals: Mapping[str, Mapping[str, Figure]]
    grand_total: Mapping[str, Figure]

    def cell(self, row: str, column: str) -> Mapping[str, Figure] | None:
        return self.cells.get((row, column))


def population_by_origin(publication: Publication) -> CrossTable:
    """Population group x country of origin (``""``: none, the host community)."""
    groups: dict[tuple[str, str], list[PublishedRow]] = defaultdict(list)
    rows_in = _by_partner_and_origin(publication)
    for row in rows_in:
        groups[(row.field("population_type"), row.field("origin"))].append(row)
    known = [p.value for p in PopulationType]
    rows = tuple(p for p in known if any(k[0] == p for k in groups))
    rows += tuple(sorted({k[0] for k in groups} - set(known)))
    by_size: dict[str, int] = defaultdict(int)
    for (_, origin), members in groups.items():
        by_size[origin] += sum(int(r.values["persons"] or 0) for r in members)
    columns = tuple(sorted(by_size, key=lambda o: (o == "", -by_size[o], o)))
    return CrossTable(
        rows=rows,
        columns=columns,
        cells={key: _figures(members) for key, members in groups.items()},
        row_totals={
            p: _figures([r for (q, _), m in groups.items() if q == p for r in m]) for p in rows
        },
        column_totals={
            o: _figures([r for (_, q), m in groups.items() if q == o for r in m]) for o in columns
        },
        # SGBV figures are not published by origin (docs/sgbv.md): the total is that of the table
        grand_total=_figures(rows_in),
    )


def regions_in_force(
    publication: Publication, region_names: Mapping[str, str]
) -> dict[tuple[str, str], Figure]:
    """People reached per (region name in force, kind), summing the published region
    figures of the codes each name covers."""
    parts: dict[tuple[str, str], list[Figure]] = defaultdict(list)
    for (code, kind), figures in publication.by_region.items():
        parts[(region_names.get(code, code), kind)].append(figures["persons"])
    return {key: total(figures) for key, figures in parts.items()}
