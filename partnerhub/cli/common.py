"""What every CLI command shares: the console, the one-line error, and loading settings."""

from __future__ import annotations

from rich.console import Console

from partnerhub.settings import HubSettings

console = Console()
err_console = Console(stderr=True)


class CliError(Exception):
    """A failure to report as one clear line (file, row and field where there are any)."""


class State:
    """Options of the root command, read by subcommands."""

    verbose: bool = False


def settings() -> HubSettings:
    """The hub's settings from the environment and ``.env``."""
    return HubSettings()
