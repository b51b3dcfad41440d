"""``partnerhub warehouse``: create and inspect the warehouse (chdb folder or ClickHouse server)."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from disclosure.engine import SgbvPublication
from disclosure.grain import DIMENSIONS, EVENTS, PERSONS
from partnerhub.cli.common import DATA_DIR, console, open_hub_warehouse, settings
from schemas.vocabulary import CELLS, Kind
from warehouse import bench
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import deadletter_counts, table_counts, totals_by_month
from warehouse.migrate import migrate

app = typer.Typer(help="The warehouse: tables, migrations, counts.", no_args_is_help=True)


@app.command("migrate")
def migrate_cmd(data_dir: Path | None = DATA_DIR) -> None:
    """Create or update the warehouse tables (applies the migrations not yet applied)."""
    wh = open_hub_warehouse(settings(data_dir), create=True)
    try:
        applied = migrate(wh)
    finally:
        wh.close()
    if not applied:
        console.print("warehouse is up to date")
    for name in applied:
        console.print(f"applied {name}")


@app.command("counts")
def counts_cmd(data_dir: Path | None = DATA_DIR) -> None:
    """Rows stored per table, and dead letters by first reason code."""
    hub = settings(data_dir)
    if hub.clickhouse.url is None and not (hub.data_dir / "warehouse").is_dir():
        console.print(
            f"no warehouse in {hub.data_dir.resolve()} (another --data-dir?); "
            "run `partnerhub warehouse migrate` to create one",
            soft_wrap=True,
        )
        return
    wh = open_hub_warehouse(hub)
    try:
        counts = table_counts(wh, sgbv=False)
        letters = deadletter_counts(wh, sgbv=False) if "deadletters" in counts else {}
    finally:
        wh.close()
    if not counts:
        console.print("no hub tables yet; run `partnerhub warehouse migrate`")
        return
    table = Table("table", "rows", title="rows (SGBV rows not counted)")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if letters:
        by_code = Table("dead-letter reason", "messages")
        for code, n in letters.items():
            by_code.add_row(code or "(none)", f"{n:,}")
        console.print(by_code)


@app.command("totals")
def totals_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the totals as JSON."),
    unsuppressed: bool = typer.Option(
        False,
        "--unsuppressed",
        help="Exact numbers, SGBV included: for reconciliation by operators on the hub's own "
        "machine, never for sharing.",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Events and people reached by month and kind; says whether aggregates match facts.

    The check is incremental: the months changed since their last check are checked, the
    others stand as last checked (``partnerhub warehouse reconcile``). ``--json`` also
    recomputes every month's totals from the facts, month by month (the exact pair).
    SGBV figures are those the disclosure engine published with each month's roll-up (the same
    figures as the roll-up's files and the SGBV dashboard), unless ``--unsuppressed``.
    """
    from rollups.published import published_months
    from warehouse.reconcile import month_from_facts, months_held, reconcile_changed

    hub = settings(data_dir)
    wh = open_hub_warehouse(hub)
    try:
        totals = totals_by_month(wh)
        if as_json:
            from_facts = [row for month in months_held(wh) for row in month_from_facts(wh, month)]
        else:
            standing = reconcile_changed(wh)
        letters = deadletter_counts(wh, sgbv=unsuppressed)
        sgbv = {} if unsuppressed else published_months(wh)
    finally:
        wh.close()
    if as_json:
        data: dict[str, Any] = {
            "totals": totals if unsuppressed else open_rows(totals),
            "from_facts": from_facts if unsuppressed else open_rows(from_facts),
            "deadletters": letters,
        }
        if not unsuppressed:
            data["sgbv"] = {month: sgbv_json(pub) for month, pub in sgbv.items()}
        console.out(json.dumps(data, indent=1), highlight=False)  # no markup, no wrapping
        return
    table = Table("month", "kind", "events", "people")
    rows = by_month_and_kind(totals if unsuppressed else open_rows(totals))
    if not unsuppressed:
        for month in sorted({m for m, kind in by_month_and_kind(totals) if kind == Kind.SGBV}):
            rows[(month, Kind.SGBV.value)] = sgbv_totals(sgbv.get(month))
    for (month, kind), (events, people) in sorted(rows.items()):
        table.add_row(month, kind, *(shown(n) for n in (events, people)))
    console.print(table)
    if not unsuppressed:
        console.print(
            f"SGBV: figures from each month's roll-up; {SUPPRESSED} withheld (GBVIMS practice)."
        )
    if standing.ok:
        console.print(
            f"[green]ok[/]: {len(totals)} totals rows match the facts ({standing.months} months,"
            f" {len(standing.checked)} changed since their last check)"
        )
    else:
        months = ", ".join(f"{m:%Y-%m}" for m in standing.differing)
        console.print(f"[red]the aggregates differ from the facts[/] in {months}")
        raise typer.Exit(1)


