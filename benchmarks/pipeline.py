"""Stream-worker speed: throughput, latency, memory and scaling, beside two bare references.

    python benchmarks/pipeline.py [--events 200000] [--quick] [--rounds 1] [--partitions 2]
        [--key event|partner] [--batch-size N] [--batch-seconds S] [--latency-seconds 25]
        [--profile] [--keep DIR] [--broker tansu|kafka] [--bulk N]

Starts its own broker (``--broker``: Tansu, or Apache Kafka with the production settings,
SASL/SCRAM and ACLs, every client logged in as its admin, the production timing profile;
with ``kafka`` the latency run is also made on a Tansu, at the same rate, for the side-by-side
figure), creates the registry's topics (``sync_topics``) and pre-loads
``--events`` simulated valid events (``simulate``, no faults) before any consumer starts. Then,
each consumer in a fresh group (the hub's group is deleted between its runs) and each process
with its own data folder:

1. the hub worker, one process (``partnerhub worker``): validated events/s into the warehouse,
   from its first written batch to its last (polling ``/metrics``), then lag 0 from high
   watermarks; its peak memory (VmHWM) and RSS samples along the run;
2. a bare Faust agent that json-decodes and counts (``benchmarks/bare_faust.py``, the worker's
   own Faust options) and a bare aiokafka consumer that json-decodes and bulk-inserts into chdb
   (``benchmarks/bare_aiokafka_chdb.py``), each as a subprocess;
3. two hub workers in one group, each with its own chdb folder (chdb serves one process per
   folder), which measures the Kafka/Faust/validation side; with ``CLICKHOUSE_URL`` set, also
   one and then two workers sharing that ClickHouse server;
4. with ``--profile``, one more hub run with py-spy attached, summarised as top costs;
5. latency: on a fresh broker and folder, an idle worker gets events at half the measured
   rate; p50/p99 publish-to-queryable come from its ``/status`` (``worker.latency_seconds``);
6. with ``--bulk N``, on a fresh broker of the same kind, the same events pre-loaded as bulk
   messages of ``N`` events per topic (``schemas.bulk``), drained by one hub worker: validated
   events/s end to end beside the single-event hub run (ratio), against the 20,000/s moonshot.

``--key partner`` re-keys the messages by partner id instead of the contract's event id, to show
what the partition key does to two-worker scaling. Throughput runs repeat ``--rounds`` times,
interleaved; the best of each is reported (other work on the machine only ever slows a run).
Progress and phase times go to stderr, figures to stdout. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from procstat import memory_mb  # a sibling module: scripts run from benchmarks/
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broker import clients
from broker.apache_kafka import ApacheKafka
from broker.lag import committed_offsets, group_lag, high_watermarks
from broker.process import die_with_parent, free_port
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from partnerhub.stack import child_env
from producers.simulation.publish import in_bulk
from producers.simulator import Message, SimulationSpec, publish, simulate
from streams.app import APP_ID, partner_topics
from streams.settings import WorkerSettings
from warehouse.settings import ClickHouseSettings

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
progress_console = Console(stderr=True)

ACCEPTED = "partnerhub_events_accepted_total"
BATCHES = "partnerhub_sink_batches_total"
BATCH_SECONDS = "partnerhub_sink_batch_seconds"
LATENCY = "partnerhub_ingest_latency_seconds"
QUICK_EVENTS = 10_000
#: The moonshot of issue #15: validated events/s end to end on one worker, broker included.
MOONSHOT = 20_000
#: How often the drain loop reads the workers' counters and memory, in seconds.
POLL = 0.2


# --- processes -----------------------------------------------------------------------------


@contextmanager
def running_broker(kind: str, folder: Path, partitions: int) -> Iterator[KafkaSettings]:
    """A fresh broker of ``kind`` and the settings every client of the run uses."""
    if kind == "tansu":
        with LocalBroker(log_file=folder.with_suffix(".tansu.log")) as tansu:
            yield KafkaSettings(bootstrap=tansu.bootstrap, partitions=partitions)
        return
    kafka = ApacheKafka(folder, admin_password="bench-admin-password", log_file=folder / "log.txt")
    with kafka:
        yield kafka.settings().model_copy(
            update={"partitions": partitions, "profile": "production"}
        )


def hub_settings(
    folder: Path,
    kafka: KafkaSettings,
    worker: dict[str, Any],
    server: tuple[str, str] | None = None,
) -> HubSettings:
    """Settings for one hub process: its own data folder and status port, ``worker`` settings
    beside the defaults; chdb in that folder, or ``server`` = (ClickHouse URL, database)."""
    url, database = server or (None, "partnerhub")
    return HubSettings(
        data_dir=folder,
        kafka=kafka.model_copy(),
        clickhouse=ClickHouseSettings(url=url, database=database),
        worker=WorkerSettings(web_port=free_port(), **worker),
    )


class Migrations:
    """Warehouse migrations, each in a subprocess (chdb: one folder per process), started
    ahead of time so that they overlap other work, and waited for when a folder is used."""

    def __init__(self) -> None:
        self._running: dict[Path, subprocess.Popen[bytes]] = {}

    def start(self, settings: HubSettings) -> None:
        """Begin migrating the settings' warehouse (its data folder is created)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._running[settings.data_dir] = subprocess.Popen(
            [sys.executable, "-m", "partnerhub", "warehouse", "migrate"],
            env=child_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )

    def wait(self, settings: HubSettings) -> None:
        """Return once the settings' warehouse is migrated (migrating it now if not begun)."""
        if settings.data_dir not in self._running:
            self.start(settings)
        child = self._running.pop(settings.data_dir)
        _, err = child.communicate(timeout=120)
        if child.returncode:
            folder = settings.data_dir
            raise SystemExit(f"warehouse migrate in {folder} failed: {err.decode().strip()}")


