"""A small typed model of Grafana dashboards, rendered to the JSON Grafana provisions from files.

Only what the hub's dashboards use: SQL queries for the ClickHouse data source, panels laid out
left to right on Grafana's 24-column grid, and query / custom / constant template variables.
Rendering is deterministic: the same model always gives the same JSON (panel ids and grid
positions follow the panel order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]

#: Grafana's grid is 24 columns wide.
GRID_WIDTH = 24
#: The dashboard JSON schema version the panels are written for (Grafana 11.x / 12.x).
SCHEMA_VERSION = 41
#: The ClickHouse plugin the provisioning installs (docker-compose.yml pins it).
CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"
CLICKHOUSE_PLUGIN_VERSION = "4.11.2"
#: The plugin's query formats (sqlds): 1 is a table frame, used for every panel here.
FORMAT_TABLE = 1


@dataclass(frozen=True)
class Query:
    """One SQL query of a panel, run by the ClickHouse data source."""

    sql: str
    ref_id: str = "A"

    def to_json(self, datasource: JSON) -> JSON:
        return {
            "datasource": datasource,
            "editorType": "sql",
            "format": FORMAT_TABLE,
            "pluginVersion": CLICKHOUSE_PLUGIN_VERSION,
            "queryType": "table",
            "rawSql": self.sql,
            "refId": self.ref_id,
        }


@dataclass(frozen=True)
class Panel:
    """A panel: its type, queries, size and the Grafana options it needs, as plain JSON."""

    title: str
    type: str
    queries: Sequence[Query]
    width: int = 12
    height: int = 8
    description: str = ""
    options: JSON = field(default_factory=dict)
    defaults: JSON = field(default_factory=dict)
    overrides: Sequence[JSON] = ()
    transformations: Sequence[JSON] = ()

    def to_json(self, panel_id: int, grid: JSON, datasource: JSON) -> JSON:
        out: JSON = {
            "datasource": datasource,
            "fieldConfig": {"defaults": self.defaults, "overrides": list(self.overrides)},
            "gridPos": grid,
            "id": panel_id,
            "options": self.options,
            "targets": [q.to_json(datasource) for q in self.queries],
            "title": self.title,
            "type": self.type,
        }
        if self.description:
            out["description"] = self.description
        if self.transformations:
            out["transformations"] = list(self.transformations)
        return out


@dataclass(frozen=True)
class Text:
    """A markdown panel: no query."""

    content: str
    title: str = ""
    width: int = 24
    height: int = 3

    def to_json(self, panel_id: int, grid: JSON, datasource: JSON) -> JSON:
        return {
            "gridPos": grid,
            "id": panel_id,
            "options": {"content": self.content, "mode": "markdown"},
            "title": self.title,
            "type": "text",
        }


@dataclass(frozen=True)
class Variable:
    """A template variable: ``query`` (SQL run by the data source), ``custom`` (comma-separated
    values) or ``constant``."""

    name: str
    label: str
    kind: Literal["query", "custom", "constant"]
    query: str
    multi: bool = True
    include_all: bool = True
    #: For a single-valued variable, the value selected when the dashboard opens.
    default: str | None = None
    hidden: bool = False

    def to_json(self, datasource: JSON) -> JSON:
        current: JSON = {}
        if self.default is not None:
            current = {"text": self.default, "value": self.default}
        elif self.include_all:
            all_value: JSON = {"text": "All", "value": "$__all"}
            current = {k: [v] for k, v in all_value.items()} if self.multi else all_value
        out: JSON = {
            "current": current,
            "hide": 2 if self.hidden or self.kind == "constant" else 0,
            "includeAll": self.include_all,
            "label": self.label,
            "multi": self.multi,
            "name": self.name,
            "options": [],
            "query": self.query,
            "skipUrlSync": False,
            "type": self.kind,
        }
        if self.kind == "query":
            out.update(datasource=datasource, definition=self.query, refresh=1, sort=0)
        return out


Item = Panel | Text


@dataclass(frozen=True)
class Dashboard:
    """A dashboard with a stable uid; panels flow left to right, wrapping at 24 columns."""

    uid: str
    title: str
    description: str
    panels: Sequence[Item]
    variables: Sequence[Variable] = ()
    tags: Sequence[str] = ()
    time_from: str = "now-1y"
    time_to: str = "now"
    refresh: str = "1m"
    #: A data source of its own for every panel and variable (the SGBV dashboard's); ``None``:
    #: the hub's main data source, given when rendering.
    datasource_uid: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.uid}.json"

    def queries(self) -> list[tuple[str, Query]]:
        """Every panel query as ``(panel title, query)``, in panel order."""
        return [(p.title, q) for p in self.panels if isinstance(p, Panel) for q in p.queries]

    def to_json(self, datasource_uid: str) -> JSON:
        """The dashboard as Grafana's JSON model (without ``id``: the uid identifies it), its
        queries on its own data source if it has one, else on ``datasource_uid``."""
        datasource = {"type": CLICKHOUSE_PLUGIN, "uid": self.datasource_uid or datasource_uid}
        panels = [
            item.to_json(index, grid, datasource)
            for index, (item, grid) in enumerate(
                zip(self.panels, layout(self.panels), strict=True), start=1
            )
        ]
        return {
            "annotations": {"list": []},
            "description": self.description,
            "editable": False,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "links": [
                {
                    "asDropdown": True,
                    "includeVars": False,
                    "keepTime": True,
                    "tags": ["partnerhub"],
                    "title": "Partner Hub",
                    "type": "dashboards",
                }
            ],
            "panels": panels,
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": ["partnerhub", *self.tags],
            "templating": {"list": [v.to_json(datasource) for v in self.variables]},
            "time": {"from": self.time_from, "to": self.time_to},
            "timepicker": {},
            "timezone": "utc",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
        }


def layout(items: Sequence[Item]) -> list[JSON]:
    """Grid positions: items placed left to right, a new row when the next does not fit."""
    positions: list[JSON] = []
    x = y = row_height = 0
    for item in items:
        if item.width > GRID_WIDTH or item.width < 1:
            raise ValueError(f"panel width {item.width} is outside 1..{GRID_WIDTH}")
        if x + item.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        positions.append({"h": item.height, "w": item.width, "x": x, "y": y})
        x += item.width
        row_height = max(row_height, item.height)
    return positions
