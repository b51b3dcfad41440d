"""What Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it.

Two steps, in the order Grafana runs them:

1. :func:`interpolate_variables`, in the browser: template variables (``$name``,
   ``${name}``, ``${name:format}``, ``[[name]]``) replaced by their values. The regular
   expression and the formats follow Grafana's scenes (``packages/scenes/src/variables/
   constants.ts`` ``VARIABLE_REGEX``, ``interpolation/formatRegistry.ts``); without an explicit
   format the ClickHouse plugin's own formatter applies (``src/data/CHDatasource.ts``
   ``format``: a list becomes ``'a','b'``, a single value is inserted as it is). A name that is
   no variable is left as written, as Grafana does.
2. :func:`expand_macros`, in the plugin's backend: the ``$__`` macros of
   grafana/clickhouse-datasource v4.11.2 (the version docker-compose.yml installs),
   ``pkg/macros/macros.go``, on top of grafana-plugin-sdk-go v0.280.0's defaults and its
   expansion loop (``data/sqlutil/macros.go``: longest macro name first, ``\\$__name\\b``,
   arguments split on top-level commas and trimmed, every occurrence of the same text
   replaced at once).

Both are pure functions, so tests can run a panel's SQL on the real engine exactly as a
dashboard would send it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

VariableValue = str | Sequence[str]


class MacroError(ValueError):
    """A macro was written wrongly (wrong argument count, unclosed bracket)."""


@dataclass(frozen=True)
class QueryContext:
    """What the plugin knows when it expands macros: the dashboard's time range and the
    panel's interval (Grafana picks it from the range and the panel width)."""

    time_from: datetime
    time_to: datetime
    interval: timedelta = timedelta(hours=1)


# --- step 1: template variables --------------------------------------------------------------

#: Grafana's variable syntax (scenes ``VARIABLE_REGEX``; field paths are not used here).
VARIABLE_REGEX = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)((?:\.[^:^{}\[\]]+)*)(?::([^}]+))?\}"
)


def _quoted(value: str, quote: str) -> str:
    return quote + value.replace(quote, "\\" + quote) + quote


def _each(value: VariableValue, one: Callable[[str], str], sep: str = ",") -> str:
    return one(value) if isinstance(value, str) else sep.join(one(v) for v in value)


def _plugin_format(value: VariableValue) -> str:
    """The ClickHouse plugin's formatter, used when a reference names no format."""
    if isinstance(value, str):
        return value
    return "'" + "','".join(value) + "'"


#: Grafana's formats used (or worth recognising) in SQL, by the name after the colon.
FORMATS: dict[str, Callable[[VariableValue], str]] = {
    "raw": lambda v: v if isinstance(v, str) else ",".join(v),
    "csv": lambda v: v if isinstance(v, str) else ",".join(v),
    "pipe": lambda v: v if isinstance(v, str) else "|".join(v),
    "singlequote": lambda v: _each(v, lambda s: _quoted(s, "'")),
    "doublequote": lambda v: _each(v, lambda s: _quoted(s, '"')),
    "sqlstring": lambda v: _each(v, lambda s: "'" + s.replace("'", "''") + "'"),
    "json": lambda v: json.dumps(v if isinstance(v, str) else list(v)),
    # encodeURIComponentStrict: encodeURIComponent, plus !'()* escaped.
    "percentencode": lambda v: quote(v if isinstance(v, str) else "{" + ",".join(v) + "}", "-_.~"),
}


