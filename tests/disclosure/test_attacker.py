"""The attacker's test: every output of the hub, held together, recovers no withheld SGBV
figure, shows no SGBV number from 1 to threshold - 1, and publishes no hash of exact data.

A small simulation is run through the worker's own transform and sink (real metrics), rolled
up month by month (CSV, HXL, XLSX, HTML, the sha256 manifest), and read back as a reader gets
it: the files, ``partnerhub warehouse totals --json``, the status document and the Prometheus
metrics, and every panel of the SGBV dashboard run on chdb as its data source's user. The demo's
data get the same treatment (``test_the_demo_data_give_nothing_away``).
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards.queries import panels, run_panel, year_context
from dashboards.sgbv import sgbv
from disclosure.keys import integrity_hash
from partnerhub.settings import HubSettings
from producers.simulator import Simulation, SimulationSpec, simulate
from rollups.months import months_between
from rollups.produce import RollupRun, run_rollup
from rollups.render_csv import exact_csv
from streams.access import WarehouseAccess
from streams.batch import Batch
from streams.metrics import WorkerMetrics
from streams.sink import Sink
from streams.status import warehouse_status, worker_status
from streams.transform import Meta, process_message
from streams.writer import WarehouseWriter
from tests.disclosure import attacker
from tests.disclosure.attacker import Evidence, figure
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.migrate import migrate
from warehouse.tables import TABLES

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python on import
    from partnerhub.cli import app

pytestmark = [pytest.mark.clickhouse, pytest.mark.timeout(300)]

THRESHOLD = 5
SECRET = "attacker-test-hub-secret"
SMALL = SimulationSpec(start="2006-01", end="2006-03", events=400, seed=12)
DEMO = SimulationSpec.model_validate(
    {"start": "2006-01", "end": "2006-03", "events": 5000, "seed": 2006}
    | dict.fromkeys(("duplicates", "corrections", "retractions", "invalid", "late"), 0.02)
)


@dataclass
class Outputs:
    """Everything the hub published about the simulated months, and the truth behind it."""

    sim: Simulation
    hub: HubSettings
    runs: dict[str, RollupRun]
    cli: dict[str, Any]
    status: dict[str, Any]
    metrics: str
    panels: dict[str, dict[str, list[dict[str, Any]]]]  # month -> panel title -> rows
    stored_checksums: list[str]


@dataclass(frozen=True)
class Sent:
    """A message as the worker reads it."""

    topic: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def misrouted_sgbv(sim: Simulation) -> list[Sent]:
    """An SGBV event of the simulation sent where SGBV data does not belong: another kind's
    topic, a topic the hub does not know, alone or in a bulk message, its kind escaped or its
    bytes in UTF-16. Each is dead-lettered, and each dead letter is SGBV data all the same."""
    first = next(m for m in sim.messages if ".sgbv." in m.topic)
    partner, body = first.topic.split(".")[1], first.value
    escaped = body.replace(b'"sgbv"', b'"\\u0073gbv"')
    assert b"sgbv" not in escaped.lower()  # only JSON decoding tells what it is
    bulk = (("hub-bulk", b"1"),)
    return [
        Sent(f"partners.{partner}.assistance.v1", body),
        Sent(f"partners.{partner}.sgbv.v2", body),
        Sent("partners.unknown.assistance.v1", escaped),
        Sent(f"partners.{partner}.assistance.v1", b"[" + escaped + b"]", bulk),
        Sent(f"partners.{partner}.assistance.v1", b"[" + body + b", {" + body[:40] + b"]", bulk),
        Sent(f"partners.{partner}.hiv_training.v1", body.decode().encode("utf-16")),
    ]


async def _ingest(sink: Sink, sim: Simulation, sent: Sequence[Sent], now: datetime) -> None:
    registry, key = sim.spec.partners, SECRET.encode()
    outcomes = [
        outcome
        for i, m in enumerate(sent)
        for outcome in process_message(
            m.value, m.headers, Meta(m.topic, 0, i, now), registry, now=now, ref_key=key
        )
    ]
    await sink.write(Batch.of(outcomes))


def pipeline(
    folder: Path, sim: Simulation, *, sgbv: bool = True
) -> tuple[WarehouseAccess, WorkerMetrics]:
    """The worker's transform, sink and metrics over the simulation's messages, in one batch
    (SGBV messages, misrouted ones too, left out when ``sgbv`` is False; with them, the
    :func:`misrouted_sgbv` messages are sent too). Dead letters and alerts are not published
    to Kafka here: the warehouse and the metrics are what the outputs read."""
    warehouse = folder / "warehouse"
    migrate_wh = EmbeddedWarehouse(warehouse)
    migrate(migrate_wh)
    migrate_wh.close()
    metrics = WorkerMetrics()
    access = WarehouseAccess(lambda: EmbeddedWarehouse(warehouse))
    sink = Sink(WarehouseWriter(access), (), metrics, after_failure=access.reconnect)
    # Without SGBV: every message whose event is SGBV, on its topic or (simulated faults) not.
    sent = [
        Sent(m.topic, m.value)
        for m in sim.messages
        if sgbv or not (".sgbv." in m.topic or b'"kind":"sgbv"' in m.value.replace(b" ", b""))
    ]
    now = datetime.combine(sim.spec.today, datetime.min.time(), UTC)
    asyncio.run(_ingest(sink, sim, sent + (misrouted_sgbv(sim) if sgbv else []), now))
    return access, metrics


def run_everything(folder: Path, spec: SimulationSpec) -> Outputs:
    sim = simulate(spec)
    hub = HubSettings(  # type: ignore[call-arg]
        _env_file=None, data_dir=folder, sgbv_threshold=THRESHOLD, hub_secret=SECRET
    )
    now = datetime.combine(sim.spec.today, datetime.min.time(), UTC)
    access, metrics = pipeline(folder, sim)
    try:
        runs = {
            month: access.read(
                lambda wh, m=month: run_rollup(
                    wh,
                    hub.rollups(),
                    m,
                    clock=lambda: now,
                    created_by="attacker-test",
                    out_dir=folder / "rollups" / m,
                )
            )
            for month in months_between(spec.start, spec.end)
        }
        status = {
            "worker": worker_status(metrics),
            "warehouse": access.read(lambda wh: warehouse_status(wh, now)),
        }
        stored = [str(r["checksum"]) for r in access.read(
            lambda wh: wh.query("SELECT checksum FROM rollup_versions FINAL"))]  # fmt: skip
    finally:
        access.close()
    env = {"PARTNERHUB_DATA_DIR": str(folder), "PARTNERHUB_HUB_SECRET": SECRET}
    result = CliRunner().invoke(app, ["warehouse", "totals", "--json"], env=env)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    with EmbeddedWarehouse(folder / "warehouse") as wh:
        shown = dashboard_rows(wh, hub, runs)
    return Outputs(sim, hub, runs, cli, status, metrics.prometheus(), shown, stored)


def dashboard_rows(
    wh: Warehouse, hub: HubSettings, runs: dict[str, RollupRun]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every SGBV panel over each month, as its data source's user runs it: every table but
    the published-figures view reads as empty to it."""
    dashboard = sgbv(hub.dashboard_context())
    nothing = {table: "0" for table in TABLES}
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for month in runs:
        start = datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
        ctx = year_context(start.year, months=1)
        ctx = type(ctx)(start, start.replace(day=28), ctx.interval)
        out[month] = {}
        for panel in panels(dashboard):
            rows = [r for q in run_panel(wh, panel, ctx, {}, nothing) for r in q]
            out[month][panel.title] = rows
    return out


