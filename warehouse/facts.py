"""Writing facts and the rows beside them, refreshing what is derived from the facts, and
the reads that check it (monthly totals two independent ways, dead letters, row counts).

Every write is idempotent: the tables are ReplacingMergeTrees keyed by what identifies a row,
and every reader de-duplicates (``FINAL``, or ``argMax`` over :data:`WINNER_ORDER` per
``(partner_id, event_id)``). Derived rows (daily aggregates, partner activity) are recomputed
from the de-duplicated facts, never adjusted by deltas, so they are right whatever order
revisions arrive in and however often a batch is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.monthly import refresh_monthly
from warehouse.revisions import Row, read_revisions, touched_keys, winners
from warehouse.rowsets import rows_of, tsv
from warehouse.tables import (
    ACTIVITY_COLUMNS,
    ACTIVITY_MARK_COLUMNS,
    AGGREGATE_COLUMNS,
    AGGREGATE_KEY,
    ALERT_COLUMNS,
    DEADLETTER_COLUMNS,
    FACT_COLUMNS,
    FACT_KEY_COLUMNS,
    FACT_REVISION_COLUMNS,
    KEY_TOTAL_COLUMNS,
    MEASURES,
    REF_COLUMNS,
    TABLES,
)

log = logging.getLogger(__name__)

#: Structure of the set of aggregate keys passed to queries as TSV text (see :func:`tsv`).
KEY_STRUCTURE = "day Date, " + ", ".join(f"{k} String" for k in AGGREGATE_KEY[1:])

#: How the winning row of an event is chosen: the highest revision; among copies of it, the
#: last written, and among those the last message (a producer reusing an id with other
#: content in one batch still gets one deterministic winner).
WINNER_ORDER = "(revision, ingested_at, `offset`)"

#: What the winning revision of an event says, besides its partner and id.
WINNER_FIELDS: tuple[str, ...] = (
    "status",
    "occurred_on",
    "reported_at",
    "region",
    "kind",
    "population_type",
    "origin",
    "indicator",
    *CELLS,
    *MEASURES,
)


# --- writes --------------------------------------------------------------------------------


def columnar(
    table: str, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """Rows (dicts with exactly ``names`` as keys) as columns; raises ValueError naming the
    first row whose keys differ."""
    expected = set(names)
    for index, row in enumerate(rows):
        if row.keys() != expected:
            missing = sorted(expected - row.keys())
            extra = sorted(row.keys() - expected)
            raise ValueError(f"{table} row {index}: missing {missing}, unexpected {extra}")
    return {name: [row[name] for row in rows] for name in names}


def _write(
    wh: Warehouse, table: str, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    if rows:
        started = time.perf_counter()
        wh.insert(table, columnar(table, names, rows))
        log.debug("wrote %d %s rows in %.3f s", len(rows), table, time.perf_counter() - started)


def write_facts(wh: Warehouse, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write fact rows (keys: ``FACT_COLUMNS``). Writing a revision again changes no total.

    The same rows also go into the two lookup tables the refresh reads (``fact_revisions``
    by event, ``fact_keys`` by aggregate key), facts first: a batch interrupted in between is
    written again whole by the sink, and every table de-duplicates.
    """
    if not rows:
        return
    started = time.perf_counter()
    columns = columnar("facts", FACT_COLUMNS, rows)
    wh.insert("facts", columns)
    wh.insert("fact_revisions", {c: columns[c] for c in FACT_REVISION_COLUMNS})
    wh.insert("fact_keys", {c: columns[c] for c in FACT_KEY_COLUMNS})
    log.debug("wrote %d facts in %.3f s", len(rows), time.perf_counter() - started)


