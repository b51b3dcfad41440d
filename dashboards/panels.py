"""Panel constructors with the Grafana options each visualisation needs, and field overrides.

Field names a panel refers to (overrides, geomap layers, bar chart x field) are columns its
query returns; ``tests/dashboards/test_dashboards_queries.py`` checks that on the real engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboards.model import JSON, Panel, Query

#: Kazakhstan's middle, for map panels.
KAZAKHSTAN_CENTRE = (48.0, 67.0)


def _queries(sql: str | Sequence[str]) -> list[Query]:
    texts = [sql] if isinstance(sql, str) else list(sql)
    return [Query(text, ref_id=chr(ord("A") + i)) for i, text in enumerate(texts)]


def by_name(name: str, **properties: Any) -> JSON:
    """A field override for the column ``name``: ``displayName``, ``unit``, ``custom.*`` ..."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key.replace("__", "."), "value": v} for key, v in properties.items()],
    }


def labels(names: Mapping[str, str]) -> list[JSON]:
    """``displayName`` overrides: column -> label."""
    return [by_name(column, displayName=label) for column, label in names.items()]


def suppressed_mapping(threshold: int) -> list[JSON]:
    """How a withheld (NULL) SGBV figure is shown: not "<threshold", since a figure withheld
    to protect another may be any size."""
    return [
        {
            "options": {"match": "null", "result": {"text": "withheld"}},
            "type": "special",
        }
    ]


def stat(
    title: str,
    sql: str | Sequence[str],
    names: Mapping[str, str],
    *,
    width: int = 24,
    height: int = 4,
    unit: str = "short",
    description: str = "",
    mappings: Sequence[JSON] = (),
) -> Panel:
    """One big number per column of a one-row result, labelled by ``names``."""
    return Panel(
        title=title,
        type="stat",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options={
            "colorMode": "none",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "value_and_name",
            "wideLayout": True,
        },
        defaults={"unit": unit, "mappings": list(mappings), "noValue": "0"},
        overrides=labels(names),
    )


def table(
    title: str,
    sql: str | Sequence[str],
    names: Mapping[str, str],
    *,
    width: int = 24,
    height: int = 10,
    description: str = "",
    overrides: Sequence[JSON] = (),
    mappings: Sequence[JSON] = (),
    sort_by: str | None = None,
) -> Panel:
    """A table; ``names`` labels its columns."""
    options: JSON = {"cellHeight": "sm", "showHeader": True}
    if sort_by is not None:
        options["sortBy"] = [{"desc": True, "displayName": names.get(sort_by, sort_by)}]
    return Panel(
        title=title,
        type="table",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options=options,
        defaults={"custom": {"align": "auto"}, "mappings": list(mappings)},
        overrides=[*labels(names), *overrides],
    )


def bars(
    title: str,
    sql: str | Sequence[str],
    x: str,
    names: Mapping[str, str],
    *,
    width: int = 12,
    height: int = 8,
    horizontal: bool = True,
    stacked: bool = False,
    unit: str = "short",
    description: str = "",
    overrides: Sequence[JSON] = (),
    mappings: Sequence[JSON] = (),
) -> Panel:
    """A bar chart of the result's numeric columns against the category column ``x`` (which
    keeps its column name: the chart finds it by name)."""
    if x in names:
        raise ValueError(f"bar chart {title!r}: the x field {x!r} cannot be renamed")
    return Panel(
        title=title,
        type="barchart",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options={
            "barWidth": 0.8,
            "groupWidth": 0.7,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "orientation": "horizontal" if horizontal else "vertical",
            "showValue": "auto",
            "stacking": "normal" if stacked else "none",
            "tooltip": {"mode": "multi", "sort": "none"},
            "xField": x,
            "xTickLabelRotation": 0,
        },
        defaults={"unit": unit, "mappings": list(mappings)},
        overrides=[*labels(names), *overrides],
    )


def timeseries(
    title: str,
    sql: str | Sequence[str],
    names: Mapping[str, str],
    *,
    width: int = 24,
    height: int = 8,
    unit: str = "short",
    bars_style: bool = False,
    description: str = "",
    overrides: Sequence[JSON] = (),
) -> Panel:
    """A time series of a wide result: a ``time`` column, then one column per series."""
    return Panel(
        title=title,
        type="timeseries",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options={
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "none"},
        },
        defaults={
            "custom": {
                "drawStyle": "bars" if bars_style else "line",
                "fillOpacity": 60 if bars_style else 10,
                "lineWidth": 1,
                "showPoints": "auto",
                "spanNulls": False,
            },
            "unit": unit,
        },
        overrides=[*labels(names), *overrides],
    )


def gauges(
    title: str,
    sql: str | Sequence[str],
    names: Mapping[str, str],
    *,
    width: int = 12,
    height: int = 8,
    unit: str = "percent",
    maximum: float = 100,
    description: str = "",
) -> Panel:
    """Horizontal bar gauges, one per row (the first text column names it)."""
    return Panel(
        title=title,
        type="bargauge",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options={
            "displayMode": "gradient",
            "minVizHeight": 16,
            "orientation": "horizontal",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": True},
            "showUnfilled": True,
            "valueMode": "color",
        },
        defaults={
            "max": maximum,
            "min": 0,
            "thresholds": {
                "mode": "percentage",
                "steps": [
                    {"color": "red", "value": None},
                    {"color": "orange", "value": 50},
                    {"color": "green", "value": 90},
                ],
            },
            "unit": unit,
        },
        overrides=labels(names),
    )


def geomap(
    title: str,
    sql: str | Sequence[str],
    *,
    size: str,
    label: str,
    latitude: str = "latitude",
    longitude: str = "longitude",
    width: int = 12,
    height: int = 12,
    description: str = "",
) -> Panel:
    """Circles at the rows' coordinates, sized by the column ``size``, labelled by ``label``
    (fields are named by their columns: no display names, which the layer would not find)."""
    lat, lon = KAZAKHSTAN_CENTRE
    return Panel(
        title=title,
        type="geomap",
        queries=_queries(sql),
        width=width,
        height=height,
        description=description,
        options={
            "basemap": {"name": "Basemap", "type": "default"},
            "controls": {"mouseWheelZoom": False, "showAttribution": True, "showZoom": True},
            "layers": [
                {
                    "config": {
                        "showLegend": True,
                        "style": {
                            "color": {"fixed": "dark-green"},
                            "opacity": 0.6,
                            "size": {"field": size, "fixed": 5, "max": 40, "min": 4},
                            "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                            "text": {"field": label, "fixed": "", "mode": "field"},
                            "textConfig": {
                                "fontSize": 11,
                                "offsetX": 0,
                                "offsetY": -14,
                                "textAlign": "center",
                                "textBaseline": "middle",
                            },
                        },
                    },
                    "location": {"latitude": latitude, "longitude": longitude, "mode": "coords"},
                    "name": title,
                    "tooltip": True,
                    "type": "markers",
                }
            ],
            "tooltip": {"mode": "details"},
            "view": {"id": "coords", "lat": lat, "lon": lon, "zoom": 4},
        },
        defaults={"unit": "short"},
    )