def open_totals(run: RollupRun) -> dict[str, int]:
    """The other kinds' exact totals, which the CSV publishes line by line."""
    rows = [r for r in run.rollup.rows if r.kind != "sgbv"]
    totals = {"events": sum(r.events for r in rows), "persons": sum(r.persons for r in rows)}
    for i, cell in enumerate(attacker.CELLS):
        totals[cell] = sum(r.cells[i] for r in rows)
    return totals


def evidence_of(outputs: Outputs, month: str) -> Evidence:
    run = outputs.runs[month]
    found = Evidence()
    files = run.files
    others = open_totals(run)
    attacker.read_csv(files["csv"].read_text(encoding="utf-8-sig"), month, found, "csv")
    attacker.read_hxl(files["hxl"].read_text(), month, found)
    attacker.read_xlsx(files["xlsx"], month, found, others)
    attacker.read_html(files["html"].read_text(), found, others)
    attacker.read_cli_json(outputs.cli, month, found)
    names = {code: r.name_en for code, r in __import__("schemas.refdata").refdata.regions().items()}
    for title, rows in outputs.panels[month].items():
        if title.startswith("SGBV activity") or title.startswith("By sex and age"):
            continue  # the latest month in the period: the same month here, read below
        attacker.read_panel(title, rows, month, found, names)
    for title, rows in outputs.panels[month].items():
        if title.startswith("SGBV activity"):
            for row in rows:
                found.add(figure("total", "persons"), row["people"], "dashboard stat")
                found.add(figure("total", "events"), row["reports"], "dashboard stat")
        if title.startswith("By sex and age"):
            for row in rows:
                for sex in ("female", "male"):
                    cell = f"{sex}_{row['age'].replace('-', '_').replace('+', '_plus')}"
                    found.add(figure("cell", "persons", cell=cell), row[sex], "dashboard sex/age")
    return found