def start_worker(settings: HubSettings) -> subprocess.Popen[bytes]:
    """``partnerhub worker`` with these settings, logging to ``<data_dir>/worker.log``."""
    with open(settings.data_dir / "worker.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "partnerhub", "worker"],
            env=child_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )


def stop(*processes: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM (a clean stop) to all, SIGKILL to those still running after ``timeout``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def get(port: int, path: str, timeout: float = 10.0) -> str | None:
    """The body of ``http://127.0.0.1:<port><path>``, or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return str(r.read().decode())
    except OSError:
        return None


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition as ``{"name{labels}": value}``."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def accepted(port: int) -> int | None:
    """The worker's accepted-events counter, or None while its web server is not up."""
    return counters(port)[0]


def counters(port: int) -> tuple[int | None, float]:
    """The worker's accepted-events counter (None while its web server is not up) and the
    seconds its last sink batch took."""
    text = get(port, "/metrics", timeout=5)
    if text is None:
        return None, 0.0
    values = parse_metrics(text)
    return int(values[ACCEPTED]), values[BATCH_SECONDS]


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; SystemExit after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL)
    return value


def forget_group(kafka: KafkaSettings, group: str) -> None:
    """Delete ``group`` and its committed offsets, so the next member starts from the earliest.

    (Tansu refuses offset commits from outside a group that once had members, so the group
    cannot be rewound; deleting it works, once its members have left.)
    """
    admin = clients.admin(kafka)
    try:
        wait_until(lambda: _deleted(admin, group), timeout=30, what=f"group {group} to be deleted")
    finally:
        admin.close()
    if any(committed_offsets(kafka, group).values()):
        raise SystemExit(f"group {group} still has committed offsets after its deletion")


def _deleted(admin: KafkaAdminClient, group: str) -> bool:
    try:
        result = admin.delete_groups([group])
    except KafkaError:
        return False
    return str(result.get(group)) in ("OK", "GroupIdNotFoundError")


# --- measurements --------------------------------------------------------------------------


@dataclass
class Drain:
    """One or more hub workers draining pre-loaded events."""

    label: str
    events: int  #: unique events the workers had to write
    first_batch: int  #: events already written at the first observed batch
    seconds: float  #: first observed batch -> last observed write
    commit_seconds: float  #: last write -> lag 0 (the commit interval and lag polling)
    per_worker: list[int]  #: events each worker wrote (their sum may exceed ``events``)
    peak_mb: list[float]
    rss_mb: list[list[float]]  #: per worker, samples along the run
    batch_seconds: list[float]  #: the first worker's last batch write time, along the run

    @property
    def rate(self) -> float:
        return (self.events - self.first_batch) / self.seconds if self.seconds else float("nan")

    @property
    def rewritten(self) -> int:
        """Events written twice, e.g. around a rebalance (at-least-once)."""
        return max(0, sum(self.per_worker) - self.events)


