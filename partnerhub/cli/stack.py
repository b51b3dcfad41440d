"""``partnerhub up`` runs the embedded stack in the foreground; ``partnerhub demo`` the main job."""

from __future__ import annotations

import shlex
import signal
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from time import monotonic
from types import FrameType
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from broker.apache_kafka import KafkaNotInstalled
from partnerhub.cli.common import DATA_DIR, CliError, console, settings
from partnerhub.stack import DEMO_MARK, TANSU_WARNING, BrokerKind, LocalStack, reset_folder

#: ``--broker``: what each embedded broker guarantees is in the README's quick start.
BROKER_HELP = (
    "Embedded broker: tansu (nothing to install; messages in memory only, lost when the stack "
    "stops) or kafka (Apache Kafka, needs Java 17+ and Maven; its log is kept in the data "
    "folder, so a restart loses nothing acknowledged)."
)


def _broker_kind(value: str) -> BrokerKind:
    if value not in ("tansu", "kafka"):
        raise typer.BadParameter(f"--broker must be tansu or kafka, not {value!r}")
    return "kafka" if value == "kafka" else "tansu"


def _start(stack: LocalStack) -> None:
    """Start ``stack``; a missing Java or Maven is one line saying what to install."""
    what = "Apache Kafka" if stack.broker_kind == "kafka" else "the broker"
    try:
        with console.status(f"starting {what}, topics, warehouse, worker and gateway ..."):
            stack.start()
    except KafkaNotInstalled as error:
        raise CliError(f"--broker kafka: {error}") from None


