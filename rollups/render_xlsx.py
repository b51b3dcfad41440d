"""The roll-up as an Excel workbook: a summary sheet, one sheet per kind, and the protection
tables (trainings by audience, the RSD pipeline; ``rollups.protection``).

A kind's sheet holds exactly the published CSV's lines of that kind, same columns, same
values: numbers as numbers (decimals rounded to cents as in the CSV), a withheld number as
the text ``x``. The summary sheet holds the version, totals per kind, the reconciliation and
the marker's meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from rollups.model import DECIMAL_MEASURES, KEY, NUMBERS, Number
from rollups.protection_render import add_protection_sheets
from rollups.render_csv import COLUMNS
from rollups.report import Report, describe_key
from rollups.suppress import SUPPRESSED_MARK, Figure, PublishedRow
from schemas.vocabulary import Kind

_CENTS = Decimal("0.01")
_BOLD = Font(bold=True)


def cell_value(value: Number | None) -> Any:
    """A number as the workbook stores it (the CSV's value, typed)."""
    if value is None:
        return SUPPRESSED_MARK
    if isinstance(value, Decimal):
        return value.quantize(_CENTS, rounding=ROUND_HALF_EVEN)
    return int(value)


def _line(month: str, row: PublishedRow) -> list[Any]:
    out: list[Any] = []
    for column in COLUMNS:
        if column == "month":
            out.append(month)
        elif column == "units":
            out.append("|".join(row.units))
        elif column in KEY:
            out.append(row.field(column))
        elif column in row.omitted:
            out.append(None)
        else:
            out.append(cell_value(row.values[column]))
    return out


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    sheet.append(list(names))
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD


def _figure(figure: Figure) -> Any:
    return cell_value(figure.value)


def _summary(sheet: Worksheet, report: Report) -> None:
    pub = report.publication
    sheet.append([f"Partner Hub monthly roll-up {report.month}"])
    sheet["A1"].font = Font(bold=True, size=14)
    facts = report.facts_through.isoformat() if report.facts_through else "no facts"
    info = [
        ("Version", report.version),
        ("Created", report.created_at.isoformat()),
        ("Checksum (SHA-256 of the published CSV)", report.checksum),
        ("Newest fact arrived", facts),
        ("Previous version", report.previous if report.previous is not None else "none"),
        (
            "Changed keys since the previous version",
            len(report.changes) if report.previous is not None else "-",
        ),
        (
            "Reconciliation with the streaming aggregates",
            "match"
            if not report.differences
            else f"{len(report.differences)} of {report.reconciled_keys} keys differ",
        ),
        (
            f"'{SUPPRESSED_MARK}'",
            f"withheld to protect SGBV survivors: a number from 1 to {report.threshold - 1}, "
            "or a number withheld so that such a number cannot be worked out",
        ),
        (
            "SGBV lines",
            "one table with its totals (a blank region, indicator or population type means "
            "all; an empty number is not published at that level): read, do not add up",
        ),
    ]
    for name, value in info:
        sheet.append([name, value])
    sheet.append([])
    numbers = [n for n in NUMBERS if n != "quantity"]  # a sum over units is no total
    _header(sheet, ["kind", *numbers, "note"])
    for kind, figures in pub.by_kind.items():
        sheet.append([kind, *(_figure(figures[n]) for n in numbers), ""])
    totals = [pub.kind_total(n) for n in numbers]
    partial = any(f.partial for f in totals)
    note = "sums published figures only: some SGBV figures are withheld" if partial else ""
    sheet.append(["all kinds", *(_figure(f) for f in totals), note])
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
    if report.differences:
        sheet.append([])
        _header(sheet, ["key that differs", "field", "facts", "aggregates"])
        for difference in report.differences:
            for name, pair in difference.fields.items():
                shown = ("withheld", "withheld") if pair is None else pair
                sheet.append([describe_key(difference.key), name, *shown])


def render_xlsx(report: Report, path: Path) -> None:
    """Write the workbook of ``report`` to ``path``."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = "Summary"
    _summary(summary, report)
    decimal_columns = [COLUMNS.index(m) + 1 for m in DECIMAL_MEASURES]
    for kind in Kind:
        sheet = book.create_sheet(kind.value)
        _header(sheet, COLUMNS)
        for row in sorted(report.publication.rows, key=lambda r: r.key):
            if row.kind == kind.value:
                sheet.append(_line(report.month, row))
        for column in decimal_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "0.00"
        sheet.freeze_panes = "A2"
    add_protection_sheets(book, report)
    created = report.created_at.replace(tzinfo=None)
    book.properties.creator = "Partner Hub"
    book.properties.created = created
    book.properties.modified = created
    book.save(path)
