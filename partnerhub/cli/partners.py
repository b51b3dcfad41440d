"""``partnerhub partners``: the partner registry and the topics it calls for."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from broker.topics import sync_topics
from partnerhub.cli.common import DATA_DIR, console, settings

app = typer.Typer(help="The partner registry and its Kafka topics.", no_args_is_help=True)


@app.command("list")
def list_cmd(data_dir: Path | None = DATA_DIR) -> None:
    """Show the partner registry: code, name, type, mandated kinds, regions of work."""
    table = Table("code", "name", "type", "kinds", "regions", title="Partner registry")
    for partner in settings(data_dir).registry().values():
        table.add_row(
            partner.code,
            partner.name,
            partner.type,
            "\n".join(kind.value for kind in partner.kinds),
            " ".join(partner.regions),
        )
    console.print(table)


@app.command("sync")
def sync_cmd(
    partitions: int | None = typer.Option(
        None,
        "--partitions",
        min=1,
        help="Partitions of new topics (default: PARTNERHUB_KAFKA__PARTITIONS).",
    ),
    grow: bool = typer.Option(
        False, "--grow", help="Give existing topics with fewer partitions that many (never fewer)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Create the registry's topics that are missing; with --grow, add partitions to existing
    topics that have fewer (for more workers)."""
    hub = settings(data_dir)
    wanted = hub.kafka.partitions if partitions is None else partitions
    result = sync_topics(hub.kafka, hub.registry(), wanted, grow=grow)
    table = Table("topic", "status", "partitions", title=f"Topics on {hub.kafka.bootstrap}")
    for topic in result.created:
        table.add_row(topic, "[green]created[/]", str(result.partitions.get(topic, "?")))
    for topic in result.existing:
        status = (
            f"[green]grown from {result.grown[topic]}[/]" if topic in result.grown else "existing"
        )
        table.add_row(topic, status, str(result.partitions.get(topic, "?")))
    console.print(table)
    console.print(f"{len(result.created)} created, {len(result.existing)} already existed")
    mismatched = result.mismatched(wanted)
    if mismatched:
        console.print(
            f"[yellow]note[/]: {len(mismatched)} existing topics have other than {wanted} "
            "partitions (see the table); --grow gives those with fewer more"
        )
