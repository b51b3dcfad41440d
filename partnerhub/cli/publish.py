"""The partner side of the CLI: ``publish``, ``template`` and the ``partners`` group.

The root app merges this app's commands (``app.add_typer(publish.app)`` without a name), so
they appear as ``partnerhub publish``, ``partnerhub template`` and ``partnerhub partners ...``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from broker.settings import KafkaSettings
from partnerhub.cli import partners
from partnerhub.cli.common import BULK, DATA_DIR, CliError, console, err_console, settings
from producers import refs, sheet_files, sheets
from producers.prepare import utc_now
from producers.sdk import BrokerUnavailable, Delivery, Publisher
from schemas.bulk import MAX_EVENTS
from schemas.refdata import Partner
from schemas.vocabulary import Kind

app = typer.Typer()
app.add_typer(partners.app, name="partners")


class TemplateFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def _say(line: str) -> None:
    """One line to stdout, never wrapped (paths and ids stay whole for copying)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _say_problem(line: str) -> None:
    err_console.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command("publish")
def publish_cmd(
    files: list[Path] = typer.Argument(..., help="CSV, XLSX or JSON Lines files."),
    partner: str = typer.Option(..., "--partner", help="Your partner code in the registry."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; send nothing."),
    write_ids: bool = typer.Option(
        False, "--write-ids", help="Write <file>.with-ids.<ext>: a copy with event_id filled in."
    ),
    refs_key_file: Path | None = typer.Option(
        None,
        "--refs-key-file",
        help=f"Key file (hex) for hashing registration_ids (else ${refs.KEY_ENV}).",
    ),
    max_problems: int = typer.Option(50, "--max-problems", min=1, help="Problems to show."),
    timeout: float = typer.Option(
        120.0, "--timeout", min=1, help="Seconds to wait for the broker to take every event."
    ),
    connect_timeout: float = typer.Option(
        5.0, "--connect-timeout", min=0.5, help="Seconds to wait for the broker to answer at all."
    ),
    bulk: int = BULK,
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Check every row of FILES and, when all are valid, publish them as events.

    A row without an event_id gets one derived from its content, so publishing the same file
    again never double counts; editing such a row makes it a new event (use --write-ids to keep
    the ids for corrections). The broker is PARTNERHUB_KAFKA__BOOTSTRAP (HOST:PORT; `partnerhub
    up` prints the line to export).
    """
    hub = settings(data_dir)
    registry = hub.registry()
    if partner not in registry:
        raise CliError(f"--partner {partner}: not in the partner registry")
    for path in files:
        sheet_files.file_format(path)
        if not path.is_file():
            raise CliError(f"{path}: no such file")
    refs_key = refs.find_key(refs_key_file)
    with console.status(f"checking {len(files)} file(s) ..."):
        loaded = sheets.load(files, partner, registry, refs_key=refs_key, now=utc_now())
    if loaded.problems:
        for located in loaded.problems[:max_problems]:
            _say_problem(str(located))
        hidden = len(loaded.problems) - max_problems
        if hidden > 0:
            _say_problem(f"... and {_count(hidden, 'more problem')}")
        rows = len({located.source for located in loaded.problems})
        problems = _count(len(loaded.problems), "problem")
        _say_problem(f"{problems} in {_count(rows, 'row')}: nothing was sent")
        raise typer.Exit(1)
    for source in loaded.examples:
        _say(f"{source}: the template's example row, skipped (never published)")
    if write_ids:
        _write_ids(loaded)
    by_kind = Counter(prepared.event.kind.value for _, prepared in loaded.events)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(by_kind.items())) or "none"
    if dry_run or not loaded.events:
        _say(f"{_count(len(loaded.events), 'event')} valid ({kinds}); nothing sent")
        return
    _publish(loaded, partner, registry, hub.kafka, (timeout, connect_timeout), max_problems, bulk)


def _count(n: int, noun: str) -> str:
    """``1 problem``, ``3 problems``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _write_ids(loaded: sheets.Loaded) -> None:
    for path, ids in loaded.derived_ids.items():
        out = sheet_files.write_with_ids(path, ids, sheet_files.ids_copy_path(path))
        _say(f"wrote {out} ({len(ids)} event ids filled in)")


def _publish(
    loaded: sheets.Loaded,
    partner: str,
    registry: Mapping[str, Partner],
    kafka: KafkaSettings,
    timeouts: tuple[float, float],
    max_problems: int,
    bulk: int = MAX_EVENTS,
) -> None:
    """Send the checked events with a progress bar; report per topic and any failure.

    ``timeouts`` are (seconds for every acknowledgement, seconds for the broker to answer)."""
    timeout, connect_timeout = timeouts
    progress = Progress(
        TextColumn("publishing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    try:
        publisher = Publisher(
            partner,
            kafka,
            registry=registry,
            producer_options={"bootstrap_timeout_ms": int(connect_timeout * 1000)},
        )
    except BrokerUnavailable as error:
        raise CliError(
            f"{error}; nothing was sent. Set PARTNERHUB_KAFKA__BOOTSTRAP to the broker's "
            "HOST:PORT (`partnerhub up` prints the export line)"
        ) from None
    with publisher, progress:
        task = progress.add_task("publishing", total=len(loaded.events))

        def advance(_: Delivery) -> None:
            progress.advance(task)

        report = publisher.publish_many(
            (prepared for _, prepared in loaded.events),
            on_delivery=advance,
            timeout=timeout,
            bulk_size=bulk,
        )
    table = Table("topic", "events", title=f"Published to {kafka.bootstrap}")
    for topic, count in sorted(report.by_topic.items()):
        table.add_row(topic, str(count))
    console.print(table)
    if report.failed:
        for index, failure in report.failed[:max_problems]:
            _say_problem(f"{loaded.events[index][0]}: -: not_delivered: {failure}")
        _say_problem(
            f"{len(report.failed)} of {_count(len(loaded.events), 'event')} were not acknowledged; "
            "publishing the same files again is safe"
        )
        raise typer.Exit(1)
    _say(f"{_count(report.delivered, 'event')} published")


@app.command("template")
def template_cmd(
    kind: Kind = typer.Option(..., "--kind", help="The kind of activity the sheet reports."),
    fmt: TemplateFormat = typer.Option(TemplateFormat.CSV, "--format", help="csv or xlsx."),
    out: Path | None = typer.Option(
        None, "--out", help="File to write (default: <kind>_template.<format>)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Write a sheet template: the headers, a row of allowed values, and one example row."""
    path = out or Path(f"{kind.value}_template.{fmt.value}")
    sheet_files.write_template(kind, fmt.value, path)
    _say(f"wrote {path}")