def write_refs(wh: Warehouse, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write beneficiary-ref rows (keys: ``REF_COLUMNS``)."""
    _write(wh, "assistance_refs", REF_COLUMNS, rows)


def write_deadletters(wh: Warehouse, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write dead-letter rows (keys: ``DEADLETTER_COLUMNS``; ``raw`` is bytes)."""
    _write(wh, "deadletters", DEADLETTER_COLUMNS, rows)


def write_alerts(wh: Warehouse, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write alert rows (keys: ``ALERT_COLUMNS``); an alert raised again replaces itself."""
    _write(wh, "alerts", ALERT_COLUMNS, rows)


# --- SQL builders (pure) -------------------------------------------------------------------


def latest_revisions_sql(
    where: str = "1",
    fields: Sequence[str] = WINNER_FIELDS,
    table: str = "facts",
    also: Sequence[str] = (),
) -> str:
    """One row per ``(partner_id, event_id)`` among rows of ``table`` (``facts`` or its narrow
    copy ``fact_revisions``) matching ``where``: ``fields`` of its winning row
    (:data:`WINNER_ORDER`; ``occurred_on`` is named ``day``), plus ``last_ingested_at`` and
    the aggregates in ``also`` (``"min(reported_at) AS first_reported_at"``) over all its
    revisions.

    Ask only for the fields you need: the winner is carried as one tuple, and its width is
    most of the cost.
    """
    unpack = ", ".join(
        f"tupleElement(w, {i}) AS {'day' if name == 'occurred_on' else name}"
        for i, name in enumerate(fields, start=1)
    )
    extra = "".join(f", {a}" for a in also)
    names = "".join(f", {a.rsplit(' AS ', 1)[-1]}" for a in also)
    return (
        f"SELECT partner_id, event_id, {unpack}, last_ingested_at{names} FROM ("
        f" SELECT partner_id, event_id,"
        f" argMax(tuple({', '.join(fields)}), {WINNER_ORDER}) AS w,"
        f" max(ingested_at) AS last_ingested_at{extra}"
        f" FROM {table} WHERE {where} GROUP BY partner_id, event_id)"
    )


def key_hash_sql(day_column: str) -> str:
    """SQL: the hash ``fact_keys.key_hash`` holds for an aggregate key (its columns as text,
    so a Date or a LowCardinality column hashes as its value does)."""
    return (
        "cityHash64("
        + ", ".join(f"toString({day_column if k == 'day' else k})" for k in AGGREGATE_KEY)
        + ")"
    )


def other_winners_sql() -> str:
    """``SELECT`` of the winning revisions (:data:`WINNER_FIELDS`, ``occurred_on`` named
    ``day``) of every event with a revision at one of the keys in ``{keys}`` (TSV of
    :data:`KEY_STRUCTURE`) but not among the events in ``{known}`` (TSV of
    ``partner_id, event_id``: the touched events, whose winners the caller has).

    The candidates are found in ``fact_keys`` (ordered by the aggregate key's day and hash:
    a stale row or a hash collision only adds a candidate, whose winner decides where it
    counts); their revisions in ``fact_revisions`` (ordered by event).
    """
    candidates = (
        "SELECT DISTINCT partner_id, event_id FROM fact_keys WHERE (occurred_on, key_hash) IN"
        f" (SELECT day, {key_hash_sql('day')} FROM {rows_of('keys', KEY_STRUCTURE)})"
        " AND (partner_id, event_id) NOT IN (SELECT partner_id, event_id FROM"
        f" {rows_of('known', 'partner_id String, event_id String')})"
    )
    return latest_revisions_sql(f"(partner_id, event_id) IN ({candidates})", table="fact_revisions")


#: What an aggregate row sums over the active winners at its key, besides ``events``.
SUMMED: tuple[str, ...] = (*CELLS, *MEASURES)


def sum_by_key(winners: Iterable[Mapping[str, Any]], keys: Sequence[tuple[Any, ...]]) -> list[Row]:
    """One aggregate row per key of ``keys`` (``AGGREGATE_COLUMNS`` but ``updated_at``, in
    the order of ``keys``): the active winners at it counted and summed, zeros where none is;
    a winner at a key outside ``keys`` is left out (its key did not change)."""
    sums: dict[tuple[Any, ...], list[Any]] = {key: [0] * (1 + len(SUMMED)) for key in keys}
    for winner in winners:
        if winner["status"] != "active":
            continue
        held = sums.get(tuple(winner[k] for k in AGGREGATE_KEY))
        if held is not None:
            held[0] += 1
            for i, column in enumerate(SUMMED, start=1):
                held[i] += winner[column]
    return [
        {
            **dict(zip(AGGREGATE_KEY, key, strict=True)),
            **dict(zip(("events", *SUMMED), values, strict=True)),
        }
        for key, values in sums.items()
    ]


def sum_cells_sql(target: str, source: str, cell: Sequence[str], param: str = "cells") -> str:
    """``INSERT ... SELECT`` rewriting the ``cell`` rows of ``target`` listed in ``{param}``
    as sums of ``events`` over ``source FINAL`` (ordered with ``cell`` as its prefix, so
    each cell is one short range)."""
    names = ", ".join(cell)
    structure = ", ".join(f"{c} {'Date' if c == 'day' else 'String'}" for c in cell)
    return (
        f"INSERT INTO {target} ({names}, events, updated_at)"
        f" SELECT {names}, sum(events), now64(6) FROM {source} FINAL"
        f" WHERE ({names}) IN (SELECT * FROM {rows_of(param, structure)})"
        f" GROUP BY {names}"
    )


#: The levels partner activity is summed through, finest first: (table, the table it sums,
#: its cell). ``partner_activity`` sums ``activity_days`` per partner and kind. A level per
#: region between ``key_totals`` and ``activity_days`` was dropped (migration 0082): one
#: range of ``key_totals`` per day cell costs less than a range per region cell and a second
#: statement (docs/warehouse.md, "Partner activity").
ACTIVITY_LEVELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("activity_days", "key_totals", ("partner_id", "kind", "day")),
)


def refresh_activity_sql() -> str:
    """``INSERT ... SELECT`` rewriting ``partner_activity`` for the partners in ``{partners}``:
    counted events and their last day summed from ``activity_days`` (one row per day the
    partner reported on), last report and last arrival from ``activity_marks``."""
    partners = "partner_id IN {partners:Array(String)}"
    return (
        f"INSERT INTO partner_activity ({', '.join(ACTIVITY_COLUMNS)})"
        " SELECT partner_id, kind, counted AS events, last_day AS last_occurred_on,"
        " last_report AS last_reported_at, last_arrival AS last_ingested_at,"
        " now64(6) AS updated_at"
        " FROM (SELECT partner_id, kind, sum(events) AS counted,"
        " maxIf(day, events > 0) AS last_day"
        f" FROM activity_days FINAL WHERE {partners} GROUP BY partner_id, kind) AS a"
        " FULL JOIN (SELECT partner_id, kind, max(last_reported_at) AS last_report,"
        " max(last_ingested_at) AS last_arrival"
        f" FROM activity_marks WHERE {partners} GROUP BY partner_id, kind) AS f"
        " USING (partner_id, kind)"
        " SETTINGS join_use_nulls = 0"
    )


# --- refreshes -----------------------------------------------------------------------------


def activity_marks(rows: Iterable[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The ``activity_marks`` rows of a refresh: per partner, kind and month of the touched
    keys, the latest report and arrival among the touched revisions, marked ``now``."""
    marks: dict[tuple[str, str, date], dict[str, Any]] = {}
    for row in rows:
        month = row["day"].replace(day=1)
        key = (row["partner_id"], row["kind"], month)
        mark = marks.get(key)
        if mark is None:
            marks[key] = {
                "partner_id": key[0],
                "kind": key[1],
                "month": month,
                "last_reported_at": row["last_reported_at"],
                "last_ingested_at": row["last_ingested_at"],
                "marked_at": now,
            }
        else:
            mark["last_reported_at"] = max(mark["last_reported_at"], row["last_reported_at"])
            mark["last_ingested_at"] = max(mark["last_ingested_at"], row["last_ingested_at"])
    return list(marks.values())


def refresh_aggregates(
    wh: Warehouse,
    touched: Iterable[tuple[str, str]],
    revisions: Sequence[Row] | None = None,
) -> int:
    """Recompute the daily aggregates of every key any revision of the touched
    ``(partner_id, event_id)`` events maps to; return how many keys were rewritten.
    ``revisions`` are those events' stored revisions when the caller has read them
    (:func:`warehouse.revisions.read_revisions`, shared with the first reports).

    Per event the highest revision wins (a retracted winner counts nowhere), so the result
    is the same whatever order revisions and duplicates were written in. The touched events'
    winners come from their revisions; the other events at those keys are looked up
    (:func:`other_winners_sql`); both are summed per key (:func:`sum_by_key`). The same totals go
    to ``key_totals`` and, summed per month, to ``monthly_aggregates``
    (:func:`warehouse.monthly.refresh_monthly`); the activity cells of those keys are then
    summed again level by level (:data:`ACTIVITY_LEVELS`) and the months marked as changed
    (``activity_marks``), for :func:`refresh_partner_activity` and
    :func:`warehouse.reconcile.reconcile`.
    """
    pairs = sorted(set(touched))
    if not pairs:
        return 0
    started = time.perf_counter()
    if revisions is None:
        revisions = read_revisions(wh, pairs)
    rows = touched_keys(revisions)
    if rows:
        keys = [tuple(row[k] for k in AGGREGATE_KEY) for row in rows]
        known = winners(revisions)
        others = wh.query(other_winners_sql(), {"keys": tsv(keys), "known": tsv(sorted(known))})
        totals = sum_by_key([*known.values(), *others], keys)
        now = datetime.now(UTC)
        columns = columnar("daily_aggregates", AGGREGATE_COLUMNS[:-1], totals)
        columns["updated_at"] = [now] * len(totals)
        wh.insert("daily_aggregates", columns)
        wh.insert("key_totals", {c: columns[c] for c in KEY_TOTAL_COLUMNS})
        refresh_monthly(wh, columns)
        for target, source, cell in ACTIVITY_LEVELS:
            cells = sorted({tuple(row[c] for c in cell) for row in rows})
            wh.command(sum_cells_sql(target, source, cell), {"cells": tsv(cells)})
        marks = activity_marks(rows, now)
        wh.insert("activity_marks", columnar("activity_marks", ACTIVITY_MARK_COLUMNS, marks))
    log.debug(
        "refreshed %d aggregate keys for %d events in %.3f s",
        len(rows),
        len(pairs),
        time.perf_counter() - started,
    )
    return len(rows)


def refresh_partner_activity(wh: Warehouse, partners: Iterable[str]) -> None:
    """Recompute ``partner_activity`` for ``partners``: per kind, the events counted and the
    last day they occurred on, the last ``reported_at`` and the last arrival of any revision.

    Counts come from the daily aggregates (through ``activity_days``) and times from the
    marks :func:`refresh_aggregates` leaves, so call this after it for the same batch.
    """
    names = sorted(set(partners))
    if names:
        wh.command(refresh_activity_sql(), {"partners": names})


# --- reads ---------------------------------------------------------------------------------

#: What a monthly total is grouped by, in order.
MONTH_GROUP: tuple[str, ...] = ("month", "partner_id", "kind", "region", "population_type")


def monthly_sql(source: str, events: str) -> str:
    group = ", ".join(MONTH_GROUP)
    sums = ", ".join(f"sum({c}) AS total_{c}" for c in CELLS)
    nonzero = " OR ".join(f"total_{c} > 0" for c in ("events", *CELLS))
    return (
        f"SELECT formatDateTime(day, '%Y-%m') AS month, partner_id, kind, region,"
        f" population_type, {events} AS total_events, {sums}"
        f" FROM {source} GROUP BY {group} HAVING {nonzero} ORDER BY {group}"
    )


def renamed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k.removeprefix("total_"): v for k, v in row.items()} for row in rows]