@dataclass
class Reference:
    label: str
    events: int
    first_batch: int
    seconds: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return (self.events - self.first_batch) / self.seconds if self.seconds else float("nan")


@dataclass
class Latency:
    rate: float
    events: int
    seconds: float  #: how long publishing took
    final: dict[str, float]  #: /status worker.latency_seconds after the run
    worst_p99: float  #: the highest p99 /metrics showed during the run
    peak_mb: float
    batches: int  #: sink batches written during the paced run
    write_seconds: list[float]  #: the last batch's write time, sampled every second


@dataclass
class Bench:
    """What the runs share: the broker's settings, the pre-loaded messages, the topics, the
    worker settings and the run's folders."""

    root: Path
    kafka: KafkaSettings
    messages: tuple[Message, ...]
    topics: list[str]
    worker: dict[str, Any] = field(default_factory=dict)
    migrations: Migrations = field(default_factory=Migrations)
    runs: Counter[str] = field(default_factory=Counter)

    def folder(self, name: str) -> Path:
        """A new folder name ``<name>-<n>`` under the run's root."""
        self.runs[name] += 1
        return self.root / f"{name}-{self.runs[name]}"

    def migrate_ahead(self, names: Sequence[str]) -> None:
        """Start migrating the chdb folders that ``folder(name)`` will return for ``names``."""
        ahead = self.runs.copy()
        for name in names:
            ahead[name] += 1
            self.migrations.start(self.settings(self.root / f"{name}-{ahead[name]}"))

    def settings(self, folder: Path, server: tuple[str, str] | None = None) -> HubSettings:
        return hub_settings(folder, self.kafka, self.worker, server)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    )


def drain_workers(
    bench: Bench,
    label: str,
    hubs: list[HubSettings],
    on_started: Callable[[list[subprocess.Popen[bytes]]], None] | None = None,
    on_stopping: Callable[[], None] | None = None,
) -> Drain:
    """Start ``len(hubs)`` workers on the pre-loaded events; measure until lag is 0.
    ``on_started`` runs once their web servers answer, ``on_stopping`` before they stop."""
    expected = len(bench.messages)
    for hub in hubs:
        bench.migrations.wait(hub)
    forget_group(bench.kafka, APP_ID)
    workers = [start_worker(hub) for hub in hubs]
    ports = [hub.worker.web_port for hub in hubs]
    try:
        with progress() as bar:
            task = bar.add_task(label, total=expected)
            wait_until(lambda: all(accepted(p) is not None for p in ports), 90, "the workers")
            if on_started is not None:
                on_started(workers)
            first: tuple[float, int] | None = None
            last_change, last_total = 0.0, -1
            samples: list[list[float]] = [[] for _ in workers]
            batch_seconds: list[float] = []
            deadline = time.monotonic() + max(180.0, expected / 300)
            while True:
                now = time.perf_counter()
                seen = [counters(p) for p in ports]
                counts = [n or 0 for n, _ in seen]
                total = sum(counts)
                batch_seconds.append(seen[0][1])
                for worker, rss in zip(workers, samples, strict=True):
                    if worker.poll() is not None:
                        raise SystemExit(f"a worker exited with {worker.returncode}: see logs")
                    rss.append(memory_mb(worker.pid)[0])
                if total and first is None:
                    first = (now, total)
                if total != last_total:
                    last_change, last_total = now, total
                bar.update(task, completed=min(total, expected))
                if total >= expected and not any(
                    group_lag(bench.kafka, APP_ID, bench.topics).values()
                ):
                    drained = time.perf_counter()
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{label}: {total} of {expected} written before the timeout")
                time.sleep(POLL)
        peaks = [memory_mb(worker.pid)[1] for worker in workers]
    finally:
        if on_stopping is not None:
            on_stopping()
        stop(*workers)
    assert first is not None
    return Drain(
        label=label,
        events=expected,
        first_batch=first[1],
        seconds=last_change - first[0],
        commit_seconds=drained - last_change,
        per_worker=counts,
        peak_mb=peaks,
        rss_mb=samples,
        batch_seconds=batch_seconds,
    )