def truth_of(run: RollupRun) -> dict[attacker.Figure, int]:
    """The exact value of every figure of the grain (the test knows; the attacker does not)."""
    assert run.report.publication.sgbv is not None
    records = [r for r in run.rollup.rows if r.kind == "sgbv"]
    out: dict[attacker.Figure, int] = {}
    for key in run.report.publication.sgbv.figures:
        tuple_key = figure(key.table, key.measure, key.region, key.activity, key.incident,
                           key.population, key.cell)  # fmt: skip
        total = 0
        for r in records:
            act, _, inc = r.indicator.partition(".")
            if any(want and want != got for want, got in (
                (key.region, r.region), (key.activity, act), (key.incident, inc),
                (key.population, r.population_type),
            )):  # fmt: skip
                continue
            if key.measure == "events":
                total += r.events
            elif key.cell:
                total += r.cells[list(attacker.CELLS).index(key.cell)]
            else:
                total += r.persons
        out[tuple_key] = total
    return out


def attack(outputs: Outputs) -> dict[str, Any]:
    """Try every month; return what was recovered, and the figures behind the verdict."""
    recovered: list[str] = []
    pinned_large: list[str] = []
    exposed: list[str] = []
    small_shown: list[str] = []
    withheld_total = small_total = 0
    for month, run in outputs.runs.items():
        found = evidence_of(outputs, month)
        assert not found.conflicts, found.conflicts
        truth = truth_of(run)
        assert set(found.values) >= set(truth), "every figure of the grain is in the outputs"
        published = found.published()
        for key, value in published.items():
            assert value == truth[key], f"{month} {key}: published {value}, true {truth[key]}"
        small_shown += [f"{month} {w}={v}" for w, v in found.shown if 0 < v < THRESHOLD]
        withheld = [k for k, v in found.values.items() if v is None]
        withheld_total += len(withheld)
        ranges = attacker.feasible_ranges(published, withheld)
        for key, bounds in ranges.items():
            if attacker.pinned_small(bounds, THRESHOLD):
                recovered.append(f"{month} {key}: true {truth[key]}, range {bounds}")
            elif bounds[0] == bounds[1]:  # a complementary figure withheld in vain: no harm
                pinned_large.append(f"{month} {key}: {bounds[0]:g}")
            if 0 < truth[key] < THRESHOLD:
                small_total += 1
                if not attacker.protected(bounds, THRESHOLD):
                    exposed.append(f"{month} {key}: true {truth[key]}, range {bounds}")
    return {
        "recovered": recovered,
        "pinned_large": pinned_large,
        "exposed": exposed,
        "small_shown": small_shown,
        "withheld": withheld_total,
        "small": small_total,
    }


def check_hashes(outputs: Outputs) -> None:
    """Every hex string any output shows is the SHA-256 of a published file (or a prefix of
    one); none is a hash of exact data, and the stored version ids are keyed."""
    published_files: dict[str, str] = {}
    texts = [json.dumps(outputs.cli), json.dumps(outputs.status), outputs.metrics]
    for run in outputs.runs.values():
        for path in run.files.values():
            data = path.read_bytes()
            published_files[attacker.sha256(data)] = path.name
            if path.suffix != ".xlsx":
                texts.append(data.decode("utf-8"))
        texts.append(attacker.json_text(run.report.checksum))
    for month_rows in outputs.panels.values():
        texts.append(attacker.json_text(month_rows))
    shown = set().union(*(attacker.hex_strings(t) for t in texts))
    for value in shown:
        assert any(h.startswith(value) for h in published_files), f"unexplained hex {value}"
    key = SECRET.encode()
    for month, run in outputs.runs.items():
        exact = exact_csv(month, run.rollup.rows).encode()
        assert attacker.sha256(exact) not in published_files
        assert not any(attacker.sha256(exact).startswith(v) for v in shown)
        # The stored id is the keyed hash: without the secret, a candidate table cannot be
        # tested against it (the true table is the best candidate an attacker could have).
        assert integrity_hash(key, exact) in outputs.stored_checksums
        assert attacker.sha256(exact) not in outputs.stored_checksums
    # Every file listed in a manifest matches it.
    for run in outputs.runs.values():
        for line in run.files["sha256"].read_text().splitlines():
            digest, name = line.split("  ")
            assert attacker.sha256((run.files["sha256"].parent / name).read_bytes()) == digest


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return run_everything(tmp_path_factory.mktemp("small"), SMALL)