#: A worker that dies more often than this in a minute is not restarted by ``up``.
MAX_RESTARTS_A_MINUTE = 3


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM (the handlers replace Python's defaults)."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def up(
    data_dir: Path | None = DATA_DIR,
    kafka: str = typer.Option(None, help="Use this Kafka (HOST:PORT) instead of Tansu."),
    clickhouse: str = typer.Option(None, help="Use this ClickHouse URL instead of chdb."),
    port: int = typer.Option(None, help="Port of the worker's status API (default 6066)."),
    broker: str = typer.Option("tansu", "--broker", help=BROKER_HELP),
    kafka_port: int = typer.Option(None, help="Port of the embedded broker (default: any)."),
    gateway_port: int = typer.Option(
        None, help="Port of the HTTP gateway (default: settings, 8088; 0: any free port)."
    ),
) -> None:
    """Run the embedded stack in the foreground: broker, topics, warehouse, worker, gateway."""
    hub = settings(data_dir)
    if kafka:
        hub.kafka.bootstrap = kafka
    if clickhouse:
        hub.clickhouse.url = clickhouse
    if port is not None:
        hub.worker.web_port = port
    if gateway_port is not None:
        hub.gateway.port = gateway_port
    stop = _stop_on_signals()
    stack = LocalStack(
        hub,
        external_kafka=bool(kafka),
        broker=_broker_kind(broker),
        kafka_port=kafka_port,
        gateway=True,
    )
    if stack.broker_kind == "tansu" and not kafka:
        console.print(f"[yellow]{TANSU_WARNING}[/]", soft_wrap=True)
    restarts: list[float] = []
    try:
        _start(stack)
        console.print(f"[bold green]Partner Hub is up[/] (data in {hub.data_dir})")
        console.print(f"  Kafka bootstrap  {hub.kafka.bootstrap}")
        if stack.broker_kind == "kafka" and not kafka:
            console.print(
                f"  Kafka            Apache Kafka, SASL_PLAINTEXT/SCRAM-SHA-512, log in "
                f"{hub.data_dir / 'kafka'}; passwords in "
                f"{hub.data_dir / 'kafka' / 'credentials.json'}"
            )
        console.print(
            f"  processes        broker pid {stack.broker.pid if stack.broker else '-'}, "
            f"worker pid {stack.worker.pid if stack.worker else '-'}"
        )
        console.print(f"  status           {stack.status_url}  (partnerhub status)")
        console.print(f"  metrics          {stack.status_url.replace('/status', '/metrics')}")
        console.print(
            f"  HTTP gateway     {stack.gateway_url}  (partnerhub tokens create --partner CODE)"
        )
        console.print(f"  logs             {stack.logs}")
        sasl = (
            []
            if stack.broker_kind != "kafka" or kafka
            else [
                f"export PARTNERHUB_KAFKA__SECURITY_PROTOCOL={hub.kafka.security_protocol}",
                "# and PARTNERHUB_KAFKA__USERNAME / __PASSWORD from the credentials file above",
            ]
        )
        _say_next_steps(
            [
                f"export PARTNERHUB_KAFKA__BOOTSTRAP={hub.kafka.bootstrap}",
                *sasl,
                f"export PARTNERHUB_DATA_DIR={shlex.quote(str(hub.data_dir.resolve()))}",
                f"export PARTNERHUB_WORKER__WEB_PORT={hub.worker.web_port}",
                "partnerhub template --kind assistance --format xlsx",
                "partnerhub publish --partner kzlegal assistance_template.xlsx --dry-run",
                "partnerhub status",
            ],
            "in another terminal (the warehouse commands and `rollup` need the hub stopped):",
        )
        console.print("Ctrl-C stops everything.")
        while not stop.wait(0.5):
            if stack.worker is not None and stack.worker.poll() is not None:
                # The broker keeps what the worker had not written: start another worker
                # rather than stop the broker with it (and lose all that on Tansu).
                code = stack.worker.returncode
                restarts = [t for t in restarts if t > monotonic() - 60] + [monotonic()]
                if len(restarts) > MAX_RESTARTS_A_MINUTE:
                    raise CliError(
                        f"the worker exited with {code} {len(restarts)} times within a minute; "
                        f"see {stack.logs / 'worker.log'}"
                    )
                console.print(f"[red]the worker exited with {code}[/]; starting it again")
                stack.start_worker()
            if stack.gateway is not None and stack.gateway.poll() is not None:
                raise CliError(
                    f"the gateway exited with {stack.gateway.returncode}; "
                    f"see {stack.logs / 'gateway.log'}"
                )
    finally:
        with console.status("stopping: the worker writes what the broker holds, then stops ..."):
            lost = stack.stop()
    if lost:
        console.print(f"[red]stopped; {lost:,} messages were not written and are lost[/]")
    else:
        console.print("stopped")