def run_reference(bench: Bench, label: str, script: str, *extra: str) -> Reference:
    """Run a bare reference script as a subprocess on the pre-loaded events."""
    folder = bench.folder(script.removesuffix(".py"))
    hub = bench.settings(folder)
    folder.mkdir(parents=True)
    result = folder / "result.json"
    group = f"bench-{folder.name}-{os.getpid()}"
    expected = len(bench.messages)
    command = [sys.executable, str(HERE / script), group, str(expected), str(result), *extra]
    with open(folder / "run.log", "ab") as log, progress() as bar:
        bar.add_task(label, total=None)
        child = subprocess.Popen(
            command,
            env=child_env(hub),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        try:
            child.wait(timeout=max(180.0, expected / 300))
        except subprocess.TimeoutExpired:
            child.kill()
            raise SystemExit(f"{label} timed out; see {folder / 'run.log'}") from None
    if not result.exists():
        raise SystemExit(f"{label} exited {child.returncode} without a result; see {folder}")
    data = json.loads(result.read_text())
    return Reference(
        label, data["events"], data.get("first_batch", 1), data["seconds"], data["peak_rss_mb"]
    )


def measure_latency(
    messages: Sequence[Message],
    bench: Bench,
    rate: float,
    seconds: float,
    broker: str,
) -> Latency:
    """On a fresh broker and folder: an idle worker, then events published at ``rate``.

    One warm-up message goes first, and the paced run starts once the worker has written it
    (so the group has settled). Its latency stays in the worker's window of recent latencies,
    but one value among more than a hundred cannot move the p99.
    """
    warmup, paced = list(messages[:1]), list(messages[1 : 1 + max(100, int(rate * seconds))])
    partitions = bench.kafka.partitions
    with running_broker(broker, bench.folder(f"broker-latency-{broker}"), partitions) as kafka:
        hub = hub_settings(bench.folder("latency"), kafka, bench.worker)
        sync_topics(hub.kafka, hub.registry())
        bench.migrations.wait(hub)
        worker = start_worker(hub)
        port = hub.worker.web_port
        try:
            wait_until(lambda: accepted(port) is not None, 90, "the latency worker")
            publish(warmup, hub.kafka)
            wait_until(lambda: accepted(port), 60, "the warm-up message to be written")
            expected = len(warmup) + len(paced)
            published: dict[str, float] = {}

            def send() -> None:
                started = time.perf_counter()
                publish(paced, hub.kafka, rate=rate)
                published["seconds"] = time.perf_counter() - started

            sender = threading.Thread(target=send, name="publish", daemon=True)
            worst, writes = 0.0, []
            batches_before = parse_metrics(get(port, "/metrics") or "")[BATCHES]
            with progress() as bar:
                task = bar.add_task(f"latency at {rate:,.0f}/s", total=expected)
                sender.start()
                deadline = time.monotonic() + seconds * 3 + 60
                while (done := accepted(port) or 0) < expected:
                    if worker.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"latency run: {done} of {expected} written")
                    values = parse_metrics(get(port, "/metrics") or "")
                    worst = max(worst, values.get(f'{LATENCY}{{quantile="0.99"}}', 0))
                    writes.append(values.get(BATCH_SECONDS, 0.0))
                    bar.update(task, completed=done)
                    time.sleep(1.0)
                sender.join()
            status = json.loads(get(port, "/status", timeout=30) or "{}")
            peak = memory_mb(worker.pid)[1]
        finally:
            stop(worker)
    final = status["worker"]["latency_seconds"]
    batches = int(status["worker"]["batches"] - batches_before)
    return Latency(
        rate=rate,
        events=len(paced),
        seconds=published["seconds"],
        final=final,
        worst_p99=max(worst, final["p99"]),
        peak_mb=peak,
        batches=batches,
        write_seconds=writes,
    )


def shared_warehouse(bench: Bench, url: str) -> tuple[Drain, Drain]:
    """One worker, then two, writing to one ClickHouse server (a fresh database each run)."""
    from warehouse.client import ServerWarehouse

    databases = [f"partnerhub_bench_{os.getpid()}_{n}" for n in ("one", "two")]
    try:
        one = drain_workers(
            bench, "1 worker, shared", [bench.settings(bench.folder("shared"), (url, databases[0]))]
        )
        two = drain_workers(
            bench,
            "2 workers, shared",
            [bench.settings(bench.folder("shared"), (url, databases[1])) for _ in range(2)],
        )
    finally:
        for database in databases:
            wh = ServerWarehouse(url, database=database)
            try:
                wh.command(f"DROP DATABASE IF EXISTS {database}")
            finally:
                wh.close()
    return one, two


