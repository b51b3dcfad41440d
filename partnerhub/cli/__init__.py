"""The ``partnerhub`` command: one Typer app, one module per command group.

Errors are printed as one line; ``--verbose`` adds the traceback and debug logging.
"""

from __future__ import annotations

import logging
import sys
import traceback

import typer
from rich.markup import escape

from partnerhub.cli import dashboards, gateway, publish, rollup, schemas, stack, worker
from partnerhub.cli.common import CliError, State, err_console
from partnerhub.cli.preflight import preflight
from partnerhub.cli.provision import provision
from partnerhub.cli.simulate import simulate_cmd
from partnerhub.cli.warehouse import app as warehouse_app

#: Shown under every ``--help`` of the root: where settings come from (pydantic-settings).
SETTINGS_EPILOG = (
    "Settings come from PARTNERHUB_* environment variables (or a .env file), '__' between "
    "nested parts: PARTNERHUB_DATA_DIR (the data folder, also --data-dir), "
    "PARTNERHUB_KAFKA__BOOTSTRAP (the broker, HOST:PORT; `partnerhub up` prints it), "
    "PARTNERHUB_CLICKHOUSE__URL (a ClickHouse server instead of the embedded chdb), "
    "PARTNERHUB_WORKER__WEB_PORT (the worker's status API), PARTNERHUB_SGBV_THRESHOLD."
)

app = typer.Typer(
    help="Partner Hub: partner activity in, one live picture out.",
    epilog=SETTINGS_EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(schemas.app, name="schemas")
app.add_typer(publish.app)  # publish, template, partners
app.command("worker")(worker.worker)
app.command("up")(stack.up)
app.command("demo")(stack.demo)
app.command("status")(worker.status)
app.command("provision")(provision)
app.command("preflight")(preflight)
app.command("simulate")(simulate_cmd)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(dashboards.app, name="dashboards")
app.command("rollup")(rollup.rollup)
app.command("gateway")(gateway.gateway)
app.add_typer(gateway.tokens_app, name="tokens")
app.add_typer(gateway.kobo_app, name="kobo")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"partnerhub {version('partnerhub')}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and full tracebacks."),
    _: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Partner Hub: partner activity in, one live picture out."""
    State.verbose = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # kafka-python logs every reconnect; the CLI says one clear line instead
        logging.getLogger("kafka").setLevel(logging.CRITICAL)


def main() -> None:
    """Console-script entry point: run the app, turning failures into one clear line."""
    try:
        app()
    except (CliError, OSError, ValueError, RuntimeError) as error:
        if State.verbose:
            traceback.print_exc()
        # escape: an error naming ``PARTNER_PASSWORDS[kzlegal]`` is not rich markup
        err_console.print(f"[red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
