"""``partnerhub rollup``: make a month's roll-up on demand (compute, version, write outputs)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from partnerhub.cli.common import DATA_DIR, CliError, console, open_hub_warehouse, settings
from partnerhub.settings import HubSettings
from schemas.labels import Language
from streams.clock import shifted_clock, system_clock
from warehouse.client import Warehouse
from warehouse.migrate import migrate

if TYPE_CHECKING:
    from rollups.produce import RollupRun

#: Differing keys listed before the rest are only counted.
MAX_LISTED = 20


def rollup(
    month: str = typer.Option(..., "--month", help="The month to roll up, YYYY-MM (ended)."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the files (default: <data_dir>/rollups/<month>)."
    ),
    timely_days: int = typer.Option(
        10,  # rollups.compute.TIMELY_DAYS
        "--timely-days",
        min=0,
        help="Timeliness: an event is on time if first reported within this many days after "
        "the month ends.",
    ),
    zero_report: bool = typer.Option(
        False,
        "--zero-report",
        help="Freeze a version even when no partner reported anything about the month (an "
        "official zero report); without it such a month is refused.",
    ),
    language: Language = typer.Option(
        "en", "--language", help="Language of the HTML report: en or ru."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Roll up a month: totals from the facts, checked against the aggregates, stored as a new
    version when anything changed, written as CSV, HXL CSV, XLSX and HTML (SGBV small numbers
    suppressed). Exits 1 when the aggregates disagree with the facts."""
    # Imported here, as the worker command imports Faust: the other commands start without
    # loading the roll-up renderers (openpyxl and friends).
    from rollups.compute import RollupError, check_closed
    from rollups.produce import STEPS, run_rollup

    hub = settings(data_dir)
    clock = shifted_clock(hub.start_time) if hub.start_time else system_clock
    try:
        start, end = check_closed(month, clock())
    except RollupError as error:
        raise CliError(str(error)) from None
    wh = open_hub_warehouse(hub)  # first: a missing warehouse is refused before anything is made
    rollups = hub.rollups()  # may create the hub secret in the data folder
    folder = out or rollups.folder / month
    try:
        if not zero_report:
            _refuse_empty(wh, hub, month, start, end)
        migrate(wh)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("roll-up", total=len(STEPS))
            done = [0]

            def step(name: str) -> None:
                progress.update(task, completed=done[0], description=name)
                done[0] += 1

            run = run_rollup(
                wh,
                rollups,
                month,
                clock=clock,
                created_by="cli",
                out_dir=folder,
                timely_days=timely_days,
                progress=step,
                language=language,
            )
            progress.update(task, completed=len(STEPS))
    except RollupError as error:
        raise CliError(str(error)) from None
    finally:
        wh.close()
    _print(run)
    if run.report.differences:
        raise typer.Exit(1)


def _refuse_empty(wh: Warehouse, hub: HubSettings, month: str, start: date, end: date) -> None:
    """One clear line, and nothing written, when no fact revision is about ``month``."""
    from rollups.queries import arrivals
    from warehouse.facts import table_counts

    revisions = arrivals(wh, start, end)[0] if "facts" in table_counts(wh) else 0
    if revisions == 0:
        where = hub.clickhouse.url or hub.data_dir.resolve()
        raise CliError(
            f"no reports about {month} in the warehouse at {where}: nothing to roll up (wrong "
            "--data-dir or month?); pass --zero-report to freeze an official zero report"
        )


def _print(run: RollupRun) -> None:
    from rollups.charts import show
    from rollups.report import describe_key

    report, version = run.report, run.version
    if run.created:
        previous = f" (version {report.previous} before it)" if report.previous else ""
        console.print(
            f"roll-up {report.month}: [green]version {version.version} written[/]{previous}"
        )
        if report.previous:
            console.print(f"  {len(report.changes)} keys changed since version {report.previous}")
    else:
        console.print(
            f"roll-up {report.month}: version {version.version} stands (no change since "
            f"{version.created_at:%Y-%m-%d %H:%M} UTC)"
        )
    pub = report.publication
    console.print(
        f"  {len(pub.rows):,} rows, {show(pub.kind_total('events'))} events, "
        f"{show(pub.kind_total('persons'))} people reached; checksum {run.report.checksum[:16]}"
    )
    if report.differences:
        console.print(
            f"  [red]the aggregates differ from the facts for {len(report.differences)} of "
            f"{report.reconciled_keys} keys[/] (the roll-up is computed from the facts):"
        )
        for difference in report.differences[:MAX_LISTED]:
            fields = ", ".join(difference.fields)
            console.print(f"    {describe_key(difference.key)}: {fields}", highlight=False)
        if len(report.differences) > MAX_LISTED:
            console.print(f"    ... and {len(report.differences) - MAX_LISTED} more")
    else:
        console.print(f"  aggregates match the facts ({report.reconciled_keys} keys)")
    for fmt, path in run.files.items():
        console.print(f"  {fmt:>4}: {path}", highlight=False)
