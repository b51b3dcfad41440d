"""``partnerhub worker`` and ``partnerhub status``: run the stream worker; ask it how it is."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from partnerhub.cli.common import DATA_DIR, CliError, State, console, settings


def worker(data_dir: Path | None = DATA_DIR) -> None:
    """Run the stream worker in the foreground (Ctrl-C or SIGTERM stops it cleanly)."""
    from partnerhub.worker import run  # Faust is heavy to import; only this command needs it

    run(settings(data_dir), loglevel="INFO" if State.verbose else "WARNING")


def fetch_status(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The worker's ``/status`` document."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: dict[str, Any] = json.load(response)
            return data
    except (urllib.error.URLError, TimeoutError) as error:
        raise CliError(f"no worker status at {url}: {error}") from None


def status(
    url: str = typer.Option(None, help="Status URL (default: the worker's from settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print the raw JSON document."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Show the running worker's lag, counts, dead letters and partners' last reports."""
    s = settings(data_dir)
    data = fetch_status(url or f"http://{s.worker.web_host}:{s.worker.web_port}/status")
    if as_json:
        console.print_json(json.dumps(data))
        return
    lag = data["lag"]
    shown = lag.get("error") or f"{lag['total']} (rounded up to {lag['rounded_up_to']})"
    console.print(f"group [bold]{data['group']}[/]: lag {shown}")
    counts = Table("table", "rows", title="Warehouse (SGBV rows not counted)")
    for name, n in data["warehouse"].get("tables", {}).items():
        counts.add_row(name, str(n))
    console.print(counts)
    dead = Table("reason", "messages", title="Dead letters")
    for code, n in data["warehouse"].get("deadletters_by_reason", {}).items():
        dead.add_row(code, str(n))
    console.print(dead)
    partners = Table(
        "partner",
        "events (not SGBV)",
        "last reported",
        "SGBV reported this month",
        title="Partners",
    )
    for code, p in data["warehouse"].get("partners", {}).items():
        sgbv = p.get("sgbv_reported_this_month", "-")
        partners.add_row(code, str(p["events"]), p["last_reported_at"] or "-", sgbv)
    console.print(partners)
