"""``partnerhub schemas``: the JSON Schema files partners validate against."""

from __future__ import annotations

from pathlib import Path

import typer

from partnerhub.cli.common import DATA_DIR, CliError, console
from schemas import export

app = typer.Typer(help="The event contract's JSON Schema files.", no_args_is_help=True)


@app.command("export")
def export_cmd(
    out: Path = typer.Option(export.JSON_DIR, help="Folder to write the schema files to."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; fail if the files differ from the models."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Export the contract's JSON Schema (draft 2020-12): the envelope, a bulk message and one file
    per kind."""
    if check:
        stale = export.stale_files(out)
        if stale:
            raise CliError(
                f"{out}: {', '.join(stale)} differ from the models; run `partnerhub schemas export`"
            )
        console.print(f"[green]ok[/]: {out} matches the contract models")
        return
    for path in export.write(out):
        console.print(f"wrote {path}")