# --- profile -------------------------------------------------------------------------------


def profiler() -> str | None:
    """Path of py-spy, if installed (in this interpreter's bin folder or on PATH)."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile_hub(bench: Bench) -> list[str]:
    """One more hub run with py-spy attached; its top costs as printable lines."""
    spy = profiler()
    if spy is None:
        return ["py-spy is not installed (pip install py-spy): no profile"]
    out = bench.root / "profile.txt"
    recorders: list[subprocess.Popen[bytes]] = []

    def attach(workers: list[subprocess.Popen[bytes]]) -> None:
        command = [spy, "record", "--pid", str(workers[0].pid), "--format", "raw"]
        command += ["--output", str(out), "--rate", "100", "--nonblocking"]
        recorders.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        )

    hub = bench.settings(bench.folder("profile"))
    err = b""
    try:
        run = drain_workers(bench, "hub worker under py-spy", [hub], on_started=attach)
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
            _, err = recorder.communicate(timeout=60)
    if not out.exists():
        return [f"py-spy wrote no profile: {err.decode().strip()[-300:]}"]
    stacks = read_collapsed(out.read_text())
    lines = [f"profile of the hub worker (py-spy, 100 Hz; {run.rate:,.0f} events/s while sampled)"]
    return lines + summarise(stacks)


def read_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output as (frames root-first, samples)."""
    out = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            out.append((stack.split(";"), int(count)))
    return out


_FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


def frame_name(frame: str) -> tuple[str, str]:
    """(``module.function``-like name, layer) of one py-spy frame ``func (path:line)``."""
    match = _FRAME.match(frame)
    func, path = (match["func"], match["path"]) if match else (frame, "")
    if "site-packages/" in path:
        rel = path.split("site-packages/", 1)[1]
    elif path.startswith(str(REPO) + "/"):
        rel = path[len(str(REPO)) + 1 :]
    elif "/python3" in path and "/lib/" in path:
        rel = "stdlib/" + path.split("/lib/", 1)[1].split("/", 1)[1]
    else:
        rel = path
    module = rel.removesuffix(".py").replace("/", ".")
    layer = rel.split("/", 2)[1] if rel.startswith("stdlib/") else rel.split("/", 1)[0]
    return f"{module}.{func}", layer.removesuffix(".py")


def summarise(stacks: list[tuple[list[str], int]], top: int = 12) -> list[str]:
    """Where the samples went: self time by layer and by function, and inclusive time of the
    hub's own functions (entry points left out)."""
    total = sum(n for _, n in stacks) or 1
    by_layer: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own = ("streams", "schemas", "warehouse", "producers")
    for frames, n in stacks:
        names = [frame_name(f) for f in frames]
        by_layer[names[-1][1]] += n
        by_function[names[-1][0]] += n
        for name in {name for name, layer in names if layer in own}:
            if not name.endswith(".run_worker"):
                inclusive[name] += n

    def listed(title: str, counts: Counter[str]) -> list[str]:
        rows = [f"    {n / total:6.1%}  {name}" for name, n in counts.most_common(top)]
        return [f"  {title}:", *rows]

    return [
        f"  {total} samples (every Python thread; idle ones left out)",
        *listed("self time by layer (package, project folder or stdlib module)", by_layer),
        *listed("self time by function", by_function),
        *listed("inclusive time of the hub's own functions", inclusive),
    ]


# --- the run -------------------------------------------------------------------------------


def simulated(events: int, seed: int, key: str) -> tuple[Message, ...]:
    """``events`` valid simulated events, keyed by event id (the contract) or by partner id
    (the contract before #15, to show what the key does to scaling)."""
    with progress_console.status(f"simulating {events:,} events ..."):
        spec = SimulationSpec.model_validate(
            {"start": "2006-01", "end": "2006-12", "events": events, "seed": seed}
        )
        sim = simulate(spec)
    # SGBV messages are left out: the worker's counters never count them (docs/sgbv.md), and
    # the benchmark waits on those counters. Every runner gets the same messages.
    messages = tuple(m for m in sim.messages if ".sgbv." not in m.topic)
    if key == "event":
        return messages
    return tuple(m._replace(key=json.loads(m.value)["partner_id"].encode()) for m in messages)


