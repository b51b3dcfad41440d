"""``partnerhub dashboards``: build the Grafana dashboards from code, check them, push them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from dashboards.catalog import dashboards
from dashboards.files import JSON_DIR, compare, render, write
from dashboards.push import PushError, connect, push
from dashboards.timerange import data_days, fitted
from partnerhub.cli.common import DATA_DIR, CliError, console, open_hub_warehouse, settings
from partnerhub.settings import HubSettings

app = typer.Typer(help="Grafana dashboards as code.", no_args_is_help=True)


@app.command("build")
def build_cmd(
    check: bool = typer.Option(
        False, "--check", help="Change nothing; fail if the files differ from the code."
    ),
    out: Path = typer.Option(JSON_DIR, "--out", help="The provisioned dashboards folder."),
    fit_data: bool = typer.Option(
        False,
        "--fit-data",
        help="Open the dashboards on the warehouse's own days (first to last), not now-1y.",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Write the dashboards' JSON (Grafana's file-provisioning layout) into ``--out``.

    The SGBV threshold, the silence limit, the partner registry and the data source uid come
    from the settings, so the committed files are those of the default settings.
    """
    hub = settings(data_dir)
    built = dashboards(hub.dashboard_context())
    if fit_data:
        days = _data_days(hub, required=True)
        assert days is not None
        built = fitted(built, days)
        console.print(f"dashboards open on {days[0]} .. {days[1]} (the warehouse's days)")
    files = render(built, hub.grafana.datasource_uid)
    if check:
        stale = compare(files, out)
        if stale:
            raise CliError(
                f"dashboards in {out} are stale ({stale.describe()}); "
                "run `partnerhub dashboards build`"
            )
        console.print(f"{len(files)} dashboards in {out} match the code")
        return
    changed = write(files, out)
    for name in changed:
        console.print(f"updated {out / name}")
    console.print(f"{len(files)} dashboards in {out}, {len(changed)} updated")


@app.command("push")
def push_cmd(
    url: str | None = typer.Option(
        None, "--url", help="Grafana's URL (default: PARTNERHUB_GRAFANA__URL)."
    ),
    fit_data: bool = typer.Option(
        True,
        "--fit-data/--no-fit-data",
        help="Open the dashboards on the warehouse's own days when it can be read (else now-1y).",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Save the dashboards into a Grafana through its HTTP API (idempotent).

    For a Grafana without the hub's file provisioning; the token is
    PARTNERHUB_GRAFANA__TOKEN, the folder PARTNERHUB_GRAFANA__FOLDER.
    """
    hub = settings(data_dir)
    target = url or hub.grafana.url
    if not target:
        raise CliError("no Grafana URL: pass --url or set PARTNERHUB_GRAFANA__URL")
    uid = hub.grafana.datasource_uid
    built = dashboards(hub.dashboard_context())
    days = _data_days(hub, required=False) if fit_data else None
    if days is not None:
        built = fitted(built, days)
        console.print(f"dashboards open on {days[0]} .. {days[1]} (the warehouse's days)")
    models = [d.to_json(uid) for d in built]
    token = hub.grafana.token.get_secret_value() if hub.grafana.token else None
    api = connect(target, token)
    with Progress(TextColumn("pushing"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("push", total=len(models))
        try:
            result = push(api, models, hub.grafana.folder, progress=lambda _: bar.advance(task))
        except PushError as error:
            raise CliError(str(error)) from error
    created = " (created)" if result.folder_created else ""
    console.print(
        f"pushed {len(result.dashboards)} dashboards to folder {result.folder_uid}{created}"
        f" at {target.split('@')[-1]}"
    )


@app.command("bench")
def bench_cmd(
    facts: int = typer.Option(10_000_000, min=1, help="Facts in the generated year."),
    repeats: int = typer.Option(3, min=1, help="Runs of each panel (the median is shown)."),
    cut_months: bool = typer.Option(
        False,
        "--cut-months",
        help="Time the panels over 16 Jan - 15 Dec (ends inside months, as a period ending"
        " now has: day rows at the edges) instead of each dashboard's own range.",
    ),
    whole_year: bool = typer.Option(
        False,
        "--whole-year",
        help="Time every dashboard over the whole year, the pipeline's too (it opens on the"
        " last 6 hours).",
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Time every panel of every dashboard on a year built from ``--facts`` facts, in a
    throwaway embedded warehouse, once the engine's background merges of the build are done,
    over the range each dashboard opens on (the year; the pipeline's last 6 hours of writes);
    print each panel's median time and the slowest."""
    import tempfile

    from rich.table import Table

    from dashboards import bench
    from dashboards.queries import year_context
    from warehouse.bench import settle
    from warehouse.client import EmbeddedWarehouse

    context = settings(data_dir).dashboard_context()
    with tempfile.TemporaryDirectory(prefix="partnerhub-dashboards-bench-") as folder:
        wh = EmbeddedWarehouse(Path(folder))
        try:
            console.print(f"generating a year of {facts:,} facts ...")
            stored = bench.build_year(wh, facts, context)
            console.print(", ".join(f"{t}: {n:,} rows" for t, n in sorted(stored.items())))
            with console.status("waiting for the engine's background merges of the build ..."):
                waited = settle(wh)
            console.print(f"background merges done after {waited:.0f} s")
            period = bench.cut_months() if cut_months else None
            if whole_year:
                period = year_context(bench.YEAR, months=12)
            timings = bench.time_panels(wh, context, repeats=repeats, period=period)
        finally:
            wh.close()
    table = Table("dashboard", "panel", "median", "runs")
    for t in timings:
        runs = " ".join(f"{s * 1000:.0f}" for s in t.seconds)
        table.add_row(t.dashboard, t.panel, f"{t.median * 1000:.0f} ms", runs)
    console.print(table)
    slowest = max(timings, key=lambda t: t.median)
    over = sum(t.median > 0.150 for t in timings)
    console.print(
        f"{len(timings)} panels; slowest: {slowest.dashboard} / {slowest.panel}"
        f" {slowest.median * 1000:.0f} ms; {over} over 150 ms"
    )


def _data_days(hub: HubSettings, *, required: bool) -> tuple[date, date] | None:
    """The warehouse's first and last day; None (with a note) when it cannot be read and the
    range is not ``required``."""
    try:
        wh = open_hub_warehouse(hub)
    except CliError as error:
        if required:
            raise
        console.print(f"note: dashboards keep now-1y ({error})", soft_wrap=True)
        return None
    try:
        days = data_days(wh)
    finally:
        wh.close()
    if days is None and required:
        raise CliError("the warehouse holds no daily aggregates yet: nothing to fit the range to")
    return days
