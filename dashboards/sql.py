"""SQL pieces the dashboards share: filters on template variables (percent-encoded, so a
value cannot leave its string literal), reference data inlined as ``VALUES`` tables. SGBV
figures are never computed here: the SGBV dashboard reads the disclosure engine's published
figures (``dashboards.sgbv``).

Panels read the de-duplicated tables only: the aggregates (:data:`AGGREGATES`, month rows
where the period allows, day rows at its edges), ``partner_activity FINAL``, ``alerts
FINAL``, ``deadletters FINAL`` (never its ``raw`` or ``reasons`` columns, which the
dashboard user may not read) and, for pipeline health and timeliness, ``facts``.
``assistance_refs`` is never read. Outside the SGBV dashboard no SGBV row is read
(:data:`NOT_SGBV`, on dead letters too: the database enforces the same filters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from schemas.refdata import Partner, Region, Target
from schemas.vocabulary import AGE_BRACKETS, CELLS, Sex
from warehouse.tables import AGGREGATE_COLUMNS, INDICATOR_GROUP, from_indicator

#: People reached: the sum of the ten sex/age cells.
PEOPLE = " + ".join(CELLS)
#: Rows that are not SGBV: the row filter the dashboard user's ``facts``, ``daily_aggregates``
#: and ``partner_activity`` carry (``deploy/clickhouse/users.d/partnerhub.xml``).
NOT_SGBV = "kind != 'sgbv'"
#: The columns of an aggregate row after its day (or month).
_VALUES = ", ".join(AGGREGATE_COLUMNS[1:-1])
#: The columns of a ``monthly_groups`` row after its month: the indicator's group for the
#: indicator.
_GROUP_COLUMNS = tuple(
    "indicator_group" if c == "indicator" else c for c in AGGREGATE_COLUMNS[1:-1]
)
_GROUP_VALUES = ", ".join(_GROUP_COLUMNS)
#: The same without the indicator (the columns of ``monthly_totals`` but its month).
_TOTAL_VALUES = ", ".join(c for c in AGGREGATE_COLUMNS[1:-1] if c != "indicator")


def in_period(month_table: str, columns: str, daily_columns: str | None = None) -> str:
    """SQL: the daily aggregates of the dashboard's period (``columns`` after ``day``), SGBV
    left out, read at the coarsest grain the period allows: ``month_table`` for the months
    wholly inside it (as rows dated the month's first day), ``daily_aggregates`` for the days
    of the months at its edges (selecting ``daily_columns``, default ``columns``). A panel
    filtering on ``$__timeFilter(day)`` and grouping by month or coarser gets what it got from
    the daily rows; panels must not group by day."""
    return (
        f"(SELECT month AS day, {columns} FROM {month_table} FINAL"
        " WHERE month >= $__fromTime AND toLastDayOfMonth(month) <= $__toTime"
        f" UNION ALL SELECT day, {daily_columns or columns} FROM daily_aggregates FINAL"
        " WHERE $__timeFilter(day)"
        " AND (toStartOfMonth(day) < $__fromTime OR toLastDayOfMonth(day) > $__toTime)"
        f" AND {NOT_SGBV})"
    )


#: The aggregates of the period, every column (``monthly_aggregates`` where it can).
AGGREGATES = in_period("monthly_aggregates", _VALUES)
#: The aggregates of the period with the indicator's group (its first part: an audience)
#: in place of the indicator, as ``indicator_group`` (``monthly_groups`` where it can): for
#: panels that show no more of the indicator than that.
GROUPS = in_period(
    "monthly_groups",
    _GROUP_VALUES,
    ", ".join(from_indicator(c) for c in _GROUP_COLUMNS),
)
#: The aggregates of the period without the indicator (``monthly_totals`` where it can):
#: for panels that show no indicator, ~30x fewer rows than :data:`AGGREGATES` at 10 M facts.
TOTALS = in_period("monthly_totals", _TOTAL_VALUES)
#: Every month of the aggregates (SGBV left out), as rows dated the month's first day: for
#: panels whose period is whole years or months chosen by a variable, not the time picker.
MONTHS = f"(SELECT month AS day, {_VALUES} FROM monthly_aggregates FINAL)"
#: The same of ``monthly_groups``: the indicator's group (``indicator_group``) for the indicator.
GROUP_MONTHS = f"(SELECT month AS day, {_GROUP_VALUES} FROM monthly_groups FINAL)"


def indicator_part(index: int) -> str:
    """SQL: part ``index`` (1-based) of an indicator (``audience.topic``,
    ``procedure.instance.stage``). The first part as :data:`INDICATOR_GROUP`: a string function
    of a LowCardinality column runs once per distinct value, an array's element per row."""
    if index == 1:
        return INDICATOR_GROUP
    return f"splitByChar('.', indicator)[{index}]"


def sum_people(condition: str | None = None) -> str:
    """``sum`` of the ten cells, or ``sumIf`` under ``condition``."""
    if condition is None:
        return f"sum({PEOPLE})"
    return f"sumIf({PEOPLE}, {condition})"


def literal(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def variable_text(variable: str) -> str:
    """SQL: a single-value variable's value as a string. Grafana pastes variable values into
    the SQL as text, so the value travels percent-encoded (Grafana's ``percentencode`` format
    leaves only ``A-Za-z0-9-_.~`` and ``%``): whatever a viewer sets in the URL stays inside
    its string literal, and ClickHouse decodes it."""
    return f"decodeURLComponent('${{{variable}:percentencode}}')"


def variable_values(variable: str) -> str:
    """SQL: a multi-value variable's selected values as ``Array(String)`` ("All" is every
    option; Grafana percent-encodes a list as ``{a,b}``), out of SQL's reach as in
    :func:`variable_text`."""
    braces = "'^[{]|[}]$'"
    return f"splitByChar(',', replaceRegexpAll({variable_text(variable)}, {braces}, ''))"


def in_variable(column: str, variable: str) -> str:
    """``column`` is among the values selected in a multi-value variable. As a set built once
    (``IN`` a subquery): ``has()`` of the array compared every row with every value, 3x the
    cost of a panel over a year of month rows at 10 M facts."""
    return f"{column} IN (SELECT arrayJoin({variable_values(variable)}))"


def where(*conditions: str) -> str:
    return " AND ".join(c for c in conditions if c)


# --- reference data as inline tables ---------------------------------------------------------


def values_table(structure: str, rows: Iterable[Sequence[object]]) -> str:
    """A ``VALUES`` table function holding ``rows`` (str, int and float cells)."""

    def cell(value: object) -> str:
        if isinstance(value, str):
            return literal(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"unsupported cell {value!r}")
        return repr(value)

    body = ", ".join("(" + ", ".join(cell(v) for v in row) + ")" for row in rows)
    return f"VALUES({literal(structure)}, {body})"


def regions_table(regions: Mapping[str, Region]) -> str:
    """``code, name, latitude, longitude`` of every region, from the reference data."""
    rows = [(r.code, r.name_en, r.lat, r.lon) for r in sorted(regions.values(), key=_code)]
    return values_table("code String, name String, latitude Float64, longitude Float64", rows)


def _code(region: Region) -> str:
    return region.code


def name_of(column: str, names: Mapping[str, str]) -> str:
    """``column``'s display name from ``names``, or the code itself when it has none."""
    codes = sorted(names)
    keys = ", ".join(literal(c) for c in codes)
    labels = ", ".join(literal(names[c]) for c in codes)
    return f"transform({column}, [{keys}], [{labels}], {column})"


def partner_names(partners: Mapping[str, Partner]) -> dict[str, str]:
    return {code: p.name for code, p in partners.items()}


def mandates_table(partners: Mapping[str, Partner]) -> str:
    """``partner_id, kind``: every kind each partner is mandated to report."""
    rows = sorted((p.code, k.value) for p in partners.values() for k in p.kinds)
    return values_table("partner_id String, kind String", rows)


def targets_table(targets: Sequence[Target]) -> str:
    """The planning targets (empty population type, origin or region meaning "all")."""
    rows = [
        (
            t.year,
            t.kind.value,
            t.indicator,
            t.population_type.value if t.population_type else "",
            t.origin or "",
            t.region or "",
            t.measure,
            t.target,
        )
        for t in targets
    ]
    structure = (
        "year UInt16, kind String, indicator String, population_type String, origin String,"
        " region String, measure String, target UInt64"
    )
    return values_table(structure, rows)


# --- the sex/age cells, long -------------------------------------------------------------------


def cell_sums(source: str, condition: str) -> str:
    """SQL: one row with the ten cells of ``source`` summed under ``condition``, named
    ``total_<cell>``."""
    sums = ", ".join(f"sum({c}) AS total_{c}" for c in CELLS)
    return f"SELECT {sums} FROM {source} WHERE {condition}"


def cells_long(sums: str) -> str:
    """One row per sex/age cell of ``sums`` (a :func:`cell_sums` query): ``sex, age,
    position, people`` (``position`` orders the cells, female first, youngest first)."""
    sexes = ", ".join(literal(c.split("_")[0]) for c in CELLS)
    ages = ", ".join(literal(b) for _ in Sex for b in AGE_BRACKETS)
    values = ", ".join(f"total_{c}" for c in CELLS)
    return (
        "SELECT cell.1 AS sex, cell.2 AS age, cell.3 AS position, cell.4 AS people FROM ("
        f" SELECT arrayJoin(arrayZip([{sexes}], [{ages}], range(1, {len(CELLS) + 1}),"
        f" [{values}])) AS cell FROM ({sums}))"
    )


def age_order() -> str:
    """The age brackets' order, for sorting."""
    brackets = ", ".join(literal(b) for b in AGE_BRACKETS)
    return f"indexOf([{brackets}], age)"
