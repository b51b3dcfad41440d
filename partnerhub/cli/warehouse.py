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

from partnerhub.cli.common import DATA_DIR, console, open_hub_warehouse, settings
from schemas.vocabulary import CELLS, Kind
from warehouse import bench
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import deadletter_counts, table_counts, totals_by_month, totals_from_facts
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
        counts = table_counts(wh)
        letters = deadletter_counts(wh) if "deadletters" in counts else {}
    finally:
        wh.close()
    if not counts:
        console.print("no hub tables yet; run `partnerhub warehouse migrate`")
        return
    table = Table("table", "rows")
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
        help="Exact numbers, small SGBV cells included: for reconciliation by operators on the "
        "hub's own machine, never for sharing.",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Events and people reached by month and kind; says whether aggregates match facts.

    Small SGBV numbers are shown suppressed (GBVIMS) unless ``--unsuppressed`` is given.
    """
    hub = settings(data_dir)
    wh = open_hub_warehouse(hub)
    try:
        totals = totals_by_month(wh)
        from_facts = totals_from_facts(wh)
        letters = deadletter_counts(wh)
    finally:
        wh.close()
    if as_json:

        def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return rows if unsuppressed else [suppressed(r, hub.sgbv_threshold) for r in rows]

        data = {"totals": shown(totals), "from_facts": shown(from_facts), "deadletters": letters}
        console.out(json.dumps(data, indent=1), highlight=False)  # no markup, no wrapping
        return
    table = Table("month", "kind", "events", "people")
    for (month, kind), (events, people) in sorted(by_month_and_kind(totals).items()):
        table.add_row(
            month,
            kind,
            *(
                str(n) if unsuppressed else shown_count(n, kind, hub.sgbv_threshold)
                for n in (events, people)
            ),
        )
    console.print(table)
    if totals == from_facts:
        console.print(f"[green]ok[/]: {len(totals)} totals rows match the facts")
    else:
        console.print("[red]the aggregates differ from the facts[/]")
        raise typer.Exit(1)


def suppressed(row: dict[str, Any], threshold: int) -> dict[str, Any]:
    """A totals row as it may leave the warehouse: small SGBV numbers replaced by ``<N``."""
    if row.get("kind") != Kind.SGBV:
        return row
    return {
        k: f"<{threshold}" if k in ("events", *CELLS) and 0 < v < threshold else v
        for k, v in row.items()
    }


def by_month_and_kind(totals: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in totals:
        entry = sums[(row["month"], row["kind"])]
        entry[0] += row["events"]
        entry[1] += sum(row[c] for c in CELLS)
    return {key: (events, people) for key, (events, people) in sums.items()}


def shown_count(n: int, kind: str, threshold: int) -> str:
    """A count as it may leave the warehouse: small SGBV numbers suppressed (GBVIMS)."""
    if kind == Kind.SGBV and 0 < n < threshold:
        return f"<{threshold}"
    return f"{n:,}"


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
