"""The roll-up as an Excel workbook: a summary sheet, one sheet per kind, and the protection
tables (trainings by audience, the RSD pipeline; ``rollups.protection``).

A kind's sheet holds exactly the published CSV's lines of that kind, same columns, same
values: numbers as numbers (decimals rounded to cents as in the CSV), a withheld number as
the text ``x``; beside each code column a ``<code>_name`` column says what the code means
(partner names, the region's name in force in the reported year, labels from
:mod:`schemas.labels`). Every sheet has column widths fitted to its contents, a header row
that stays in view and filters on it. The summary sheet holds the version, totals per kind,
the reconciliation and the marker's meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rollups.model import DECIMAL_MEASURES, KEY, NUMBERS, Number
from rollups.protection_render import add_protection_sheets
from rollups.render_csv import COLUMNS
from rollups.report import Report, describe_key
from rollups.suppress import SUPPRESSED_MARK, Figure, PublishedRow
from schemas.labels import indicator_label, label
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


#: Code columns that get a ``_name`` column beside them.
NAMED: tuple[str, ...] = ("partner_id", "region", "population_type", "origin", "indicator")
#: The kind sheets' columns: the CSV's, with a name beside each code in :data:`NAMED`.
XLSX_COLUMNS: tuple[str, ...] = tuple(
    name
    for column in COLUMNS
    for name in ((column, f"{column}_name") if column in NAMED else (column,))
)
#: Widest a column is made, in characters.
MAX_WIDTH = 45


def code_name(report: Report, column: str, code: str) -> str:
    """What a code of ``column`` means, for people."""
    if column == "partner_id":
        return report.partner_names.get(code, code)
    if column == "region":
        return report.region_names.get(code, code)
    if column == "indicator":
        return indicator_label(code)
    return label(code) if code else ""


def _line(report: Report, row: PublishedRow) -> list[Any]:
    out: list[Any] = []
    for column in COLUMNS:
        if column == "month":
            out.append(report.month)
        elif column == "units":
            out.append("|".join(row.units))
        elif column in KEY:
            out.append(row.field(column))
            if column in NAMED:
                out.append(code_name(report, column, row.field(column)))
        elif column in row.omitted:
            out.append(None)
        else:
            out.append(cell_value(row.values[column]))
    return out


def _fit(sheet: Worksheet, *, filters: bool) -> None:
    """Column widths from the longest value, header kept in view, filters on the header."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                length = len(str(cell.value))
                widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
    if filters and sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions


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
    _header(sheet, ["kind", "kind_name", *numbers, "note"])
    for kind, figures in pub.by_kind.items():
        sheet.append([kind, label(kind), *(_figure(figures[n]) for n in numbers), ""])
    totals = [pub.kind_total(n) for n in numbers]
    partial = any(f.partial for f in totals)
    note = "sums published figures only: some SGBV figures are withheld" if partial else ""
    sheet.append(["all kinds", "", *(_figure(f) for f in totals), note])
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
    _fit(summary, filters=False)
    summary.column_dimensions["A"].width = MAX_WIDTH
    decimal_columns = [XLSX_COLUMNS.index(m) + 1 for m in DECIMAL_MEASURES]
    for kind in Kind:
        sheet = book.create_sheet(kind.value)
        _header(sheet, XLSX_COLUMNS)
        for row in sorted(report.publication.rows, key=lambda r: r.key):
            if row.kind == kind.value:
                sheet.append(_line(report, row))
        for column in decimal_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "0.00"
        sheet.freeze_panes = "A2"
        _fit(sheet, filters=True)
    add_protection_sheets(book, report)
    created = report.created_at.replace(tzinfo=None)
    book.properties.creator = "Partner Hub"
    book.properties.created = created
    book.properties.modified = created
    book.save(path)