def interpolate_variables(sql: str, variables: Mapping[str, VariableValue]) -> str:
    """``sql`` with every reference to a variable in ``variables`` replaced by its formatted
    value (a list for a multi-value selection; "All" is the list of every option)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        if fmt is None:
            return _plugin_format(value)
        formatter = FORMATS.get(fmt.split(":")[0])
        if formatter is None:
            raise ValueError(f"variable ${{{name}:{fmt}}}: format {fmt!r} is not supported")
        return formatter(value)

    return VARIABLE_REGEX.sub(replace, sql)


# --- step 2: the plugin's macros -------------------------------------------------------------


def _to_datetime(t: datetime) -> str:
    return f"toDateTime({math.floor(t.timestamp())})"


def _to_datetime64(t: datetime) -> str:
    return f"fromUnixTimestamp64Milli({math.floor(t.timestamp() * 1000)})"


def _to_date(t: datetime) -> str:
    # Go formats the time in its own location; the plugin's container runs in UTC.
    return f"toDate('{t.astimezone(UTC):%Y-%m-%d}')"


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _args(name: str, args: list[str] | None, count: int) -> list[str]:
    got = len(args or [])
    if got != count:
        raise MacroError(f"$__{name}: expected {count} argument(s), received {got}")
    return args or []


def _format_interval(interval: timedelta) -> str:
    """grafana-plugin-sdk-go ``gtime.FormatInterval``."""
    ms = interval // timedelta(milliseconds=1)
    for unit, size in (
        ("y", 365 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ):
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def _seconds(ctx: QueryContext) -> int:
    return int(max(ctx.interval.total_seconds(), 1))


Macro = Callable[[QueryContext, list[str] | None], str]


def _time_filter(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeFilter", args, 1)
    return f"{col} >= {_to_datetime(ctx.time_from)} AND {col} <= {_to_datetime(ctx.time_to)}"


def _time_filter_ms(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeFilter_ms", args, 1)
    lo, hi = _to_datetime64(ctx.time_from), _to_datetime64(ctx.time_to)
    return f"{col} >= {lo} AND {col} <= {hi}"


def _date_filter(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("dateFilter", args, 1)
    return f"{col} >= {_to_date(ctx.time_from)} AND {col} <= {_to_date(ctx.time_to)}"


def _date_time_filter(ctx: QueryContext, args: list[str] | None) -> str:
    date_col, time_col = _args("dateTimeFilter", args, 2)
    dates = f"({date_col} >= {_to_date(ctx.time_from)} AND {date_col} <= {_to_date(ctx.time_to)})"
    lo, hi = _to_datetime(ctx.time_from), _to_datetime(ctx.time_to)
    return f"{dates} AND ({time_col} >= {lo} AND {time_col} <= {hi})"


def _time_interval(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeInterval", args, 1)
    return f"toStartOfInterval(toDateTime({col}), INTERVAL {_seconds(ctx)} second)"


def _time_interval_ms(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeInterval_ms", args, 1)
    ms = int(max(ctx.interval // timedelta(milliseconds=1), 1))
    return f"toStartOfInterval(toDateTime64({col}, 3), INTERVAL {ms} millisecond)"


def _time_from(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeFrom", args, 1)
    return f"{col} >= '{_rfc3339(ctx.time_from)}'"


def _time_to(ctx: QueryContext, args: list[str] | None) -> str:
    (col,) = _args("timeTo", args, 1)
    return f"{col} <= '{_rfc3339(ctx.time_to)}'"


#: The macros of plugin v4.11.2 and the SDK defaults it keeps. ``$__timeGroup`` (the SDK's
#: default writes SQL Server's ``datepart``), ``$__table`` and ``$__column`` (query-builder
#: only) are left out: a dashboard here must not use them, and expanding one is an error.
MACROS: dict[str, Macro] = {
    "fromTime": lambda ctx, _: _to_datetime(ctx.time_from),
    "toTime": lambda ctx, _: _to_datetime(ctx.time_to),
    "fromTime_ms": lambda ctx, _: _to_datetime64(ctx.time_from),
    "toTime_ms": lambda ctx, _: _to_datetime64(ctx.time_to),
    "timeFilter": _time_filter,
    "timeFilter_ms": _time_filter_ms,
    "dateFilter": _date_filter,
    "dateTimeFilter": _date_time_filter,
    "dt": _date_time_filter,
    "timeInterval": _time_interval,
    "timeInterval_ms": _time_interval_ms,
    "interval_s": lambda ctx, _: str(_seconds(ctx)),
    "interval": lambda ctx, _: _format_interval(ctx.interval),
    "interval_ms": lambda ctx, _: str(ctx.interval // timedelta(milliseconds=1)),
    "timeFrom": _time_from,
    "timeTo": _time_to,
}
UNSUPPORTED: frozenset[str] = frozenset({"timeGroup", "table", "column"})


def _parse_args(text: str) -> tuple[list[str] | None, int]:
    """sqlutil ``parseArgs``: the bracketed, comma-separated arguments at the start of
    ``text`` and the length they take; ``(None, 0)`` without a bracket."""
    if not text.startswith("("):
        return None, 0
    args: list[str] = []
    depth = 0
    arg: list[str] = []
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
            if depth == 1:
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(arg).strip())
                return args, i + 1
        elif char == "," and depth == 1:
            args.append("".join(arg).strip())
            arg = []
            continue
        arg.append(char)
    raise MacroError("failed to parse macro arguments (missing close bracket?)")


def expand_macros(sql: str, ctx: QueryContext) -> str:
    """``sql`` with the plugin's ``$__`` macros expanded as its backend does."""
    for name in UNSUPPORTED:
        if re.search(rf"\$__{name}\b", sql, re.ASCII):
            raise MacroError(f"$__{name} is not supported by the hub's dashboards")
    # Longest names first, so $__timeFilter_ms is not taken for $__timeFilter (Go sorts by
    # length only; among equal lengths the order cannot matter, as no name is another's prefix
    # of the same length).
    for name in sorted(MACROS, key=len, reverse=True):
        pattern = re.compile(rf"\$__{name}\b", re.ASCII)
        matches: list[tuple[str, list[str] | None]] = []
        for found in pattern.finditer(sql):
            args, length = _parse_args(sql[found.end() :])
            matches.append((sql[found.start() : found.end() + length], args))
        for full, args in matches:
            sql = sql.replace(full, MACROS[name](ctx, args))
    return sql


def render_sql(sql: str, ctx: QueryContext, variables: Mapping[str, VariableValue]) -> str:
    """A panel's SQL as ClickHouse receives it: variables first (browser), then macros."""
    return expand_macros(interpolate_variables(sql, variables), ctx)
