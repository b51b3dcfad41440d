"""The engine's SGBV figures of a roll-up version, stored for every other output to read.

``sgbv_published`` holds exactly what the roll-up's files publish (NULL where withheld); the
SGBV dashboard reads it through the ``sgbv_figures`` view, ``partnerhub warehouse totals``
and the status API read it here. No output computes SGBV figures of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from disclosure.engine import SgbvPublication
from disclosure.grain import Domain, FigureKey
from rollups.months import month_name, parse_month
from rollups.suppress import Publication
from warehouse.client import Warehouse
from warehouse.facts import columnar

COLUMNS: tuple[str, ...] = (
    "month",
    "version",
    "threshold",
    "grain_table",
    "measure",
    "region",
    "activity",
    "incident",
    "population_type",
    "cell",
    "value",
    "written_at",
)


def store_publication(wh: Warehouse, publication: Publication, version: int) -> None:
    """Write the SGBV figures of ``publication`` as ``version``'s (replacing a rerun's)."""
    sgbv = publication.sgbv
    if sgbv is None:
        return
    now = datetime.now(UTC)
    records: list[dict[str, Any]] = [
        {
            "month": parse_month(publication.month),
            "version": version,
            "threshold": sgbv.threshold,
            "grain_table": key.table,
            "measure": key.measure,
            "region": key.region,
            "activity": key.activity,
            "incident": key.incident,
            "population_type": key.population,
            "cell": key.cell,
            "value": value,
            "written_at": now,
        }
        for key, value in sgbv.figures.items()
    ]
    wh.insert("sgbv_published", columnar("sgbv_published", COLUMNS, records))


def published_months(wh: Warehouse) -> dict[str, SgbvPublication]:
    """Each month's SGBV figures as last published (its latest roll-up version), by month."""
    rows = wh.query(
        "SELECT month, threshold, grain_table, measure, region, activity, incident,"
        " population_type, cell, value FROM sgbv_figures ORDER BY month"
    )
    by_month: dict[date, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_month.setdefault(row["month"], []).append(row)
    out: dict[str, SgbvPublication] = {}
    for day, figures in by_month.items():
        name = month_name(day)
        regions = tuple(sorted({str(f["region"]) for f in figures if f["region"]}))
        values = {
            FigureKey(
                table=str(f["grain_table"]),
                measure=str(f["measure"]),
                region=str(f["region"]),
                activity=str(f["activity"]),
                incident=str(f["incident"]),
                population=str(f["population_type"]),
                cell=str(f["cell"]),
            ): (None if f["value"] is None else int(f["value"]))
            for f in figures
        }
        out[name] = SgbvPublication(name, int(figures[0]["threshold"]), Domain(regions), values)
    return out
