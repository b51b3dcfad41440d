"""``partnerhub dashboards``: build the Grafana dashboards from code, check them, push them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from dashboards.catalog import dashboards
from dashboards.files import JSON_DIR, compare, render, write
from dashboards.push import PushError, connect, push
from partnerhub.cli.common import CliError, console, settings

app = typer.Typer(help="Grafana dashboards as code.", no_args_is_help=True)


@app.command("build")
def build_cmd(
    check: bool = typer.Option(
        False, "--check", help="Change nothing; fail if the files differ from the code."
    ),
    out: Path = typer.Option(JSON_DIR, "--out", help="The provisioned dashboards folder."),
) -> None:
    """Write the dashboards' JSON (Grafana's file-provisioning layout) into ``--out``.

    The SGBV threshold, the silence limit, the partner registry and the data source uid come
    from the settings, so the committed files are those of the default settings.
    """
    hub = settings()
    files = render(dashboards(hub.dashboard_context()), hub.grafana.datasource_uid)
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
) -> None:
    """Save the dashboards into a Grafana through its HTTP API (idempotent).

    For a Grafana without the hub's file provisioning; the token is
    PARTNERHUB_GRAFANA__TOKEN, the folder PARTNERHUB_GRAFANA__FOLDER.
    """
    hub = settings()
    target = url or hub.grafana.url
    if not target:
        raise CliError("no Grafana URL: pass --url or set PARTNERHUB_GRAFANA__URL")
    uid = hub.grafana.datasource_uid
    models = [d.to_json(uid) for d in dashboards(hub.dashboard_context())]
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