def totals_by_month(wh: Warehouse) -> list[dict[str, Any]]:
    """Events and the ten sex/age cells by month (``YYYY-MM``), partner, kind, region and
    population type, from the daily aggregates; all-zero groups left out."""
    return renamed(wh.query(monthly_sql("daily_aggregates FINAL", "sum(events)")))


def totals_from_facts(wh: Warehouse) -> list[dict[str, Any]]:
    """The same totals as :func:`totals_by_month`, computed straight from the facts (the
    winning revision of each event, retracted events left out)."""
    fields = ("status", "occurred_on", "kind", "region", "population_type", *CELLS)
    source = f"({latest_revisions_sql(fields=fields)}) WHERE status = 'active'"
    return renamed(wh.query(monthly_sql(source, "count()")))


#: Per table that holds SGBV rows, the condition that leaves them out (``sgbv=False``): every
#: table with a ``kind`` column (dead letters included: ``disclosure.rules.deadletter_kind``).
OPEN_ROWS: dict[str, str] = {
    table: "kind != 'sgbv'" for table, columns in TABLES.items() if "kind" in columns
}


def deadletter_counts(wh: Warehouse, *, sgbv: bool = True) -> dict[str, int]:
    """Dead-lettered messages by their first reason code (``""`` when there is none);
    ``sgbv=False`` leaves out those filed as SGBV (what may be shown)."""
    where = "" if sgbv else f" WHERE {OPEN_ROWS['deadletters']}"
    rows = wh.query(
        "SELECT if(empty(codes), '', codes[1]) AS code, count() AS n"
        f" FROM deadletters FINAL{where} GROUP BY code ORDER BY code"
    )
    return {row["code"]: int(row["n"]) for row in rows}


def table_counts(wh: Warehouse, *, sgbv: bool = True) -> dict[str, int]:
    """Stored rows of each hub table that exists (before background de-duplication);
    ``sgbv=False`` leaves SGBV rows out (a count of them is an SGBV number)."""
    present = {
        row["name"]
        for row in wh.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
            " AND name IN {names:Array(String)}",
            {"names": list(TABLES)},
        )
    }
    names = [name for name in TABLES if name in present]
    if not names:
        return {}

    def where(name: str) -> str:
        return "" if sgbv or name not in OPEN_ROWS else f" WHERE {OPEN_ROWS[name]}"

    union = " UNION ALL ".join(
        f"SELECT '{n}' AS name, count() AS n FROM {n}{where(n)}" for n in names
    )
    counts = {row["name"]: int(row["n"]) for row in wh.query(union)}
    return {name: counts[name] for name in names}
