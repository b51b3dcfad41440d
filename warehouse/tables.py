"""The warehouse's tables and their columns, in one place.

The DDL lives in ``warehouse/migrations``; these tuples name the columns writers must supply
(in table order) and the keys readers group by.
``tests/warehouse/test_warehouse_contract.py`` checks them against ``system.columns``.
"""

from __future__ import annotations

from schemas.vocabulary import CELLS

#: ``facts``: one row per accepted event revision; rows from the stream have exactly these keys.
FACT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "revision",
    "status",
    "partner_id",
    "kind",
    "occurred_on",
    "reported_at",
    "region",
    "population_type",
    "origin",
    "indicator",
    *CELLS,
    "quantity",
    "unit",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
    "services",
    "ref_count",
    "payload",
    "topic",
    "partition",
    "offset",
    "published_at",
    "ingested_at",
)

#: ``assistance_refs``: one row per beneficiary ref of an assistance event revision.
REF_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "event_id",
    "revision",
    "month",
    "category",
    "ref",
    "ingested_at",
)

#: The key of a daily aggregate: what a total is "per".
AGGREGATE_KEY: tuple[str, ...] = (
    "day",
    "partner_id",
    "region",
    "kind",
    "population_type",
    "origin",
    "indicator",
)

#: Additive measures of an aggregate besides ``events`` and the ten cells: the one list a new
#: measure column is added to (with an ``ALTER TABLE ... ADD COLUMN`` of ``facts``,
#: ``fact_revisions``, ``daily_aggregates`` and the roll-up rows in a migration). Every
#: refresh, lookup and reconciliation query is built from it.
MEASURES: tuple[str, ...] = (
    "quantity",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
)

#: ``daily_aggregates``: totals per key, rewritten for the keys each sink batch touched.
AGGREGATE_COLUMNS: tuple[str, ...] = (
    *AGGREGATE_KEY,
    "events",
    *CELLS,
    *MEASURES,
    "updated_at",
)

#: ``fact_revisions``: the narrow copy of every fact revision the refresh looks events up in,
#: ordered by ``(partner_id, event_id)`` (``facts`` column names; a subset of a fact row).
FACT_REVISION_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "event_id",
    "revision",
    "ingested_at",
    "offset",
    "status",
    "occurred_on",
    "reported_at",
    "region",
    "kind",
    "population_type",
    "origin",
    "indicator",
    *CELLS,
    # The unit beside the quantity, as in facts (0019: roll-ups list the units reported).
    *MEASURES[:1],
    "unit",
    *MEASURES[1:],
)

#: ``fact_keys``: one row per (aggregate key, event), indexed by day and key hash (the day is
#: named ``occurred_on``, as in a fact row); the columns written (``key_hash`` is computed).
FACT_KEY_COLUMNS: tuple[str, ...] = (
    "occurred_on",
    *AGGREGATE_KEY[1:],
    "event_id",
)

#: ``key_totals``: the events of each aggregate key, ordered by partner, kind, day, region.
KEY_TOTAL_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "kind",
    "day",
    "region",
    "population_type",
    "origin",
    "indicator",
    "events",
    "updated_at",
)

#: ``activity_days``: events counted per partner, kind and day.
ACTIVITY_DAY_COLUMNS: tuple[str, ...] = ("partner_id", "kind", "day", "events", "updated_at")

#: ``activity_marks``: latest report and arrival per partner, kind and month (merged by max).
ACTIVITY_MARK_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "kind",
    "month",
    "last_reported_at",
    "last_ingested_at",
    "marked_at",
)

#: ``reconciliations``: when each month was last reconciled and what was found.
RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "month",
    "checked_at",
    "marks_through",
    "totals",
    "differing",
)

#: The key of a monthly aggregate: the daily key with the month for the day.
MONTH_KEY: tuple[str, ...] = ("month", *AGGREGATE_KEY[1:])

#: ``monthly_aggregates``: the daily aggregates summed per month key (no SGBV row), what the
#: dashboards read; rewritten for the month keys each sink batch touched.
MONTHLY_COLUMNS: tuple[str, ...] = (
    *MONTH_KEY,
    "events",
    *CELLS,
    *MEASURES,
    "updated_at",
)

#: The key of a monthly total: the month key without the indicator, kind first (the order of
#: ``monthly_aggregates``, whose prefix it is); the groups a refresh recomputes.
TOTALS_KEY: tuple[str, ...] = (
    "kind",
    "month",
    "partner_id",
    "region",
    "population_type",
    "origin",
)


def first_part(column: str) -> str:
    """SQL: the first part of the indicator (or indicator pattern) in ``column``
    (``border_guards`` of ``border_guards.rsd``; one without a ``.`` is its own first part)."""
    return f"substringIndex({column}, '.', 1)"


#: SQL: an indicator's group, its first part.
INDICATOR_GROUP = first_part("indicator")


def from_indicator(column: str) -> str:
    """SQL selecting a grain's key ``column`` from rows that have an ``indicator`` (the daily
    or month rows): ``indicator_group`` is computed (:data:`INDICATOR_GROUP`), any other
    column is read as it is."""
    return f"{INDICATOR_GROUP} AS indicator_group" if column == "indicator_group" else column