def preload(
    kafka: KafkaSettings, messages: Sequence[Message], topics: list[str], bulk: int = 1
) -> int:
    """Publish every message (``bulk`` events per Kafka message), then check the broker holds
    them all; how many Kafka messages that made."""
    with progress() as bar:
        task = bar.add_task("pre-loading the broker", total=len(messages))
        publish(messages, kafka, progress=lambda n: bar.advance(task, n), bulk_size=bulk)
    held = sum(high_watermarks(kafka, topics).values())
    expected = len(in_bulk(messages, bulk))
    if held != expected:
        raise SystemExit(f"the broker holds {held} of {expected} messages")
    return held


@dataclass
class BulkRun:
    """One hub worker draining the same events pre-loaded as bulk messages."""

    size: int  #: events per bulk message (at most)
    messages: int  #: Kafka messages the events made
    drain: Drain


def bulk_run(args: argparse.Namespace, root: Path, bench: Bench) -> BulkRun:
    """On a fresh broker of the run's kind: the same events as bulk messages of ``args.bulk``,
    then one hub worker drains them (validated events/s, as the single-event run)."""
    with running_broker(args.broker, root / "broker-bulk", args.partitions) as kafka:
        bulk = Bench(root, kafka, bench.messages, bench.topics, bench.worker)
        bulk.migrate_ahead(["bulk"])
        sync_topics(kafka)
        messages = preload(kafka, bulk.messages, bulk.topics, args.bulk)
        drain = drain_workers(bulk, "hub worker, bulk", [bulk.settings(bulk.folder("bulk"))])
    return BulkRun(args.bulk, messages, drain)


def split_by_partition(kafka: KafkaSettings, topics: list[str]) -> dict[int, int]:
    """Messages per partition number, summed over topics (Faust assigns partition numbers)."""
    out: Counter[int] = Counter()
    for tp, mark in high_watermarks(kafka, topics).items():
        out[tp.partition] += mark
    return dict(sorted(out.items()))


