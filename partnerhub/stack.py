"""The embedded stack on one machine: a broker, topics, warehouse, and the worker process.

The broker is Tansu (the default: nothing to install, messages in memory only) or Apache Kafka
(``broker="kafka"``: Java 17+ and Maven, its log in ``<data>/kafka``, so a restart loses nothing
that was acknowledged). On Apache Kafka the registry is provisioned as in production: topics,
the worker's SCRAM user and its ACLs; the admin's and the worker's passwords are made on the
first start and kept in ``<data>/kafka/credentials.json`` (readable by its owner only).

The worker runs as a child process because it owns the embedded warehouse (chdb serves one
process per data folder); so does the HTTP gateway when asked for (``gateway=True``; on Apache
Kafka as its own SCRAM user ``hub-gateway``). Every child gets a parent-death signal, so none
outlives the process that started them, even when that one is killed with SIGKILL.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Literal

from broker.apache_kafka import ApacheKafka
from broker.process import die_with_parent, free_port, stop_process
from broker.provision import DEFAULT_GATEWAY_USER, DEFAULT_WORKER_USER, apply_plan, build_plan
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from broker.topics import SyncResult, sync_topics
from partnerhub.settings import HubSettings
from warehouse.client import open_warehouse
from warehouse.migrate import migrate

log = logging.getLogger(__name__)

#: How long stopping the embedded stack waits for the worker to write what the broker holds.
DRAIN_SECONDS = 60.0
#: Said once when the embedded broker starts: what it does not keep, and what does.
TANSU_WARNING = (
    "Tansu, the embedded broker, keeps messages in memory only: what the worker has not yet "
    "written is lost when it stops. For a durable broker: --broker kafka (Apache Kafka, "
    "needs Java 17+ and Maven), --kafka HOST:PORT, or the production stack (docs/deploy.md)."
)


def child_env(settings: HubSettings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    flat = {
        "DATA_DIR": str(settings.data_dir),
        "SGBV_THRESHOLD": str(settings.sgbv_threshold),
        "KAFKA__BOOTSTRAP": settings.kafka.bootstrap,
        "KAFKA__SECURITY_PROTOCOL": settings.kafka.security_protocol,
        "KAFKA__SASL_MECHANISM": settings.kafka.sasl_mechanism,
        "KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "KAFKA__PROFILE": settings.kafka.profile,
        "CLICKHOUSE__DATABASE": settings.clickhouse.database,
        "WORKER__WEB_PORT": str(settings.worker.web_port),
        "WORKER__WEB_HOST": settings.worker.web_host,
        "WORKER__BATCH_SIZE": str(settings.worker.batch_size),
        "WORKER__BATCH_SECONDS": str(settings.worker.batch_seconds),
        "WORKER__BATCH_QUIET_SECONDS": str(settings.worker.batch_quiet_seconds),
        "WORKER__SILENT_DAYS": str(settings.worker.silent_days),
        "WORKER__SILENT_CHECK_SECONDS": str(settings.worker.silent_check_seconds),
        "WORKER__ROLLUP_AFTER_DAYS": str(settings.worker.rollup_after_days),
        "WORKER__ROLLUP_CHECK_SECONDS": str(settings.worker.rollup_check_seconds),
        "GATEWAY__HOST": settings.gateway.host,
        "GATEWAY__PORT": str(settings.gateway.port),
    }
    optional = {
        "REGISTRY_PATH": settings.registry_path,
        "KOBO_DIR": settings.kobo_dir,
        "START_TIME": settings.start_time.isoformat() if settings.start_time else None,
        "KAFKA__USERNAME": settings.kafka.username,
        "KAFKA__PASSWORD": settings.kafka.password.get_secret_value()
        if settings.kafka.password
        else None,
        "CLICKHOUSE__URL": settings.clickhouse.url,
        "CLICKHOUSE__USERNAME": settings.clickhouse.username,
        "CLICKHOUSE__PASSWORD": settings.clickhouse.password.get_secret_value()
        if settings.clickhouse.password
        else None,
    }
    flat.update({k: str(v) for k, v in optional.items() if v is not None})
    env.update({f"PARTNERHUB_{k}": v for k, v in flat.items()})
    return env


BrokerKind = Literal["tansu", "kafka"]


def kafka_credentials(folder: Path) -> dict[str, str]:
    """The embedded Apache Kafka's passwords by user (admin, worker, gateway), each made on
    first use."""
    path = folder / "credentials.json"
    data: dict[str, str] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    users = ("hub-admin", DEFAULT_WORKER_USER, DEFAULT_GATEWAY_USER)
    if all(user in data for user in users):
        return data
    data = {user: data.get(user) or secrets.token_urlsafe(24) for user in users}
    folder.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # also when an older file is grown by a user
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return data


class PortInUse(RuntimeError):
    """A port the stack needs is taken by another program."""


def check_port(host: str, port: int) -> None:
    """:class:`PortInUse`, naming the port and how to choose another, unless ``host:port`` can
    be bound (as the worker's web server binds it, with ``SO_REUSEADDR``)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(
                f"port {port} on {host} (the worker's status API) is in use by another program "
                f"({error.strerror}); choose another with --port or PARTNERHUB_WORKER__WEB_PORT"
            ) from None