def _say_next_steps(lines: list[str], where: str) -> None:
    """Commands to copy and paste, one per line, never wrapped or marked up."""
    console.print(f"Next steps, {where}")
    for line in lines:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def demo(
    # Not PARTNERHUB_DATA_DIR: the demo empties its folder, and must never empty the hub's own.
    data_dir: Path = typer.Option(
        Path(".partnerhub/demo"), "--data-dir", help="Demo data folder (emptied on every run)."
    ),
    start: str = typer.Option("2006-01", "--from", help="First simulated month."),
    end: str = typer.Option("2006-03", "--to", help="Last simulated month."),
    events: int = typer.Option(5000, help="Valid events to simulate."),
    faults: float = typer.Option(0.02, help="Share of each fault (duplicates, corrections, ...)."),
    seed: int = typer.Option(2006, help="Simulation seed."),
    broker: str = typer.Option("tansu", "--broker", help=BROKER_HELP),
) -> None:
    """The hub's main job on the embedded default: simulate, ingest, check, report, stop."""
    from producers.simulator import SimulationSpec, publish, simulate

    hub = settings()
    hub.data_dir = data_dir.resolve()
    hub.worker.web_port = 0  # any free port: a demo must not collide with a running hub
    reset_folder(hub.data_dir)
    spec = SimulationSpec.model_validate(
        {"start": start, "end": end, "events": events, "seed": seed}
        | dict.fromkeys(("duplicates", "corrections", "retractions", "invalid", "late"), faults)
    )
    # The hub lives "the day after the period", so 2006 reports are neither future nor stale.
    hub.start_time = datetime.combine(spec.today, time(6), UTC)
    sim = simulate(spec)
    truth_file = hub.data_dir / DEMO_MARK
    truth_file.write_text(sim.truth.to_json())
    console.print(
        f"simulated {start}..{end}: {len(sim.messages):,} messages "
        f"({sum(sim.truth.faults.values()):,} faults injected)"
    )
    stop = _stop_on_signals()
    stack = LocalStack(hub, broker=_broker_kind(broker))
    if stack.broker_kind == "tansu":
        console.print(f"[yellow]{TANSU_WARNING}[/]", soft_wrap=True)
    try:
        _start(stack)
        broker_pid = stack.broker.pid if stack.broker else "-"
        worker_pid = stack.worker.pid if stack.worker else "-"
        console.print(
            f"stack up: broker {hub.kafka.bootstrap} (pid {broker_pid}), "
            f"worker pid {worker_pid}, {stack.status_url}"
        )
        _publish(sim.messages, stack.admin, publish)
        _drain(hub, len(sim.messages), stop)
        code = stack.stop_worker()
        if code != 0:
            raise CliError(f"the worker stopped with exit code {code}; see {stack.logs}")
        ok = _report(hub, sim, truth_file)
    finally:
        stack.stop()
    console.print("stack stopped: no broker or worker left running")
    folder = shlex.quote(str(hub.data_dir))
    _say_next_steps(
        [
            f"export PARTNERHUB_DATA_DIR={folder}",
            "partnerhub warehouse totals",
            f"partnerhub rollup --month {end}",
            "partnerhub up   # the stack again on this data; it prints its "
            "export PARTNERHUB_KAFKA__BOOTSTRAP=... line",
        ],
        "on the demo's data (every command takes --data-dir too):",
    )
    if not ok:
        raise typer.Exit(1)


