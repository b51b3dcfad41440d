"""Load partner files (CSV, XLSX, JSON Lines) into checked events, ready to publish.

Every row is mapped (:mod:`producers.sheet_layout`), completed (partner, refs, event id,
``reported_at``) and validated exactly as the SDK does before sending; problems are collected
with their file, row and column so a partner can fix a whole file in one pass. Nothing here
talks to the broker: ``partnerhub publish`` sends only when :attr:`Loaded.problems` is empty.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from producers import sheet_files
from producers.prepare import Prepared, prepare
from producers.sheet_layout import (
    EXAMPLE_ID,
    Cell,
    Problem,
    RowInvalid,
    all_columns,
    column_for,
    example_row,
    finish,
    is_blank,
    is_empty,
    is_note,
    layout,
    row_to_draft,
)
from schemas import refdata
from schemas.reasons import InvalidEvent
from schemas.vocabulary import Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where an event came from: file and row (line for JSON Lines)."""

    path: Path
    row: int

    def __str__(self) -> str:
        return f"{self.path}:{self.row}"


@dataclass(frozen=True)
class Located:
    """A problem at a place: printed as ``file:row: column: code: message``."""

    source: Source
    problem: Problem

    def __str__(self) -> str:
        p = self.problem
        return f"{self.source}: {p.column or '-'}: {p.code}: {p.message}"


@dataclass
class Loaded:
    """The checked events of some files, the problems found, and the ids derived per file."""

    events: list[tuple[Source, Prepared]] = field(default_factory=list)
    problems: list[Located] = field(default_factory=list)
    #: For each file, the rows whose event id was derived (row -> id), for ``--write-ids``.
    derived_ids: dict[Path, dict[int, str]] = field(default_factory=dict)
    #: Template example rows left as they were, skipped (never published).
    examples: list[Source] = field(default_factory=list)


@dataclass
class _Context:
    partner_id: str
    registry: Mapping[str, refdata.Partner]
    refs_key: bytes | None
    now: datetime


def load(
    paths: Iterable[Path],
    partner_id: str,
    registry: Mapping[str, refdata.Partner],
    *,
    refs_key: bytes | None,
    now: datetime,
) -> Loaded:
    """Read, map and validate every row of ``paths`` for ``partner_id``.

    ``now`` (timezone-aware) fills empty ``reported_at`` cells and is the clock of the
    not-in-the-future rule. Raises :class:`~producers.sheet_files.UnreadableFile` for a file
    that cannot be read at all; every other problem is listed in :attr:`Loaded.problems`.
    """
    context = _Context(partner_id, registry, refs_key, now)
    loaded = Loaded()
    paths = list(paths)
    for path in paths:
        before = len(loaded.events)
        if sheet_files.file_format(path) == "jsonl":
            _load_jsonl(path, context, loaded)
        else:
            _load_sheet(path, context, loaded)
        log.info("%s: %d events checked", path, len(loaded.events) - before)
    _flag_duplicates(loaded)
    order = {path: index for index, path in enumerate(paths)}
    loaded.problems.sort(key=lambda located: (order[located.source.path], located.source.row))
    return loaded


def _load_sheet(path: Path, context: _Context, loaded: Loaded) -> None:
    rows = sheet_files.read_table(path)
    first = next(rows, None)
    if first is None:
        loaded.problems.append(
            Located(Source(path, 1), Problem("", "missing", "the sheet is empty"))
        )
        return
    header, problems = _header(first[1])
    loaded.problems.extend(Located(Source(path, 1), p) for p in problems)
    if "kind" not in header:
        return  # no row can be read without its kind
    # Every row is still checked; the header's own problems are not repeated on each row.
    flagged = {p.column for p in problems}
    table: list[tuple[Source, dict[str, Cell]]] = []
    for number, cells in rows:
        if is_blank(cells) or is_note(cells):
            continue
        source = Source(path, number)
        row: dict[str, Cell] = {}
        for index, value in enumerate(cells):
            name = header[index] if index < len(header) else ""
            if name in flagged:
                continue
            if name:
                row.setdefault(name, value)  # a repeated column: the first one counts
            elif not is_empty(value):
                column = f"column {index + 1}"
                problem = Problem(column, "unknown_field", "a value under no header")
                loaded.problems.append(Located(source, problem))
        table.append((source, row))
    kinds = {str(row.get("kind") or "").strip() for _, row in table}
    missing = missing_columns(header, kinds)
    loaded.problems.extend(
        Located(Source(path, 1), Problem(name, "missing_column", "a required column is missing"))
        for name in missing
    )
    hide = flagged | set(missing)
    for source, row in table:
        try:
            draft = row_to_draft(row)
        except RowInvalid as invalid:
            loaded.problems.extend(Located(source, p) for p in invalid.problems)
            continue
        if is_example(draft, source, loaded):
            continue
        _accept(draft, source, context, loaded, sheet=True, hide=hide)


