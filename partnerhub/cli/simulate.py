"""``partnerhub simulate``: realistic partner traffic, with faults, and the truth to check it by."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from kafka.errors import KafkaError
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from broker.settings import KafkaSettings
from partnerhub.cli.common import BULK, DATA_DIR, CliError, console, settings
from producers.simulator import (
    Simulation,
    SimulationSpec,
    missing_topics,
    publish,
    simulate,
)
from schemas import refdata
from schemas.refdata import Partner
from schemas.topics import parse_topic

#: What ``--faults`` sets each fault to, unless that fault is given explicitly.
FAULTS_PRESET = 0.02
TRUTH_FILE = "simulation-truth.json"
_OPTIONS = {"start": "--from", "end": "--to"}


def _fraction(name: str, what: str) -> Any:
    return typer.Option(None, f"--{name}", min=0.0, max=1.0, help=f"Fraction of events: {what}.")


def simulate_cmd(
    start: str = typer.Option("2006-01", "--from", help="First month, YYYY-MM."),
    end: str = typer.Option("2006-12", "--to", help="Last month, YYYY-MM."),
    events: int = typer.Option(2_000, "--events", min=1, help="Valid base events to generate."),
    seed: int = typer.Option(2006, "--seed", help="Same seed, same bytes."),
    rate: float | None = typer.Option(
        None, "--rate", min=0.001, help="Events per second (default: as fast as possible)."
    ),
    bulk: int = BULK,
    duplicates: float | None = _fraction("duplicates", "identical re-sends"),
    corrections: float | None = _fraction("corrections", "revision 2 with changed cells"),
    retractions: float | None = _fraction("retractions", "later retractions"),
    invalid: float | None = _fraction("invalid", "extra messages breaking the contract"),
    late: float | None = _fraction("late", "reports weeks late"),
    faults: bool = typer.Option(
        False, "--faults", help=f"{FAULTS_PRESET:.0%} of each fault not given explicitly."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help=f"Ground-truth file (default: <data_dir>/{TRUTH_FILE})."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write the truth file; publish nothing."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Simulate partners of the 2006 Kazakhstan operation reporting to the hub (the broker:
    PARTNERHUB_KAFKA__BOOTSTRAP, which `partnerhub up` prints)."""
    hub = settings(data_dir)
    given = {
        "duplicates": duplicates,
        "corrections": corrections,
        "retractions": retractions,
        "invalid": invalid,
        "late": late,
    }
    fractions = {
        name: value if value is not None else (FAULTS_PRESET if faults else 0.0)
        for name, value in given.items()
    }
    registry = refdata.load_partners(hub.registry_path) if hub.registry_path else None
    spec = _spec(start=start, end=end, events=events, seed=seed, partners=registry, **fractions)

    began = time.perf_counter()
    with console.status("generating events"):
        sim = simulate(spec)
    took = time.perf_counter() - began
    path = truth or hub.data_dir / TRUTH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sim.truth.to_json(), encoding="utf-8")
    console.print(
        f"generated {len(sim.messages):,} messages from {events:,} events "
        f"in {took:.2f} s; truth: {path}",
        soft_wrap=True,
    )
    if dry_run:
        console.print(f"dry run: would publish {summary(sim)}", soft_wrap=True)
        return
    took = _publish(sim, hub.kafka, rate, bulk)
    pace = len(sim.messages) / max(took, 1e-9)
    console.print(
        f"published to {hub.kafka.bootstrap} in {took:.1f} s ({pace:,.0f}/s): {summary(sim)}",
        soft_wrap=True,
    )


def _spec(*, partners: dict[str, Partner] | None, **values: Any) -> SimulationSpec:
    """The spec, or a one-line CliError naming the first bad option."""
    try:
        if partners is None:
            return SimulationSpec(**values)
        return SimulationSpec(partners=partners, **values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        if first["type"] == "string_pattern_mismatch":
            message = f"{first['input']!r} is not a month written YYYY-MM"
        else:
            message = first["msg"].removeprefix("Value error, ")
        option = _OPTIONS.get(field, f"--{field}")
        raise CliError(f"{option}: {message}" if field else message) from None


def _publish(sim: Simulation, kafka: KafkaSettings, rate: float | None, bulk: int) -> float:
    """Publish with a progress bar once every topic exists; the seconds it took."""
    try:
        absent = missing_topics(kafka, {m.topic for m in sim.messages})
        if absent:
            raise CliError(
                f"{len(absent)} topic(s) missing on {kafka.bootstrap}, e.g. {absent[0]}: "
                "create the registry's topics first (`partnerhub partners sync`)"
            )
        began = time.perf_counter()
        with Progress(
            TextColumn("publishing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("publish", total=len(sim.messages))
            publish(
                sim.messages,
                kafka,
                rate,
                progress=lambda n: bar.advance(task, n),
                bulk_size=bulk,
            )
    except KafkaError as error:
        raise CliError(
            f"broker {kafka.bootstrap}: {error}; set PARTNERHUB_KAFKA__BOOTSTRAP to the broker's "
            "HOST:PORT (`partnerhub up` prints the export line)"
        ) from None
    return time.perf_counter() - began


def summary(sim: Simulation) -> str:
    """One line: messages by topic kind, then the faults injected."""
    kinds = Counter(ref.kind for m in sim.messages if (ref := parse_topic(m.topic)))
    by_kind = ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items()))
    faults = ", ".join(f"{name} {n:,}" for name, n in sim.truth.faults.items() if n)
    return f"{len(sim.messages):,} messages ({by_kind}); faults: {faults or 'none'}"