def test_all_outputs_together_recover_no_withheld_sgbv_figure(small: Outputs) -> None:
    found = attack(small)
    print(
        f"small simulation: {found['withheld']} withheld figures, {found['small']} small, "
        f"{len(found['pinned_large'])} withheld in vain (pinned at {THRESHOLD} or more)"
    )
    assert found["small"] > 0, "the simulation must have small cells to protect"
    assert found["withheld"] > found["small"]  # complementary suppression happened
    assert found["recovered"] == []
    assert found["exposed"] == []
    assert found["small_shown"] == []


def test_no_output_shows_a_hash_of_unsuppressed_data(small: Outputs) -> None:
    check_hashes(small)


def test_status_and_metrics_are_the_same_without_any_sgbv_message(
    small: Outputs, tmp_path: Path
) -> None:
    """Status and metrics carry no SGBV count: remove every SGBV message from the input and
    they are unchanged, but for "SGBV reported / received: yes"."""
    access, metrics = pipeline(tmp_path, small.sim, sgbv=False)
    now = datetime.combine(small.sim.spec.today, datetime.min.time(), UTC)
    try:
        without = {
            "worker": worker_status(metrics),
            "warehouse": access.read(lambda wh: warehouse_status(wh, now)),
        }
    finally:
        access.close()

    def comparable(status: dict[str, Any]) -> str:
        # The roll-ups were made on the first warehouse only: their tables' counts differ.
        tables = status["warehouse"]["tables"]
        status = {**status, "warehouse": {**status["warehouse"], "tables": {
            name: n for name, n in tables.items() if not name.startswith("rollup_")}}}  # fmt: skip
        text = json.dumps(status, sort_keys=True)
        text = re.sub(r'"(sgbv_[a-z_]+)": "(yes|no)"', r'"\1": "?"', text)
        return re.sub(r'"(last_batch_seconds|p\d\d)": [0-9.e-]+', r'"\1": 0', text)

    with_sgbv = small.status
    sgbv_partners = {
        code for code, p in with_sgbv["warehouse"]["partners"].items()
        if p.get("sgbv_reported_this_month")
    }  # fmt: skip
    assert sgbv_partners, "SGBV partners are listed"
    for code in sgbv_partners:  # an SGBV-only partner has no other events to show
        without["warehouse"]["partners"].setdefault(
            code, {"events": 0, "last_reported_at": None, "last_ingested_at": None}
        )
        without["warehouse"]["partners"][code]["sgbv_reported_this_month"] = "no"
    assert comparable(with_sgbv) == comparable(without)
    assert with_sgbv["worker"]["sgbv_received"] == "yes"

    def numbers(text: str) -> list[str]:
        timing = ("seconds", "sgbv_received", "_created")  # _created: when a counter began
        return [line for line in text.splitlines() if not any(t in line for t in timing)]

    assert numbers(small.metrics) == numbers(metrics.prometheus())
    assert "partnerhub_sgbv_received 1" in small.metrics


def test_the_attack_bites_on_primary_suppression_alone(small: Outputs) -> None:
    """The same attack on the same months, had only the small figures been withheld: it
    recovers them (so an empty list above is the engine's doing, not a blunt attack)."""
    recovered = 0
    for run in small.runs.values():
        truth = truth_of(run)
        small_ones = [k for k, v in truth.items() if 0 < v < THRESHOLD]
        published = {k: v for k, v in truth.items() if k not in small_ones}
        ranges = attacker.feasible_ranges(published, small_ones)
        recovered += sum(
            attacker.pinned_small(b, THRESHOLD) or not attacker.protected(b, THRESHOLD)
            for b in ranges.values()
        )
    assert recovered > 0


def test_the_demo_data_give_nothing_away(tmp_path: Path) -> None:
    """The demo's simulation (``partnerhub demo`` defaults: 5,000 events, three months)."""
    outputs = run_everything(tmp_path, DEMO)
    found = attack(outputs)
    print(
        f"demo: {found['withheld']} withheld figures, {found['small']} small, "
        f"{len(found['pinned_large'])} withheld in vain (pinned at {THRESHOLD} or more)"
    )
    assert found["small"] > 0
    assert found["recovered"] == []
    assert found["exposed"] == []
    assert found["small_shown"] == []
    check_hashes(outputs)
