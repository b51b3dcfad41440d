"""The protection tables (``rollups.protection``) as the HTML page and the workbook show
them: kept apart from the renderers so that each renderer only calls in (two lines each).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from html import escape
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from rollups import protection
from rollups.report import Report

_CENTS = Decimal("0.01")
_BOLD = Font(bold=True)


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(str(v))}</td>' if i in numeric else f"<td>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    sheet.append(list(names))
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD


# --- HTML ----------------------------------------------------------------------------------


def _protection_training(report: Report) -> str:
    lines = protection.training_table(report.publication)
    rows = [
        (
            line.audience,
            f"{line.trainings:,}",
            f"{line.sessions:,}",
            f"{line.curriculum_sessions:,}",
            f"{line.hours:,.1f}",
            f"{line.female:,}",
            f"{line.male:,}",
            f"{line.participants:,}",
            # dict.fromkeys: two of today's codes may share one name in force (2006 regions)
            ", ".join(dict.fromkeys(report.region_names.get(r, r) for r in line.regions)) or "-",
        )
        for line in lines
    ]
    headers = ["audience", "trainings", "sessions", "in curricula", "hours", "female",
               "male", "participants", "regions"]  # fmt: skip
    return (
        "<h2>Protection training</h2>"
        '<p class="note">Training and awareness on refugee law and protection, by audience.'
        " Participants are people trained (officials, lecturers, students, refugees), not"
        " beneficiaries of concern; sessions in curricula are university and school modules."
        f"</p>{_table(headers, rows, [1, 2, 3, 4, 5, 6, 7])}"
    )


def _rsd_pipeline(report: Report) -> str:
    lines = protection.rsd_pipeline(report.publication)
    columns = [f"{p} {i}".replace("_", " ") for p, i in protection.RSD_COLUMNS]
    rows = [
        (
            line.stage,
            *(f"{line.cases[c]:,}" for c in protection.RSD_COLUMNS),
            f"{line.total_cases:,}",
            f"{line.persons:,}",
        )
        for line in lines
    ]
    numeric = list(range(1, len(columns) + 3))
    pipeline = _table(["stage", *columns, "cases", "persons"], rows, numeric)
    origins = [
        (
            o.origin,
            f"{o.submitted:,}",
            f"{o.recognized:,}",
            f"{o.complementary_protection:,}",
            f"{o.rejected:,}",
            f"{o.closed:,}",
            "-" if o.recognition_rate is None else _percent(o.recognition_rate),
        )
        for o in protection.rsd_by_origin(report.publication)
    ]
    headers = ["origin", "submitted", "recognized", "complementary protection", "rejected",
               "closed", "recognition rate"]  # fmt: skip
    by_origin = _table(headers, origins, [1, 2, 3, 4, 5, 6]) if origins else "<p>No decisions.</p>"
    return (
        "<h2>RSD pipeline</h2>"
        '<p class="note">Refugee status determination casework: cases (and the persons in'
        " them) at each stage, by procedure and instance. Recognition rate: recognized over"
        " decisions on the merits (recognized, complementary protection, rejected), as UNHCR"
        f" computes it.</p>{pipeline}<p>Submissions and decisions by origin (cases).</p>"
        f"{by_origin}"
    )


def protection_html(report: Report) -> str:
    """The page's two sections: protection training, then the RSD pipeline."""
    return _protection_training(report) + _rsd_pipeline(report)


# --- XLSX ----------------------------------------------------------------------------------


def _trainings(sheet: Worksheet, report: Report) -> None:
    _header(sheet, ["audience", "trainings", "sessions", "sessions in curricula", "hours",
                    "female", "male", "participants", "regions"])  # fmt: skip
    for line in protection.training_table(report.publication):
        sheet.append(
            [
                line.audience,
                line.trainings,
                line.sessions,
                line.curriculum_sessions,
                line.hours.quantize(_CENTS, rounding=ROUND_HALF_EVEN),
                line.female,
                line.male,
                line.participants,
                " ".join(line.regions),
            ]
        )
    sheet.freeze_panes = "A2"


def _pipeline(sheet: Worksheet, report: Report) -> None:
    columns = [f"{p} {i} cases" for p, i in protection.RSD_COLUMNS]
    _header(sheet, ["stage", *columns, "cases", "persons"])
    for line in protection.rsd_pipeline(report.publication):
        sheet.append(
            [
                line.stage,
                *(line.cases[c] for c in protection.RSD_COLUMNS),
                line.total_cases,
                line.persons,
            ]
        )
    sheet.append([])
    _header(sheet, ["origin", "submitted", "recognized", "complementary protection",
                    "rejected", "closed", "recognition rate"])  # fmt: skip
    for o in protection.rsd_by_origin(report.publication):
        rate = None if o.recognition_rate is None else round(o.recognition_rate, 4)
        sheet.append([o.origin, o.submitted, o.recognized, o.complementary_protection,
                      o.rejected, o.closed, rate])  # fmt: skip
    sheet.freeze_panes = "A2"


def add_protection_sheets(book: Workbook, report: Report) -> None:
    """Append the sheets ``protection training`` and ``RSD pipeline`` to ``book``."""
    _trainings(book.create_sheet("protection training"), report)
    _pipeline(book.create_sheet("RSD pipeline"), report)
