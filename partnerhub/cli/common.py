"""What every CLI command shares: the console, the one-line error, and loading settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from partnerhub.settings import HubSettings
from schemas.bulk import MAX_EVENTS
from warehouse.client import Warehouse, WarehouseUnavailable, lock_holder, open_warehouse

#: Width of output that does not go to a terminal (a pipe, a file, a CI log): wide enough that
#: no table cell is cut (``durable_s…``) and no line wraps; ``COLUMNS`` still wins when set.
PIPE_WIDTH = 1000


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=PIPE_WIDTH if wide else None)


console = _console(stderr=False)
err_console = _console(stderr=True)

#: The one data folder every command uses: ``--data-dir``, else ``PARTNERHUB_DATA_DIR``, else
#: ``./.partnerhub``. A Typer option object may be the default of many commands.
#: ``--bulk`` of the publishing commands (``publish``, ``simulate``).
BULK: Any = typer.Option(
    MAX_EVENTS,
    "--bulk",
    min=1,
    max=MAX_EVENTS,
    help="Events per Kafka message (a bulk message per topic; 1: one message per event).",
)
DATA_DIR_ENV = "PARTNERHUB_DATA_DIR"
DATA_DIR: Any = typer.Option(
    None,
    "--data-dir",
    envvar=DATA_DIR_ENV,
    show_envvar=True,
    help="The hub's data folder (warehouse, logs, roll-ups) [default: ./.partnerhub].",
)


class CliError(Exception):
    """A failure to report as one clear line (file, row and field where there are any)."""


class State:
    """Options of the root command, read by subcommands."""

    verbose: bool = False


def settings(data_dir: Path | None = None) -> HubSettings:
    """The hub's settings from the environment and ``.env``; ``data_dir`` (from ``--data-dir``)
    replaces the data folder."""
    hub = HubSettings()
    if data_dir is not None:
        hub.data_dir = data_dir
    return hub


def open_hub_warehouse(hub: HubSettings, *, create: bool = False) -> Warehouse:
    """The hub's warehouse, or one clear line: when the embedded one does not exist (unless
    ``create``: chdb would make an empty one, and an empty table or a 0-row roll-up follow),
    or when the running hub holds it."""
    busy = (
        "the running hub owns it: stop the worker and run again, or give both a ClickHouse "
        "server (PARTNERHUB_CLICKHOUSE__URL)"
    )
    if hub.clickhouse.url is None:
        folder = hub.data_dir / "warehouse"
        if not create and not folder.is_dir():
            raise CliError(
                f"no warehouse in {hub.data_dir.resolve()}: point --data-dir (or "
                f"{DATA_DIR_ENV}) at the hub's data folder, e.g. .partnerhub/demo after "
                "`partnerhub demo`"
            )
        # Ask before chdb tries: it prints its own lock error to stderr.
        holder = lock_holder(folder)
        if holder is not None:
            who = f"process {holder}" if holder else "another process"
            raise CliError(f"warehouse folder {folder} is in use by {who}; {busy}")
    try:
        return open_warehouse(hub.clickhouse, hub.data_dir)
    except WarehouseUnavailable as error:
        raise CliError(f"{error}; {busy}") from None