#: How a withheld SGBV figure is written, and one of a month without a roll-up yet.
SUPPRESSED = "x"
UNPUBLISHED = "not published yet (no roll-up)"


def sgbv_totals(pub: SgbvPublication | None) -> tuple[int | str, int | str]:
    """A month's SGBV reports and people as published (or why not)."""
    if pub is None:
        return UNPUBLISHED, UNPUBLISHED
    events, people = pub.value("total", EVENTS), pub.value("total", PERSONS)
    return (
        SUPPRESSED if events is None else events,
        SUPPRESSED if people is None else people,
    )


def sgbv_json(pub: SgbvPublication) -> list[dict[str, Any]]:
    """Every published SGBV figure of a month (``"x"`` where withheld)."""
    return [
        {
            "table": key.table,
            "measure": key.measure,
            **{d: key.value_of(d) for d in DIMENSIONS if key.value_of(d)},
            "value": SUPPRESSED if value is None else value,
        }
        for key, value in pub.figures.items()
    ]


def shown(n: int | str) -> str:
    return f"{n:,}" if isinstance(n, int) else n


def open_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Totals rows of every kind but SGBV (whose figures only the engine publishes)."""
    return [row for row in rows if row.get("kind") != Kind.SGBV]


def by_month_and_kind(
    totals: list[dict[str, Any]],
) -> dict[tuple[str, str], tuple[int | str, int | str]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in totals:
        entry = sums[(row["month"], row["kind"])]
        entry[0] += row["events"]
        entry[1] += sum(row[c] for c in CELLS)
    return {key: (events, people) for key, (events, people) in sums.items()}


@app.command("bench")
def bench_cmd(
    facts: int = typer.Option(200_000, min=1, help="Events to load before the measured batches."),
    batch: int = typer.Option(5_000, min=1, help="Events per sink batch."),
    batches: int = typer.Option(5, min=1, help="Measured batches (each corrects old events)."),
    load_batches: int = typer.Option(
        20, min=1, help="Batches of new events loaded sink-style (timed); the rest is prefilled."
    ),
    seed: int = typer.Option(1, help="Seed of the synthetic events."),
    full_check: bool = typer.Option(
        False, help="Also time the whole-history totals_by_month / totals_from_facts pair."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Measure writes and refreshes on synthetic facts in a throwaway embedded warehouse."""
    with tempfile.TemporaryDirectory(prefix="partnerhub-bench-") as folder:
        wh = EmbeddedWarehouse(Path(folder))
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("loading facts", total=facts + batches * batch)
                figures = bench.run(
                    wh,
                    facts=facts,
                    batch=batch,
                    batches=batches,
                    load_batches=load_batches,
                    seed=seed,
                    full_check=full_check,
                    progress=lambda n: progress.advance(task, n),
                )
        finally:
            wh.close()
    table = Table("measure", "value")
    for name, value in figures.rows():
        table.add_row(name, value)
    console.print(table)


@app.command("reconcile")
def reconcile_cmd(
    every_month: bool = typer.Option(
        False, "--all", help="Check every month, not only those changed since their last check."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Check the aggregates against the facts month by month: by default only the months
    changed since they were last checked (each check is recorded in the warehouse)."""
    from warehouse.reconcile import months_held, reconcile

    hub = settings(data_dir)
    wh = open_hub_warehouse(hub)
    try:
        checks = reconcile(wh, months_held(wh) if every_month else None)
    finally:
        wh.close()
    if not checks:
        console.print("no month changed since it was last checked")
        return
    table = Table("month", "totals rows", "differing", "seconds")
    for c in checks:
        mark = "" if c.ok else "[red]✗[/]"
        table.add_row(
            f"{c.month:%Y-%m}", f"{c.totals:,}", f"{c.differing:,} {mark}", f"{c.seconds:.2f}"
        )
    console.print(table)
    bad = [c for c in checks if not c.ok]
    if bad:
        console.print(f"[red]{len(bad)} of {len(checks)} months differ from the facts[/]")
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {len(checks)} months match the facts")
