"""The ``partnerhub`` command: one Typer app, one module per command group.

Errors are printed as one line; ``--verbose`` adds the traceback and debug logging.
"""

from __future__ import annotations

import logging
import sys
import traceback

import typer

from partnerhub.cli import dashboards, gateway, publish, rollup, schemas, stack, worker
from partnerhub.cli.common import CliError, State, err_console
from partnerhub.cli.provision import provision
from partnerhub.cli.simulate import simulate_cmd
from partnerhub.cli.warehouse import app as warehouse_app

app = typer.Typer(
    help="Partner Hub: partner activity in, one live picture out.",
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
app.command("simulate")(simulate_cmd)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(dashboards.app, name="dashboards")
app.command("rollup")(rollup.rollup)
app.command("gateway")(gateway.gateway)
app.add_typer(gateway.tokens_app, name="tokens")
app.add_typer(gateway.kobo_app, name="kobo")


@app.callback()
def root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and full tracebacks."),
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
        err_console.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