#: The key of a monthly group: :data:`TOTALS_KEY` and the indicator's group.
GROUPS_KEY: tuple[str, ...] = (*TOTALS_KEY, "indicator_group")

#: ``monthly_groups``: ``monthly_aggregates`` summed per :data:`GROUPS_KEY`, for the panels
#: that show no more of the indicator than its first part (an audience); rewritten for the
#: groups of :data:`TOTALS_KEY` each sink batch touched.
MONTHLY_GROUP_COLUMNS: tuple[str, ...] = (
    *GROUPS_KEY,
    "events",
    *CELLS,
    *MEASURES,
    "updated_at",
)

#: ``monthly_totals``: ``monthly_groups`` summed per :data:`TOTALS_KEY`, for the panels that
#: show no indicator; rewritten for the groups each sink batch touched.
MONTHLY_TOTAL_COLUMNS: tuple[str, ...] = (
    *TOTALS_KEY,
    "events",
    *CELLS,
    *MEASURES,
    "updated_at",
)

#: ``month_group_days``: the daily aggregates (no SGBV row) ordered by their monthly-totals
#: group (:data:`TOTALS_KEY`), then indicator and day: the access path the month grains are
#: recomputed through (migration 0083; ``month_days``, ordered by a hash of the month key,
#: before it).
MONTH_DAY_COLUMNS: tuple[str, ...] = AGGREGATE_COLUMNS

#: ``deadletters``: every rejected message (or bulk message element: ``event_index``, -1 for
#: the message as a whole) with its original bytes and reasons; ``kind`` is ``sgbv`` when the
#: topic or the bytes name SGBV (``disclosure.rules.deadletter_kind``, migration 0081).
DEADLETTER_COLUMNS: tuple[str, ...] = (
    "topic",
    "kind",
    "partition",
    "offset",
    "event_index",
    "partner_id",
    "codes",
    "reasons",
    "raw",
    "published_at",
    "received_at",
)

#: ``partner_activity``: per partner and kind, how much was reported and when last.
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "kind",
    "events",
    "last_occurred_on",
    "last_reported_at",
    "last_ingested_at",
    "updated_at",
)

#: ``alerts``: duplicate-assistance and silent-partner signals.
ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id",
    "alert_type",
    "raised_at",
    "month",
    "category",
    "partners",
    "overlap",
    "details",
)

#: Every table the migrations create, with its columns in table order.
#: The key of a roll-up row (a month's totals, by ...).
ROLLUP_KEY: tuple[str, ...] = (
    "partner_id",
    "region",
    "kind",
    "population_type",
    "origin",
    "indicator",
)

#: ``rollup_versions``: one row per stored version of a month's roll-up.
ROLLUP_VERSION_COLUMNS: tuple[str, ...] = (
    "month",
    "version",
    "created_at",
    "created_by",
    "checksum",
    "row_count",
    "events",
    "persons",
    "facts_through",
    "changes",
    "reconciliation",
    "differing_keys",
)

#: ``rollup_rows``: the exact totals of each version, one row per key.
ROLLUP_ROW_COLUMNS: tuple[str, ...] = (
    "month",
    "version",
    "checksum",
    *ROLLUP_KEY,
    "events",
    *CELLS,
    "quantity",
    "units",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
)

#: ``first_reports``: per event (SGBV left out) its winning revision 1's day and delay in days;
#: a row at a day the event no longer names is a tombstone (``warehouse.first_reports``).
FIRST_REPORT_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "kind",
    "occurred_on",
    "event_id",
    "delay_days",
    "version",
    "is_deleted",
)

#: ``first_report_days``: per partner, kind and day, events and how many were first reported
#: ``d`` days after the day (``by_delay[d + 1]``).
FIRST_REPORT_DAY_COLUMNS: tuple[str, ...] = (
    "partner_id",
    "kind",
    "day",
    "events",
    "by_delay",
    "updated_at",
)

TABLES: dict[str, tuple[str, ...]] = {
    "facts": FACT_COLUMNS,
    "assistance_refs": REF_COLUMNS,
    "daily_aggregates": AGGREGATE_COLUMNS,
    "deadletters": DEADLETTER_COLUMNS,
    "partner_activity": ACTIVITY_COLUMNS,
    "alerts": ALERT_COLUMNS,
    "rollup_versions": ROLLUP_VERSION_COLUMNS,
    "rollup_rows": ROLLUP_ROW_COLUMNS,
    "fact_revisions": FACT_REVISION_COLUMNS,
    "fact_keys": (*FACT_KEY_COLUMNS, "key_hash"),
    "activity_days": ACTIVITY_DAY_COLUMNS,
    "key_totals": KEY_TOTAL_COLUMNS,
    "activity_marks": ACTIVITY_MARK_COLUMNS,
    "reconciliations": RECONCILIATION_COLUMNS,
    "month_group_days": MONTH_DAY_COLUMNS,
    "monthly_aggregates": MONTHLY_COLUMNS,
    "monthly_groups": MONTHLY_GROUP_COLUMNS,
    "monthly_totals": MONTHLY_TOTAL_COLUMNS,
    "first_reports": FIRST_REPORT_COLUMNS,
    "first_report_days": FIRST_REPORT_DAY_COLUMNS,
}

#: The table that records applied migrations (created by ``warehouse.migrate``).
MIGRATIONS_TABLE = "schema_migrations"
