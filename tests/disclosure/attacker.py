"""The attacker: holds every output of the hub and tries to recover withheld SGBV figures.

Deliberately written apart from the engine (``disclosure/``): it reads the outputs as files,
JSON, text and query results, rebuilds the SGBV figures each states, checks that they agree,
and solves the published linear system with its own model of the microdata (one unknown count
per region x indicator x population type x sex/age cell for people, per region x indicator x
population type for reports; case responses' reports equal their people, which a reader of
GBVIMS-style data may know). For each withheld figure it computes the minimum and maximum the
published figures allow (SciPy's HiGHS linear programmes), and enumerates candidate tables
against any published hash.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from schemas.labels import label
from schemas.refdata import regions
from schemas.vocabulary import CELLS, IncidentType, PopulationType, SgbvActivity

ACTIVITIES = tuple(a.value for a in SgbvActivity)
INCIDENTS = tuple(i.value for i in IncidentType)
POPULATIONS = tuple(p.value for p in PopulationType)
REGIONS = tuple(sorted(regions()))
TIED = ("case_response",)
EPS = 1e-6

#: A figure: (table, measure, region, activity, incident, population, cell); "" = all.
Figure = tuple[str, str, str, str, str, str, str]


def figure(table: str, measure: str, region: str = "", activity: str = "", incident: str = "",
           population: str = "", cell: str = "") -> Figure:  # fmt: skip
    return (table, measure, region, activity, incident, population, cell)


@dataclass
class Evidence:
    """Everything the attacker learnt about one month: figure -> value (None: seen withheld),
    with where each came from; contradictions between outputs are kept."""

    values: dict[Figure, int | None] = field(default_factory=dict)
    sources: dict[Figure, set[str]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    #: Every SGBV number any output showed, with where (for the small-number scan).
    shown: list[tuple[str, int]] = field(default_factory=list)

    def add(self, key: Figure, value: int | None, source: str) -> None:
        if value is not None:
            self.shown.append((f"{source} {key}", value))
        old = self.values.get(key)
        if key in self.values and old is not None and value is not None and old != value:
            self.conflicts.append(f"{key}: {old} vs {value} ({source})")
        if old is None:
            self.values[key] = value
        self.sources.setdefault(key, set()).add(source)

    def published(self) -> dict[Figure, int]:
        return {k: v for k, v in self.values.items() if v is not None}


def _int(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if text in ("x", ""):
        return None
    return int(text)


def _csv_line_figures(line: Mapping[str, str]) -> list[tuple[Figure, str]]:
    """The figures one published SGBV line states: (figure, column)."""
    region, indicator, population = line["region"], line["indicator"], line["population_type"]
    activity, _, incident = indicator.partition(".")
    if region and activity:
        table = "region_activity"
    elif region:
        table = "region"
    elif incident:
        table = "incident"
    elif activity:
        table = "activity"
    elif population:
        table = "population"
    else:
        table = "total"
    out = [
        (figure(table, "persons", region, activity, incident, population), "persons"),
        (figure(table, "events", region, activity, incident, population), "events"),
    ]
    if table in ("total", "activity"):
        cells_table = "cell" if table == "total" else "activity_cell"
        out += [(figure(cells_table, "persons", activity=activity, cell=c), c) for c in CELLS]
    return out


def read_csv(text: str, month: str, evidence: Evidence, source: str) -> None:
    for line in csv.DictReader(io.StringIO(text)):
        if line["kind"] != "sgbv" or line["month"] != month:
            continue
        assert not line["partner_id"], f"{source}: an SGBV line by partner {line}"
        assert not line["origin"], f"{source}: an SGBV line by origin {line}"
        for key, column in _csv_line_figures(line):
            if line[column] == "":
                raise AssertionError(f"{source}: {column} of {key} published empty, not x")
            evidence.add(key, _int(line[column]), source)


def read_hxl(text: str, month: str, evidence: Evidence) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    tags = rows[1]
    column = {tag: i for i, tag in enumerate(tags)}
    for row in rows[2:]:
        if row[column["#sector+code"]] != "sgbv":
            continue
        line = {
            "region": row[column["#adm1+code"]],
            "indicator": row[column["#indicator+code"]],
            "population_type": row[column["#beneficiary+code"]],
        }
        withheld = set(row[column["#meta+suppressed"]].split())
        values = {
            "persons": row[column["#reached+total"]],
            "events": row[column["#output+events+num"]],
        }
        for i, cell in enumerate(CELLS):
            values[cell] = row[column["#reached+total"] + 1 + i]
        for key, name in _csv_line_figures(line):
            text = values[name]
            if text == "":
                assert name in withheld, f"HXL: empty {name} of {key} not listed as withheld"
                evidence.add(key, None, "hxl")
            else:
                assert name not in withheld
                evidence.add(key, int(text), "hxl")


def read_xlsx(path: Path, month: str, evidence: Evidence, open_totals: Mapping[str, int]) -> None:
    """The SGBV sheet's lines, and the summary's SGBV and all-kinds rows (the latter minus
    the other kinds' exact totals is an SGBV figure when it is not marked partial)."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = list(book["sgbv"].iter_rows(values_only=True))
        header = [str(h) for h in sheet[0]]
        lines = [
            {h: ("" if v is None else str(v)) for h, v in zip(header, values, strict=True)}
            for values in sheet[1:]
        ]
        text = io.StringIO()
        writer = csv.DictWriter(text, header)
        writer.writeheader()
        writer.writerows(lines)
        read_csv(text.getvalue(), month, evidence, "xlsx")
        summary = [r for r in book["Summary"].iter_rows(values_only=True) if r and r[0]]
    finally:
        book.close()
    header_row = next(r for r in summary if r[0] == "kind")
    names = [str(h) for h in header_row]
    for row in summary:
        if row[0] not in ("sgbv", "all kinds"):
            continue
        partial = row[0] == "all kinds" and bool(row[-1])
        for name, value in zip(names[1:], row[1:], strict=False):
            if name not in ("events", "persons", *CELLS):
                continue
            key = figure("cell", "persons", cell=name) if name in CELLS else figure("total", name)
            if value == "x":
                evidence.add(key, None, "xlsx summary")
            elif row[0] == "sgbv":
                evidence.add(key, int(value), "xlsx summary")
            elif not partial:
                evidence.add(key, int(value) - open_totals[name], "xlsx all kinds - other kinds")


def read_html(text: str, evidence: Evidence, open_totals: Mapping[str, int]) -> None:
    """The headline cards (all kinds) and the by-kind table's SGBV row."""
    # The report speaks its readers' labels (schemas/reference/labels.csv), English by default.
    measures = {label("col.events"): "events", label("col.persons"): "persons"}
    for value, name in re.findall(r'<div class="card"><b>([^<]*)</b>([^<]*)</div>', text):
        measure = measures.get(html.unescape(name).strip())
        if measure is None or value.startswith("≥") or value == "x":
            continue
        implied = int(value.replace(",", "")) - open_totals[measure]
        evidence.add(figure("total", measure), implied, "html headline - other kinds")
    sgbv = re.escape(html.escape(label("sgbv")))
    row = re.search(rf"<tr><td>{sgbv}</td>\s*((?:<td[^>]*>[^<]*</td>)+)</tr>", text)
    assert row, "the HTML has an SGBV row in its by-kind table"
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    evidence.add(figure("total", "events"), _int(cells[0]), "html by kind")
    evidence.add(figure("total", "persons"), _int(cells[1]), "html by kind")


def read_cli_json(data: Mapping[str, Any], month: str, evidence: Evidence) -> None:
    for item in data.get("sgbv", {}).get(month, []):
        key = figure(
            item["table"], item["measure"], item.get("region", ""), item.get("activity", ""),
            item.get("incident", ""), item.get("population", ""), item.get("cell", ""),
        )  # fmt: skip
        value = item["value"]
        evidence.add(key, None if value == "x" else int(value), "cli json")


def read_panel(title: str, rows: Iterable[Mapping[str, Any]], month: str, evidence: Evidence,
               names: Mapping[str, str]) -> None:  # fmt: skip
    """One SGBV dashboard panel's rows, as figures (region names mapped back to codes)."""
    codes = {name: code for code, name in names.items()}
    for row in rows:
        if "month" in row and str(row["month"])[:7] != month:
            continue
        if "time" in row and str(row["time"])[:7] != month:
            continue
        values = {"persons": row.get("people"), "events": row.get("reports")}
        if title == "By month":
            keys = {m: figure("total", m) for m in values}
        elif title == "By activity":
            a = row["activity"].replace(" ", "_")
            keys = {m: figure("activity", m, activity=a) for m in values}
        elif title.startswith("Case responses"):
            i = row["incident"].replace(" ", "_")
            keys = {m: figure("incident", m, activity="case_response", incident=i) for m in values}
        elif title == "By region":
            r = codes[row["region_name"]]
            keys = {m: figure("region", m, region=r) for m in values}
        elif title == "By region and activity":
            r, a = codes[row["region_name"]], row["activity"].replace(" ", "_")
            keys = {m: figure("region_activity", m, region=r, activity=a) for m in values}
        elif title == "By population type":
            keys = {m: figure("population", m, population=row["population_type"]) for m in values}
        else:
            continue
        for measure, key in keys.items():
            value = values[measure]
            evidence.add(key, None if value is None else int(value), f"dashboard {title}")


# --- the linear system ------------------------------------------------------------------------


@dataclass(frozen=True)
class Unknown:
    region: str
    activity: str
    incident: str
    population: str
    cell: str  # "" for a report count


def unknowns() -> list[Unknown]:
    out = []
    for r in REGIONS:
        for a in ACTIVITIES:
            for i in INCIDENTS if a == "case_response" else ("",):
                for p in POPULATIONS:
                    out += [Unknown(r, a, i, p, c) for c in CELLS]
                    if a not in TIED:
                        out.append(Unknown(r, a, i, p, ""))
    return out


def feasible_ranges(
    published: Mapping[Figure, int], withheld: Iterable[Figure]
) -> dict[Figure, tuple[float, float]]:
    """Min and max of each withheld figure over all non-negative tables giving ``published``."""
    everything = unknowns()
    columns = {
        name: np.array([getattr(u, name) for u in everything], dtype=object)
        for name in ("region", "activity", "incident", "population", "cell")
    }
    has_cell = columns["cell"] != ""
    tied = np.isin(columns["activity"], TIED)

    def mask(key: Figure) -> np.ndarray:
        _, measure, *values = key
        out = has_cell.copy() if measure == "persons" else np.where(tied, has_cell, ~has_cell)
        for column, want in zip(columns.values(), values, strict=True):
            if want:
                out &= column == want
        return out

    free = np.ones(len(everything), dtype=bool)
    for key, value in published.items():
        if value == 0:
            free &= ~mask(key)
    rows = [(k, v) for k, v in published.items() if v != 0]
    dense = np.array([mask(k)[free] for k, _ in rows], dtype=float)
    matrix = csr_matrix(dense.reshape(len(rows), int(free.sum())))
    rhs = np.array([float(v) for _, v in rows])
    out: dict[Figure, tuple[float, float]] = {}
    for key in withheld:
        objective = mask(key)[free].astype(float)
        if not objective.any():
            out[key] = (0.0, 0.0)
            continue
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(sign * objective, A_eq=matrix, b_eq=rhs, bounds=(0, None),
                             method="highs")  # fmt: skip
            assert result.status in (0, 3), f"the published figures are inconsistent: {result}"
            bounds.append(float("inf") if result.status == 3 else sign * float(result.fun))
        out[key] = (bounds[0], bounds[1])
    return out


def pinned_small(bounds: tuple[float, float], threshold: int) -> bool:
    """Whether the range pins the figure to a value from 1 to ``threshold - 1``."""
    low, high = bounds
    return low >= 1 - EPS and high <= threshold - 1 + EPS


def protected(bounds: tuple[float, float], threshold: int) -> bool:
    """Neither "none" nor "the threshold or more" can be ruled out."""
    low, high = bounds
    return low <= EPS and high >= threshold - EPS


# --- hashes -----------------------------------------------------------------------------------

#: A hex digest or its prefix (16 to 64 hex digits), not a part of a number such as the
#: ``1.7961519056979406e+09`` of a Prometheus ``_created`` timestamp.
HEX = re.compile(r"(?<![\w.])[0-9a-f]{16,64}(?![\w.+-])")


def hex_strings(text: str) -> set[str]:
    return set(HEX.findall(text))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, default=str)