@contextmanager
def workspace(keep: Path | None) -> Iterator[Path]:
    """A folder for the run: a new one under ``keep`` (kept), else a temporary one."""
    if keep is not None:
        folder = keep / time.strftime("run-%Y%m%d-%H%M%S")
        folder.mkdir(parents=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as temporary:
        yield Path(temporary)


def best(runs: Sequence[Any]) -> Any:
    """The fastest of several runs of one kind."""
    return max(runs, key=lambda r: r.rate)


def report(
    args: argparse.Namespace,
    hub: Drain,
    faust_ref: Reference,
    aiokafka_ref: Reference,
    two: Drain,
    latency: Latency,
    split: dict[int, int],
    server: tuple[Drain, Drain] | None,
    tansu_latency: Latency | None = None,
    bulk: BulkRun | None = None,
) -> None:
    """Print the figures table."""
    rounds = f"best of {args.rounds}" if args.rounds > 1 else "one round"
    broker = {"tansu": "Tansu", "kafka": "Apache Kafka (SASL/SCRAM, ACLs)"}[args.broker]
    print()
    print(f"figures on {broker}")
    print(f"({args.events:,} events pre-loaded, {args.partitions} partitions per topic,")
    print(f"key = {args.key} id, {rounds}, {os.cpu_count()} cores shared with the broker)")
    if args.quick:
        print("(--quick is a smoke test: a few batches per run, so the figures are rough)")
    print(f"{'':44}{'value':>14}  goal")
    rows = [
        ("hub worker, 1 process (events/s)", f"{hub.rate:,.0f}", ""),
        ("bare Faust agent, decode+count (events/s)", f"{faust_ref.rate:,.0f}", ""),
        ("bare aiokafka + chdb insert (events/s)", f"{aiokafka_ref.rate:,.0f}", ""),
        ("hub workers, 2 processes (events/s)", f"{two.rate:,.0f}", ""),
        ("ratio hub / bare Faust", f"{hub.rate / faust_ref.rate:.2f}", ">= 0.8"),
        ("ratio two workers / one", f"{two.rate / hub.rate:.2f}", ">= 1.8"),
        (
            f"latency p50 / p99 at {latency.rate:,.0f}/s (s)",
            f"{latency.final['p50']:.2f} / {latency.final['p99']:.2f}",
            "p99 <= 1" if args.broker == "kafka" else "p99 <= 2",
        ),
        ("worst p99 seen during that run (s)", f"{latency.worst_p99:.2f}", ""),
        *(
            [
                (
                    "same on Tansu, same rate (s)",
                    f"{tansu_latency.final['p50']:.2f} / {tansu_latency.final['p99']:.2f}",
                    "p99 <= 2",
                ),
                (
                    "ratio latency p50, Apache Kafka / Tansu",
                    f"{latency.final['p50'] / max(tansu_latency.final['p50'], 1e-9):.2f}",
                    "< 1",
                ),
            ]
            if tansu_latency is not None
            else []
        ),
        ("peak memory, hub worker (MiB, VmHWM)", f"{hub.peak_mb[0]:,.0f}", "flat"),
        (
            "peak memory, each of two workers (MiB)",
            " / ".join(f"{m:,.0f}" for m in two.peak_mb),
            "",
        ),
        (
            "peak memory, bare Faust / bare aiokafka",
            f"{faust_ref.peak_mb:,.0f} / {aiokafka_ref.peak_mb:,.0f}",
            "",
        ),
    ]
    if bulk is not None:
        rows += [
            (f"hub worker, bulk messages of {bulk.size} (events/s)", f"{bulk.drain.rate:,.0f}", ""),
            ("ratio bulk / single-event hub worker", f"{bulk.drain.rate / hub.rate:.2f}", ""),
            (
                "moonshot: bulk events/s / 20,000",
                f"{bulk.drain.rate / MOONSHOT:.2f}",
                f">= 1 ({MOONSHOT:,}/s)",
            ),
            ("peak memory, hub worker on bulk (MiB)", f"{bulk.drain.peak_mb[0]:,.0f}", ""),
        ]
    if server is not None:
        one_s, two_s = server
        rows += [
            ("shared ClickHouse: 1 worker (events/s)", f"{one_s.rate:,.0f}", ""),
            ("shared ClickHouse: 2 workers (events/s)", f"{two_s.rate:,.0f}", ""),
            ("shared ClickHouse: ratio two / one", f"{two_s.rate / one_s.rate:.2f}", ">= 1.6"),
        ]
    for name, value, goal in rows:
        print(f"{name:44}{value:>14}  {goal}")
    print()
    print(f"hub worker RSS along the run (MiB): {spread(hub.rss_mb[0])}")
    print(f"hub worker's sink batch write time along the run (s): {spread(hub.batch_seconds, 2)}")
    print(
        f"hub worker: lag 0 came {hub.commit_seconds:.1f} s after its last write (commit interval)"
    )
    shares = ", ".join(f"p{p}: {n:,}" for p, n in split.items())
    print(f"messages by partition number: {shares}")
    if bulk is not None:
        print(
            f"bulk run: {bulk.drain.events:,} events in"
            f" {bulk.messages:,} Kafka messages; sink batch write time (s):"
            f" {spread(bulk.drain.batch_seconds, 2)}"
        )
    print(
        f"latency run: {latency.events:,} events in {latency.seconds:.1f} s, written in"
        f" {latency.batches} batches of {latency.events / max(1, latency.batches):,.0f} on average;"
        f" batch write time (s): {spread(sorted(latency.write_seconds), 2, 5)} (sorted samples)"
    )
    print(
        "two workers wrote "
        + " + ".join(f"{n:,}" for n in two.per_worker)
        + f" events ({two.rewritten:,} written twice)"
    )


def spread(samples: list[float], digits: int = 0, points: int = 8) -> str:
    """About ``points`` evenly spaced samples."""
    if not samples:
        return "-"
    step = max(1, len(samples) // points)
    return " ".join(f"{s:,.{digits}f}" for s in samples[::step])


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Say on stderr how long a phase of the run took."""
    started = time.perf_counter()
    yield
    progress_console.print(f"{name}: {time.perf_counter() - started:.1f} s", highlight=False)


def throughput_round(bench: Bench, round_: int) -> tuple[Drain, Reference, Reference, Drain]:
    """One of each throughput run, on the pre-loaded events."""
    with phase("hub worker, 1 process"):
        one = drain_workers(bench, "hub worker", [bench.settings(bench.folder("one"))])
    with phase("bare Faust agent"):
        faust_ref = run_reference(bench, "bare Faust agent", "bare_faust.py")
    with phase("bare aiokafka + chdb"):
        aiokafka_ref = run_reference(bench, "bare aiokafka+chdb", "bare_aiokafka_chdb.py")
    with phase("hub workers, 2 processes"):
        pair = [bench.settings(bench.folder("two")) for _ in range(2)]
        two = drain_workers(bench, "two hub workers", pair)
    print(
        f"round {round_}: hub {one.rate:,.0f}/s, bare Faust {faust_ref.rate:,.0f}/s,"
        f" bare aiokafka+chdb {aiokafka_ref.rate:,.0f}/s, two hubs {two.rate:,.0f}/s",
        flush=True,
    )
    return one, faust_ref, aiokafka_ref, two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events to pre-load")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events, short")
    parser.add_argument("--partitions", type=int, default=2, choices=(2, 3, 4))
    parser.add_argument("--key", choices=("event", "partner"), default="event")
    parser.add_argument("--rounds", type=int, default=1, help="throughput runs of each")
    parser.add_argument("--latency-seconds", type=float, default=25.0)
    parser.add_argument("--batch-size", type=int, help="worker sink batch size (default: 5000)")
    parser.add_argument("--batch-seconds", type=float, help="worker batch time (default: 0.5)")
    parser.add_argument("--seed", type=int, default=2006)
    parser.add_argument("--profile", action="store_true", help="one more run under py-spy")
    parser.add_argument("--keep", type=Path, default=None, help="keep folders and logs here")
    parser.add_argument("--broker", choices=("tansu", "kafka"), default="tansu")
    parser.add_argument(
        "--bulk",
        type=int,
        default=0,
        metavar="N",
        help="one more hub run on the same events as bulk messages of N (1-500)",
    )
    args = parser.parse_args()
    if not 0 <= args.bulk <= 500:
        parser.error("--bulk takes 1 to 500 events per message")
    if args.quick:
        args.events, args.latency_seconds = QUICK_EVENTS, 4.0
    url = os.environ.get("CLICKHOUSE_URL")
    worker = {
        name: value
        for name, value in (("batch_size", args.batch_size), ("batch_seconds", args.batch_seconds))
        if value is not None
    }

    with (
        workspace(args.keep) as root,
        running_broker(args.broker, root / "broker", args.partitions) as kafka,
    ):
        topics = partner_topics(HubSettings().registry())
        bench = Bench(root, kafka, (), topics, worker)
        bench.migrate_ahead(
            ["one", "two", "two"] * args.rounds + ["latency"] + ["profile"] * args.profile
        )
        with phase("simulation"):
            messages = bench.messages = simulated(args.events, args.seed, args.key)
        sync_topics(kafka)
        with phase("pre-load"):
            preload(kafka, messages, bench.topics)
        split = split_by_partition(kafka, bench.topics)
        rounds = [throughput_round(bench, n) for n in range(1, args.rounds + 1)]
        server = None
        if url:
            with phase("shared ClickHouse server"):
                server = shared_warehouse(bench, url)
        profile = []
        if args.profile:
            with phase("profile"):
                profile = profile_hub(bench)
        ones, fausts, aiokafkas, twos = (list(runs) for runs in zip(*rounds, strict=True))
        hub = best(ones)
        with phase("latency"):
            latency = measure_latency(
                messages, bench, hub.rate / 2, args.latency_seconds, args.broker
            )
        tansu_latency = None
        if args.broker != "tansu":
            with phase("latency on Tansu"):
                tansu_latency = measure_latency(
                    messages, bench, hub.rate / 2, args.latency_seconds, "tansu"
                )
    bulk = None
    if args.bulk:
        with workspace(args.keep) as root, phase(f"hub worker, bulk messages of {args.bulk}"):
            bulk = bulk_run(args, root, bench)
    report(
        args,
        hub,
        best(fausts),
        best(aiokafkas),
        best(twos),
        latency,
        split,
        server,
        tansu_latency,
        bulk,
    )
    for line in profile:
        print(line)


if __name__ == "__main__":
    main()