def missing_columns(header: list[str], kinds: set[str]) -> list[str]:
    """The required columns of the rows' kinds (of every kind, for a sheet without rows) that
    the header lacks. Rows then report nothing about them: the header says it once."""
    known = [Kind(k) for k in sorted(kinds) if k in set(Kind)] or list(Kind)
    required = [
        column.name for column in layout(known[0]) if column.required and column.name != "kind"
    ]
    for kind in known[1:]:
        names = {column.name for column in layout(kind) if column.required}
        required += [n for n in names if n not in required]
    if not kinds:  # a header-only sheet: only what every kind requires
        every = set.intersection(*({c.name for c in layout(k) if c.required} for k in Kind))
        required = [n for n in required if n in every]
    return [name for name in required if name not in header]


def is_example(draft: Mapping[str, Any], source: Source, loaded: Loaded) -> bool:
    """True for a template's example row left untouched (recorded, never published); a row
    that still carries the example's id but other values is a problem, never an event."""
    event_id = draft.get("event_id")
    if not isinstance(event_id, str) or event_id.upper() != EXAMPLE_ID:
        return False
    untouched = row_to_draft(example_row(draft["kind"]))
    if dict(draft, event_id=EXAMPLE_ID) == untouched:
        loaded.examples.append(source)
    else:
        message = (
            f"event_id {EXAMPLE_ID} marks the template's example row, which is never "
            "published: clear the event_id cell to publish this row"
        )
        loaded.problems.append(Located(source, Problem("event_id", "example_row", message)))
    return True


def _header(cells: list[Cell]) -> tuple[list[str], list[Problem]]:
    """Column names (lower-cased; ``""`` for an empty header cell) and the problems with them."""
    names = ["" if c is None else str(c).strip().lower() for c in cells]
    problems: list[Problem] = []
    known = all_columns()
    for index, name in enumerate(names):
        if name and name not in known:
            message = "not a column of the sheet layout" + _did_you_mean(name, known)
            problems.append(Problem(name, "unknown_field", message))
        elif name and name in names[:index]:
            problems.append(Problem(name, "duplicate_column", "the column appears twice"))
    if "kind" not in names:
        problems.append(Problem("kind", "missing", "the sheet has no kind column"))
    return names, problems


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'female_18_59'?`` for a near miss (difflib's similarity ratio)."""
    spaced = name.replace(" ", "_").replace("-", "_")
    close = difflib.get_close_matches(spaced, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _load_jsonl(path: Path, context: _Context, loaded: Loaded) -> None:
    for number, line in sheet_files.read_jsonl(path):
        source = Source(path, number)
        try:
            draft = json.loads(line)
        except json.JSONDecodeError as error:
            problem = Problem("", "invalid_json", f"not valid JSON: {error.msg}")
            loaded.problems.append(Located(source, problem))
            continue
        if not isinstance(draft, dict):
            problem = Problem("", "not_an_object", "each line must be one JSON object")
            loaded.problems.append(Located(source, problem))
            continue
        _accept(draft, source, context, loaded, sheet=False)


def _accept(
    draft: dict[str, Any],
    source: Source,
    context: _Context,
    loaded: Loaded,
    *,
    sheet: bool,
    hide: set[str] | None = None,
) -> None:
    """Complete and validate one draft; record the event or its problems (except those about
    the columns in ``hide``, which the header already reported)."""
    try:
        event = finish(draft, context.partner_id, refs_key=context.refs_key, now=context.now)
        prepared = prepare(
            event, context.partner_id, context.registry, today=context.now.astimezone(UTC).date()
        )
    except RowInvalid as invalid:
        loaded.problems.extend(Located(source, p) for p in invalid.problems)
        return
    except InvalidEvent as invalid:
        for reason in invalid.reasons:
            column = column_for(reason.field) if sheet else reason.field
            if hide and column in hide:
                continue
            loaded.problems.append(Located(source, Problem(column, reason.code, reason.message)))
        return
    if "event_id" not in draft:
        loaded.derived_ids.setdefault(source.path, {})[source.row] = prepared.event.event_id
    loaded.events.append((source, prepared))


def _flag_duplicates(loaded: Loaded) -> None:
    """Add a problem for each event whose id and revision an earlier row already has."""
    first_seen: dict[tuple[str, int], Source] = {}
    for source, prepared in loaded.events:
        key = (prepared.event.key, prepared.event.revision)
        earlier = first_seen.setdefault(key, source)
        if earlier is source:
            continue
        if source.row in loaded.derived_ids.get(source.path, {}):
            message = (
                f"same content as {earlier}, so the same derived event_id: give each row "
                "its own event_id if both are real, or delete one"
            )
        else:
            message = f"event_id and revision already used at {earlier}"
        loaded.problems.append(Located(source, Problem("event_id", "duplicate_event", message)))
