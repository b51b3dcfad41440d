"""The canonical CSV of a roll-up: one line per key, deterministic to the byte.

Columns: :data:`COLUMNS`. Lines sorted by key; integers as plain digits; decimal measures with
two decimals (rounded half to even from the exact sums); ``units`` joined with ``|``; UTF-8,
``\\n`` line ends, quoting only where CSV needs it. A withheld number is written
:data:`rollups.suppress.SUPPRESSED_MARK` (``x``); a number a row does not publish at all (the
SGBV rows publish people, reports and, on national rows, sex and age) is empty. SGBV lines are
the disclosure engine's table with its margins: a blank key field means "all".

Two renderings share this code: the *exact* CSV of a version's rows (never published; its
keyed hash with the hub secret identifies the version) and the *published* CSV (suppression
applied), which is what leaves the hub. The same data and threshold always give the same
bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from disclosure.keys import integrity_hash, published_hash
from rollups.model import KEY, Number, RollupRow
from rollups.suppress import SUPPRESSED_MARK, Publication
from schemas.vocabulary import CELLS

#: The CSV's columns, in order.
COLUMNS: tuple[str, ...] = (
    "month",
    *KEY,
    "events",
    "persons",
    *CELLS,
    "quantity",
    "units",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
)

_CENTS = Decimal("0.01")


def format_number(value: Number | None) -> str:
    """A number as the CSV writes it (``x`` when withheld)."""
    if value is None:
        return SUPPRESSED_MARK
    if isinstance(value, Decimal):
        return format(value.quantize(_CENTS, rounding=ROUND_HALF_EVEN), "f")
    return str(int(value))


def _line(
    month: str,
    key: Sequence[str],
    units: Sequence[str],
    values: Mapping[str, Number | None],
    omitted: Collection[str] = (),
) -> list[str]:
    fields = dict(zip(KEY, key, strict=True))
    out = []
    for column in COLUMNS:
        if column == "month":
            out.append(month)
        elif column == "units":
            out.append("|".join(units))
        elif column in fields:
            out.append(fields[column])
        elif column in omitted:
            out.append("")
        else:
            out.append(format_number(values[column]))
    return out


def _csv(lines: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(lines)
    return buffer.getvalue()


def exact_lines(month: str, rows: Iterable[RollupRow]) -> list[list[str]]:
    """The exact CSV's lines (without the header), sorted by key."""
    ordered = sorted(rows, key=lambda row: row.key)
    return [_line(month, row.key, row.units, row.numbers()) for row in ordered]


def published_lines(publication: Publication) -> list[list[str]]:
    """The published CSV's lines (without the header), sorted by key."""
    ordered = sorted(publication.rows, key=lambda row: row.key)
    return [_line(publication.month, r.key, r.units, r.values, r.omitted) for r in ordered]


def exact_csv(month: str, rows: Iterable[RollupRow]) -> str:
    """The exact CSV of a month's rows: the form a version's checksum is taken of."""
    return _csv(exact_lines(month, rows))


def checksum(month: str, rows: Iterable[RollupRow], key: bytes) -> str:
    """HMAC-SHA256 (hex) of :func:`exact_csv` with the hub secret ``key``: equal for equal
    data, whatever the run, and of no use to anyone enumerating candidate tables without the
    secret. Never published."""
    return integrity_hash(key, exact_csv(month, rows).encode("utf-8"))


#: The CSV file starts with a byte-order mark, so that Excel reads it as UTF-8 (Cyrillic names).
BOM = "\ufeff"


def csv_file_text(publication: Publication) -> str:
    """The published CSV file as written: a byte-order mark, then :func:`render_csv`."""
    return BOM + render_csv(publication)


def published_checksum(publication: Publication) -> str:
    """SHA-256 (hex) of the published CSV file's bytes: what the roll-up's files show."""
    return published_hash(csv_file_text(publication).encode("utf-8"))


def render_csv(publication: Publication) -> str:
    """The published CSV text (suppression applied)."""
    return _csv(published_lines(publication))
