"""Reading and writing partner files: CSV and XLSX sheets, JSON Lines, templates, id-filled copies.

Row numbers are the ones a spreadsheet shows: the header is row 1. A CSV file may use ``,``,
``;`` or a tab between cells (whichever its header line uses); it is read as UTF-8, with or
without the byte-order mark Excel writes. In an XLSX workbook only the first sheet is read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from producers.sheet_layout import Cell, allowed_row, example_row, layout
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
        sheet = workbook.worksheets[0]
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
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "events"
    for row in rows:
        sheet.append(row)
    note_font = Font(italic=True, color="808080")
    for index, (name, allowed) in enumerate(zip(rows[0], rows[1], strict=True), start=1):
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.comment = Comment(allowed, "Partner Hub")
        sheet.cell(row=2, column=index).font = note_font
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) + 2)
    sheet.freeze_panes = "B2"
    help_sheet = workbook.create_sheet("allowed values")
    help_sheet.append(["column", "allowed values"])
    for name, allowed in zip(rows[0], rows[1], strict=True):
        help_sheet.append([name, allowed])
    help_sheet.column_dimensions["A"].width = 20
    help_sheet.column_dimensions["B"].width = 100
    workbook.save(path)
    return path


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
    sheet = workbook.worksheets[0]
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
