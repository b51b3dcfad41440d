"""Reading and writing partner files: CSV and XLSX sheets, JSON Lines, templates, id-filled copies.

Row numbers are the ones a spreadsheet shows: the header is row 1. A CSV file may use ``,``,
``;`` or a tab between cells (whichever its header line uses); it is read as UTF-8, with or
without the byte-order mark Excel writes. In an XLSX workbook only one sheet is read: the one
named ``events`` (as in the templates, after their instructions sheet), else the first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from producers.sheet_layout import (
    EXAMPLE_ID,
    Cell,
    Column,
    allowed_row,
    choice_labels,
    example_row,
    layout,
)
from schemas.vocabulary import Kind

Format = Literal["csv", "xlsx", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DELIMITERS = (",", ";", "\t")


class UnreadableFile(ValueError):
    """A file that cannot be read at all; the message names it."""


def file_format(path: Path) -> Format:
    """The format of ``path`` by its extension; :class:`UnreadableFile` when unsupported."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(
            f"{path}: unsupported file type {path.suffix!r} (use .csv, .xlsx or .jsonl)"
        ) from None


def _csv_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except OSError as error:
        raise UnreadableFile(f"{path}: {error.strerror or error}") from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)


def read_table(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    """Every row of a CSV or XLSX sheet as ``(row number, cells)``, the header first."""
    if file_format(path) == "xlsx":
        yield from _xlsx_rows(path)
        return
    text = _csv_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row)
    except csv.Error as error:
        raise UnreadableFile(f"{path}:{reader.line_num}: not valid CSV: {error}") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError, InvalidFileException, ...
        raise UnreadableFile(f"{path}: not a readable XLSX workbook: {error}") from None
    try:
        names = workbook.sheetnames
        sheet = workbook[EVENTS_SHEET] if EVENTS_SHEET in names else workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_xlsx_cell(value) for value in row]
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float):
        return value
    if hasattr(value, "isoformat"):
        return value  # type: ignore[return-value]  # date, datetime, time
    return str(value)


def read_jsonl(path: Path) -> Iterator[tuple[int, str]]:
    """Every non-blank line of a JSON Lines file as ``(line number, text)``."""
    try:
        with path.open(encoding="utf-8-sig") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield number, line
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise UnreadableFile(f"{path}: {error.strerror or error}") from None


# --- templates -----------------------------------------------------------------------------


def template_rows(kind: Kind | str) -> list[list[str]]:
    """The template of ``kind`` as rows: header, allowed-values note, example."""
    names = [column.name for column in layout(kind)]
    allowed, example = allowed_row(kind), example_row(kind)
    return [names, [allowed[n] for n in names], [example[n] for n in names]]


def write_template(kind: Kind | str, fmt: Literal["csv", "xlsx"], path: Path) -> Path:
    """Write the template of ``kind`` to ``path`` as CSV or XLSX; return ``path``."""
    rows = template_rows(kind)
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(rows)
        return path
    _xlsx_template(Kind(kind), rows, path)
    return path


#: The data sheet of an XLSX template; the reader takes it when present, else the first sheet.
EVENTS_SHEET = "events"
#: Data-validated rows below the header: enough for a month of any partner's reports.
TEMPLATE_ROWS = 2000


def _xlsx_template(kind: Kind, rows: list[list[str]], path: Path) -> None:
    """The XLSX template: instructions first, then the events sheet with a dropdown on every
    enumerated column, number checks on the counts, and an example row marked ``EXAMPLE``.

    openpyxl writes Excel's own data validation, so the dropdowns work in Excel, LibreOffice
    and Google Sheets without macros; long lists live on a hidden ``lists`` sheet because an
    inline list may hold at most 255 characters.
    """
    columns = layout(kind)
    workbook = Workbook()
    guide = workbook.active
    guide.title = "instructions"
    sheet = workbook.create_sheet(EVENTS_SHEET)
    lists = workbook.create_sheet("lists")
    lists.sheet_state = "hidden"
    sheet.append(rows[0])
    sheet.append(rows[1])
    sheet.append([_typed(value, column) for value, column in zip(rows[2], columns, strict=True)])
    note_font = Font(italic=True, color="808080")
    last = TEMPLATE_ROWS + 2
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.comment = Comment(column.allowed, "Partner Hub")
        sheet.cell(row=2, column=index).font = note_font
        sheet.cell(row=3, column=index).font = note_font
        labels = choice_labels(column)
        width = max([len(column.name), *(len(label) for label in labels)], default=0)
        sheet.column_dimensions[letter].width = min(max(12, width + 2), 40)
        cells = f"{letter}3:{letter}{last}"
        validation = _validation(column, labels, lists, index)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(cells)
        if column.type == "date":  # only the example: styling empty rows would create them
            sheet.cell(row=3, column=index).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "B2"
    _instructions(guide, kind, rows)
    workbook.save(path)