def _publish(messages: Any, kafka: Any, publish: Any) -> None:
    """Publish the simulation as ``kafka`` (the embedded broker's admin: it writes every
    partner's topics)."""
    columns = (TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("publish", total=len(messages))
        publish(messages, kafka, progress=lambda n: progress.advance(task, n))


def _drain(hub: Any, expected: int, stop: threading.Event) -> None:
    from broker.lag import wait_for_drain
    from streams.app import APP_ID, partner_topics

    with console.status("waiting for the worker to drain (lag from high watermarks) ..."):
        wait_for_drain(
            hub.kafka, APP_ID, partner_topics(hub.registry()), timeout=600, expect_messages=expected
        )
    if stop.is_set():
        raise CliError("interrupted")


def _protection_lines(runs: dict[str, Any], truth: dict[tuple[str, str], Any]) -> bool:
    """Print each roll-up's protection-training and RSD pipeline totals; True when both
    tables are in every HTML page and count the truth's events of their kinds."""
    from rollups import protection

    ok = True
    for month, run in runs.items():
        publication = run.report.publication
        trainings = protection.training_table(publication)[-1]
        pipeline = {line.stage: line for line in protection.rsd_pipeline(publication)}
        rsd_events = sum(
            int(row.values["events"] or 0) for row in publication.rows if row.kind == "rsd_casework"
        )
        console.print(
            f"  {month} protection training: {trainings.trainings} trainings,"
            f" {trainings.sessions} sessions ({trainings.curriculum_sessions} in curricula),"
            f" {trainings.participants} participants"
        )
        console.print(
            f"  {month} RSD pipeline (cases): counselled {pipeline['counselled'].total_cases},"
            f" submitted {pipeline['submitted'].total_cases},"
            f" recognized {pipeline['recognized'].total_cases},"
            f" rejected {pipeline['rejected'].total_cases}"
        )
        page = run.files["html"].read_text(encoding="utf-8")
        ok = ok and "<h2>Protection training</h2>" in page and "<h2>RSD pipeline</h2>" in page
        ok = ok and trainings.trainings == truth.get((month, "protection_training"), (0, 0))[0]
        ok = ok and rsd_events == truth.get((month, "rsd_casework"), (0, 0))[0]
    return ok


def _report(hub: Any, sim: Any, truth_file: Path) -> bool:
    """Compare the warehouse with the simulator's ground truth, produce each month's roll-up,
    and print where everything is; True when every check passed."""
    from partnerhub.cli.warehouse import by_month_and_kind, sgbv_totals, shown
    from rollups.months import months_between
    from rollups.produce import run_rollup
    from streams.clock import shifted_clock
    from warehouse.client import open_warehouse
    from warehouse.facts import deadletter_counts, totals_by_month
    from warehouse.reconcile import reconcile_changed

    wh = open_warehouse(hub.clickhouse, hub.data_dir)
    try:
        totals, standing = totals_by_month(wh), reconcile_changed(wh)
        letters = deadletter_counts(wh)
        alerts = wh.query(
            "SELECT alert_type, count() AS n FROM alerts FINAL "
            "WHERE overlap > 0 OR alert_type != 'duplicate_assistance' "
            "GROUP BY alert_type ORDER BY alert_type"
        )
        clock = shifted_clock(hub.start_time or datetime.now(UTC))
        rollups = hub.rollups()
        with Progress(
            TextColumn("roll-ups"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            months = months_between(sim.spec.start, sim.spec.end)
            task = progress.add_task("roll-ups", total=len(months))
            runs = {}
            for month in months:
                runs[month] = run_rollup(
                    wh,
                    rollups,
                    month,
                    clock=clock,
                    created_by="demo",
                    out_dir=rollups.folder / month,
                )
                progress.advance(task)
    finally:
        wh.close()
    truth = [dict(row) for row in sim.truth.totals]
    hub_sums, truth_sums = by_month_and_kind(totals), by_month_and_kind(truth)
    table = Table(
        "month",
        "kind",
        "events (hub)",
        "events (truth)",
        "people (hub)",
        "people (truth)",
        "",
        title="Totals: hub vs the simulator's ground truth",
    )
    for key in sorted(set(hub_sums) | set(truth_sums)):
        got, want = hub_sums.get(key, (0, 0)), truth_sums.get(key, (0, 0))
        mark = "[green]✓[/]" if got == want else "[red]✗[/]"
        if key[1] == "sgbv":  # the published figures only; the comparison is of exact ones
            run = runs.get(key[0])
            got = want = sgbv_totals(run.report.publication.sgbv if run else None)
        table.add_row(*key, *(shown(n) for n in (*got[:1], *want[:1], *got[1:], *want[1:])), mark)
    console.print(table)
    exact = totals == truth
    checks = {
        "every total equals the ground truth (month x partner x kind x region x group)": exact,
        "aggregates reconcile with a recomputation from the facts": standing.ok,
        "dead letters equal the injected invalid messages, by reason": (
            letters == dict(sim.truth.deadletters)
        ),
    }
    for row in alerts:
        console.print(f"  alerts raised: {row['alert_type']} x {row['n']}")
    for month, run in runs.items():
        reconciled = "reconciled" if not run.rollup.reconciliation.differences else "DIFFERS"
        console.print(f"roll-up {month} v{run.version.version} ({reconciled}): {run.files['html']}")
    checks["each month's roll-up reconciles with the streaming aggregates"] = all(
        not run.rollup.reconciliation.differences for run in runs.values()
    )
    checks["each roll-up's protection-training and RSD pipeline tables match the truth"] = (
        _protection_lines(runs, truth_sums)
    )
    for text, passed in checks.items():
        console.print(f"{'[green]✓[/]' if passed else '[red]✗[/]'} {text}")
    console.print(f"ground truth: {truth_file}")
    console.print(f"warehouse:    {hub.data_dir / 'warehouse'}")
    return all(checks.values())