class LocalStack:
    """Broker (unless external), topics, migrated warehouse and a worker process."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        external_kafka: bool = False,
        broker: BrokerKind = "tansu",
        kafka_port: int | None = None,
        gateway: bool = False,
    ) -> None:
        self.settings = settings
        self.external_kafka = external_kafka
        self.with_gateway = gateway
        self.gateway: subprocess.Popen[bytes] | None = None
        self.broker_kind: BrokerKind = broker
        self.kafka_port = kafka_port
        self.broker: LocalBroker | ApacheKafka | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.topics: SyncResult | None = None
        self.logs = settings.data_dir / "logs"
        #: Who publishes and administers (the worker's settings on Tansu; the admin on Kafka).
        self.admin: KafkaSettings = settings.kafka
        #: How the gateway logs in (None: as the worker does; on Kafka: ``hub-gateway``).
        self.gateway_kafka: KafkaSettings | None = None

    def _start_apache_kafka(self) -> None:
        """Apache Kafka on the data folder's log; the registry provisioned; the worker as
        ``hub-worker`` over SASL/SCRAM with the production timings."""
        folder = self.settings.data_dir / "kafka"
        passwords = kafka_credentials(folder)
        kafka = ApacheKafka(
            folder,
            admin_password=passwords["hub-admin"],
            port=self.kafka_port,
            log_file=self.logs / "kafka.log",
        )
        self.broker = kafka.start()
        partitions = self.settings.kafka.partitions
        self.admin = kafka.settings().model_copy(update={"partitions": partitions})
        worker = kafka.settings(DEFAULT_WORKER_USER, passwords[DEFAULT_WORKER_USER])
        self.settings.kafka = worker.model_copy(
            update={"partitions": partitions, "profile": "production"}
        )
        gateway_user = DEFAULT_GATEWAY_USER if self.with_gateway else None
        plan = build_plan(
            self.settings.registry(), partitions=partitions, gateway_user=gateway_user
        )
        apply_plan(
            self.admin,
            plan,
            {},
            passwords[DEFAULT_WORKER_USER],
            gateway_password=passwords[DEFAULT_GATEWAY_USER] if gateway_user else "",
        )
        if gateway_user:
            gateway = kafka.settings(gateway_user, passwords[gateway_user])
            self.gateway_kafka = gateway.model_copy(
                update={"partitions": partitions, "profile": "production"}
            )
        self.topics = sync_topics(self.admin, self.settings.registry())  # what is there now

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway.host}:{self.settings.gateway.port}"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.worker.web_port}/status"

    def start(self) -> LocalStack:
        """Start every part; return once the worker's status page answers. Raises
        :class:`PortInUse` before starting anything when the status API's port is taken."""
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.settings.worker.web_port == 0:
            self.settings.worker.web_port = free_port()
        check_port(self.settings.worker.web_host, self.settings.worker.web_port)
        if self.external_kafka:
            self.topics = sync_topics(self.settings.kafka, self.settings.registry())
        elif self.broker_kind == "kafka":
            self._start_apache_kafka()
        else:
            self.broker = LocalBroker(port=self.kafka_port, log_file=self.logs / "tansu.log")
            self.broker.start()
            self.settings.kafka.bootstrap = self.broker.bootstrap
            self.admin = self.settings.kafka
            self.topics = sync_topics(self.settings.kafka, self.settings.registry())
        wh = open_warehouse(self.settings.clickhouse, self.settings.data_dir)
        try:
            migrate(wh)
        finally:
            wh.close()  # the worker owns the warehouse from here on
        self.start_worker()
        if self.with_gateway:
            self.start_gateway()
        return self

    def start_gateway(self, timeout: float = 60.0) -> None:
        """Start the HTTP gateway process and wait until it answers ``/healthz``."""
        if self.settings.gateway.port == 0:
            self.settings.gateway.port = free_port()
        settings = self.settings
        if self.gateway_kafka is not None:
            settings = settings.model_copy(update={"kafka": self.gateway_kafka})
        with open(self.logs / "gateway.log", "ab") as out:
            self.gateway = subprocess.Popen(
                [sys.executable, "-m", "partnerhub", "gateway"],
                env=child_env(settings),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while not _answers(f"{self.gateway_url}/healthz"):
            if self.gateway.poll() is not None:
                raise RuntimeError(
                    f"the gateway exited with {self.gateway.returncode}; see {self.logs}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gateway did not answer at {self.gateway_url}")
            time.sleep(0.2)

    def start_worker(self, timeout: float = 90.0) -> None:
        """Start the worker process and wait for its status page."""
        with open(self.logs / "worker.log", "ab") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "partnerhub", "worker"],
                env=child_env(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.worker.poll() is not None:
                raise RuntimeError(
                    f"the worker exited with {self.worker.returncode}; see {self.logs}/worker.log"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker did not answer at {self.status_url}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.status_url.replace("/status", "/metrics"), timeout=1):
                return True
        except OSError:
            return False

    def stop_worker(self, timeout: float = 30.0) -> int | None:
        """Stop the worker cleanly (SIGTERM; SIGKILL after ``timeout``); its exit code."""
        worker, self.worker = self.worker, None
        return None if worker is None else stop_process(worker, timeout)

    def drain(self, timeout: float = DRAIN_SECONDS) -> int:
        """Wait until the worker has written everything the broker holds on the registry's
        topics; return how many messages are still unwritten when ``timeout`` runs out (0
        when drained, or when there is no worker left to drain them)."""
        from broker.lag import group_lag, wait_for_drain
        from streams.app import APP_ID, partner_topics

        if self.worker is None or self.worker.poll() is not None:
            return 0
        topics = partner_topics(self.settings.registry())
        try:
            wait_for_drain(self.settings.kafka, APP_ID, topics, timeout=timeout, poll=0.2)
            return 0
        except TimeoutError:
            return sum(group_lag(self.settings.kafka, APP_ID, topics).values())

    def stop(self, *, drain: bool = True) -> int:
        """Stop the worker, then the broker; return the messages the embedded broker lost.

        With the embedded broker (Tansu keeps messages in memory) the worker is first given
        up to :data:`DRAIN_SECONDS` to write everything the broker holds, so that stopping
        right after a burst loses nothing. Safe to call twice. The gateway stops first, so
        nothing new arrives while the worker drains.
        """
        gateway, self.gateway = self.gateway, None
        if gateway is not None:
            stop_process(gateway, 10.0)
        tansu = self.broker is not None and self.broker_kind == "tansu"
        lost = self.drain() if drain and tansu else 0
        self.stop_worker()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        return lost

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


#: The file every demo folder holds; a folder without it is never emptied by the demo.
DEMO_MARK = "simulation-truth.json"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def reset_folder(folder: Path) -> None:
    """Empty ``folder`` (demo data only), creating it if needed. Refuses (ValueError) a folder
    with contents that a demo did not make, such as the hub's real data folder."""
    import shutil

    if folder.exists():
        if any(folder.iterdir()) and not (folder / DEMO_MARK).exists():
            raise ValueError(
                f"{folder} holds data that is not a demo's (no {DEMO_MARK}); the demo empties "
                "its folder, so give it a new or demo folder with --data-dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