def _typed(value: str, column: Column) -> Cell:
    """An example cell as a spreadsheet holds it: numbers as numbers, dates as dates."""
    if value == "":
        return None
    if column.type in ("int", "number"):
        number = float(value)
        return int(number) if number.is_integer() else number
    if column.type == "date":
        return date.fromisoformat(value)
    if column.choices:
        labels = dict(zip(column.choices, choice_labels(column), strict=True))
        return labels.get(value, value)
    return value


def _validation(column: Column, labels: list[str], lists: Any, index: int) -> DataValidation | None:
    """The data validation of one column: a dropdown, or a number check, or none."""
    if labels:
        letter = get_column_letter(index)
        lists.cell(row=1, column=index, value=column.name)
        for row, label in enumerate(labels, start=2):
            lists.cell(row=row, column=index, value=label)
        source = f"=lists!${letter}$2:${letter}${len(labels) + 1}"
        return DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=column.name,
            error=f"Choose a value from the list: {column.allowed}"[:255],
        )
    if column.type in ("int", "number"):
        minimum = 1 if column.name == "revision" else 0
        return DataValidation(
            type="whole" if column.type == "int" else "decimal",
            operator="greaterThanOrEqual",
            formula1=str(minimum),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=column.name,
            error=column.allowed[:255],
        )
    return None


def _instructions(guide: Any, kind: Kind, rows: list[list[str]]) -> None:
    lines = [
        f"Partner Hub: {kind.value} sheet",
        "",
        f"1. Fill the '{EVENTS_SHEET}' sheet: one row per activity, from row 4 down.",
        "2. Pick values from the dropdowns; counts are whole numbers (empty = 0).",
        "3. Row 2 lists what each column allows and is skipped.",
        f"4. Row 3 is an example (event_id {EXAMPLE_ID}): it is never published. Overwrite it "
        "or leave it; a row you publish must not keep that event_id.",
        "5. Leave event_id empty: the hub derives one from the row, so publishing the same file "
        "twice never counts twice (partnerhub publish --write-ids keeps the ids for corrections).",
        "6. Check, then send: partnerhub publish --partner YOUR_CODE --dry-run FILE.xlsx",
        "",
    ]
    for line in lines:
        guide.append([line])
    guide.append(["column", "what it takes"])
    guide.cell(row=1, column=1).font = Font(bold=True, size=14)
    for cell in guide[len(lines) + 1]:
        cell.font = Font(bold=True)
    for name, allowed in zip(rows[0], rows[1], strict=True):
        guide.append([name, allowed if name != "kind" else kind.value])
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 110


# --- copies with event ids -----------------------------------------------------------------


def ids_copy_path(path: Path) -> Path:
    """Where the copy of ``path`` with its event ids filled in is written."""
    return path.with_name(f"{path.stem}.with-ids{path.suffix}")


def write_with_ids(path: Path, ids: Mapping[int, str], out: Path) -> Path:
    """Copy ``path`` to ``out`` with ``event_id`` filled on the given rows (row number -> id).

    An ``event_id`` column is added at the end when the sheet has none. Returns ``out``.
    """
    fmt = file_format(path)
    if fmt == "jsonl":
        _jsonl_with_ids(path, ids, out)
    elif fmt == "csv":
        _csv_with_ids(path, ids, out)
    else:
        _xlsx_with_ids(path, ids, out)
    return out


def _id_column(header: Sequence[object]) -> int | None:
    for index, name in enumerate(header):
        if isinstance(name, str) and name.strip().lower() == "event_id":
            return index
    return None


def _csv_with_ids(path: Path, ids: Mapping[int, str], out: Path) -> None:
    text = _csv_text(path)
    delimiter = _delimiter(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    column = _id_column(rows[0])
    if column is None:
        column = len(rows[0])
        rows[0].append("event_id")
    for number, event_id in ids.items():
        row = rows[number - 1]
        row.extend([""] * (column + 1 - len(row)))
        if not row[column].strip():
            row[column] = event_id
    with out.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)


def _xlsx_with_ids(path: Path, ids: Mapping[int, str], out: Path) -> None:
    workbook = load_workbook(path)
    names = workbook.sheetnames
    sheet = workbook[EVENTS_SHEET] if EVENTS_SHEET in names else workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = _id_column(header)
    if column is None:
        column = len(header)
        sheet.cell(row=1, column=column + 1, value="event_id")
    for number, event_id in ids.items():
        cell = sheet.cell(row=number, column=column + 1)
        if cell.value is None or not str(cell.value).strip():
            cell.value = event_id
    workbook.save(out)


def _jsonl_with_ids(path: Path, ids: Mapping[int, str], out: Path) -> None:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    for number, event_id in ids.items():
        event: dict[str, Any] = json.loads(lines[number - 1])
        if "event_id" not in event:
            event = {"event_id": event_id, **event}
        lines[number - 1] = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
