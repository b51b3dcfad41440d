"""Run Apache Kafka (the production broker) on loopback, with the production settings.

The broker's jars come from Maven Central through the pinned Maven project
``deploy/kafka/pom.xml`` (``mvn dependency:copy-dependencies``) into a cache folder outside git,
``~/.cache/partnerhub/kafka-<version>/libs`` (``PARTNERHUB_KAFKA_CACHE`` moves it), fetched on
first use and reused after. Maven does the resolving because it is the registry's own client:
a hand-written downloader would have to reproduce its dependency resolution.

Its configuration is ``deploy/kafka/server.properties``, the file the compose stack runs, with
only the ports, the data folder and the node id overridden, and the admin's JAAS settings
appended as ``deploy/kafka/start-kafka.sh`` appends them: SASL_PLAINTEXT with SCRAM-SHA-512 for
clients, the StandardAuthorizer with no ACL meaning no access, the admin as super user, no
automatic topic creation. Storage is formatted with the admin's SCRAM credential (KRaft cannot
create the first SCRAM user any other way). Like Tansu, the broker runs in its own process group
with a parent-death signal, so it never outlives the process that started it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path

from kafka.errors import KafkaError
from pydantic import SecretStr

from broker import clients
from broker.process import BrokerProcess, free_port, wait_for_port
from broker.settings import KafkaSettings

log = logging.getLogger(__name__)

#: The Maven project and the production configuration, in the repository.
DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kafka"
POM = DEPLOY / "pom.xml"
SERVER_PROPERTIES = DEPLOY / "server.properties"

ADMIN_USER = "hub-admin"
MIN_JAVA = 17
CACHE_ENV = "PARTNERHUB_KAFKA_CACHE"
_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required"
_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule required"
_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
"""


class KafkaNotInstalled(RuntimeError):
    """Java 17+ or Maven is missing, or the jars could not be fetched; says what to install."""


# --- what to run -------------------------------------------------------------------------------


def kafka_version(pom: Path = POM) -> str:
    """The Apache Kafka version the Maven project pins (its ``kafka.version`` property)."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find("m:properties/m:kafka.version", ns)
    if node is None or not (node.text or "").strip():
        raise ValueError(f"{pom}: no <kafka.version> property")
    return (node.text or "").strip()


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Where fetched jars live: ``PARTNERHUB_KAFKA_CACHE``, else ``~/.cache/partnerhub``."""
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "partnerhub"


def java_major(version_output: str) -> int | None:
    """The major version in ``java -version``'s output (``"17.0.15"`` -> 17, ``"1.8"`` -> 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_binary(environ: Mapping[str, str] = os.environ) -> str:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH, if it is Java 17 or newer."""
    home = environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise KafkaNotInstalled(
            f"Apache Kafka needs Java {MIN_JAVA}+: install it (apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )
    output = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    ).stderr
    major = java_major(output)
    if major is None or major < MIN_JAVA:
        raise KafkaNotInstalled(
            f"Apache Kafka needs Java {MIN_JAVA}+, {java} is {major or 'unknown'}: install "
            "openjdk-17-jre-headless or point JAVA_HOME at a newer one"
        )
    return java


def fetch_libs(
    pom: Path = POM,
    root: Path | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Path:
    """The folder of the broker's jars, fetched with Maven on first use (a progress line then).

    The folder is complete or absent: Maven copies into a temporary folder renamed into place,
    under a file lock, so concurrent first uses fetch once. A changed ``pom.xml`` fetches anew.
    """
    version = kafka_version(pom)
    home = (root or cache_root()) / f"kafka-{version}"
    libs, stamp = home / "libs", home / "libs.sha256"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and libs.is_dir():
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest and libs.is_dir():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaNotInstalled(
                "Apache Kafka's jars are fetched with Maven: install it (apt-get install maven)"
            )
        progress(f"fetching Apache Kafka {version} from Maven Central into {libs} (once) ...")
        started = time.monotonic()
        partial = home / f"libs.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        goal = ["dependency:copy-dependencies", f"-DoutputDirectory={partial}"]
        result = subprocess.run(
            [mvn, "-q", "-B", "-f", str(pom), *goal],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if result.returncode or not any(partial.glob("kafka_2.13-*.jar")):
            shutil.rmtree(partial, ignore_errors=True)
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise KafkaNotInstalled(f"mvn could not fetch Apache Kafka {version}:\n{tail}")
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        stamp.write_text(digest)
        jars = len(list(libs.glob("*.jar")))
        progress(f"fetched {jars} jars in {time.monotonic() - started:.0f} s")
    return libs


# --- configuration -----------------------------------------------------------------------------


def derive_properties(template: str, overrides: Mapping[str, str]) -> str:
    """``template`` (a Java properties file of ``key=value`` lines) with ``overrides`` applied:
    a key it sets is replaced in place, a new key is appended; comments are kept."""
    lines, done = [], set()
    for line in template.splitlines():
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith(("#", "!")) and key in overrides:
            lines.append(f"{key}={overrides[key]}")
            done.add(key)
        else:
            lines.append(line)
    extra = [f"{key}={value}" for key, value in overrides.items() if key not in done]
    return "\n".join([*lines, "", "# --- set by broker/apache_kafka.py ---", *extra, ""])


def runtime_overrides(
    *, port: int, controller_port: int, data: Path, admin_user: str, admin_password: str
) -> dict[str, str]:
    """What differs from ``server.properties`` on one machine: loopback ports, the data folder,
    and the settings ``start-kafka.sh`` appends (super user, JAAS). Node id stays 1."""
    for name, value in (("admin user", admin_user), ("admin password", admin_password)):
        if not re.fullmatch(r"[A-Za-z0-9._~-]+", value):
            raise ValueError(f"the {name} may hold only letters, digits and . _ ~ -")
    return {
        "listeners": f"INTERNAL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"INTERNAL://127.0.0.1:{port}",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "log.dirs": str(data),
        "super.users": f"User:{admin_user}",
        "listener.name.internal.scram-sha-512.sasl.jaas.config": (
            f'{_SCRAM} username="{admin_user}" password="{admin_password}";'
        ),
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{_PLAIN} username="{admin_user}" password="{admin_password}" '
            f'user_{admin_user}="{admin_password}";'
        ),
    }


def cluster_id(seed: str) -> str:
    """A KRaft cluster id (22 base64url characters) derived from ``seed``."""
    import base64

    raw = uuid.uuid5(uuid.NAMESPACE_URL, seed).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- the broker --------------------------------------------------------------------------------


class ApacheKafka(BrokerProcess):
    """A single-node Apache Kafka (broker + KRaft controller) on ``127.0.0.1``.

    ``data`` holds its log and metadata: a folder that is already formatted is started as it
    is (nothing acknowledged is lost across restarts), an empty one is formatted first with the
    admin's SCRAM credential. Use as a context manager or start()/stop(). SIGTERM is a
    controlled shutdown that flushes the log, so it gets a long grace period before SIGKILL.
    """

    name = "apache kafka"
    start_seconds = 120.0
    stop_seconds = 30.0

    def __init__(
        self,
        data: Path,
        *,
        admin_password: str,
        admin_user: str = ADMIN_USER,
        port: int | None = None,
        log_file: Path | None = None,
        heap: str = "-Xms256m -Xmx1g",
        template: Path = SERVER_PROPERTIES,
    ) -> None:
        super().__init__(port, log_file)
        self.data = data
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.controller_port = free_port()
        self.heap = heap
        self.template = template

    @property
    def log_dir(self) -> Path:
        return self.data / "log"

    def settings(self, user: str | None = None, password: str | None = None) -> KafkaSettings:
        """Client settings for this broker, as the admin unless ``user`` is given."""
        return KafkaSettings(
            bootstrap=self.bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            username=user or self.admin_user,
            password=SecretStr(password or self.admin_password),
        )

    def write_config(self) -> Path:
        """Write ``server.properties`` and the log4j2 settings for this run; the former's path."""
        conf = self.data / "config"
        conf.mkdir(parents=True, exist_ok=True)
        os.chmod(conf, 0o700)  # the JAAS lines hold the admin's password
        overrides = runtime_overrides(
            port=self.port,
            controller_port=self.controller_port,
            data=self.log_dir,
            admin_user=self.admin_user,
            admin_password=self.admin_password,
        )
        path = conf / "server.properties"
        path.write_text(derive_properties(self.template.read_text(encoding="utf-8"), overrides))
        (conf / "log4j2.properties").write_text(_LOG4J2)
        return path

    def _java(self, libs: Path, main: str, *args: str, heap: str) -> list[str]:
        log4j = self.data / "config" / "log4j2.properties"
        return [
            java_binary(),
            *heap.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def format(self, libs: Path, config: Path) -> None:
        """Format an empty data folder with the admin's SCRAM credential (once per folder)."""
        if (self.log_dir / "meta.properties").exists():
            return
        scram = f"SCRAM-SHA-512=[name={self.admin_user},password={self.admin_password}]"
        argv = self._java(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "--config",
            str(config),
            "--cluster-id",
            cluster_id(str(self.data)),
            "--add-scram",
            scram,
            heap="-Xmx256m",
        )
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode:
            detail = (result.stdout + result.stderr).strip().replace(self.admin_password, "***")
            raise RuntimeError(f"formatting {self.log_dir} failed: {detail}")

    def prepare(self) -> list[str]:
        """Fetch the jars if needed, write the configuration, format the log folder if new;
        the broker's command line. (Ready means the admin can list the cluster's topics over
        SASL/SCRAM: :meth:`wait_ready`.)"""
        libs = fetch_libs()
        config = self.write_config()
        self.format(libs, config)
        return self._java(libs, "kafka.Kafka", str(config), heap=self.heap)

    def wait_ready(self, timeout: float) -> None:
        """Return once an admin client, authenticated as the admin, lists topics.

        The port is polled first (cheap: a refused client would wait out its whole bootstrap
        timeout); once it accepts, a client's bootstrap may still time out while the broker
        starts, and ``broker.clients`` closes what such a client started.
        """
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if (code := self.exited()) is not None:
                where = f"; see {self.log_file}" if self.log_file else ""
                raise RuntimeError(f"Apache Kafka exited with {code}{where}")
            try:
                wait_for_port("127.0.0.1", self.port, 1.0)
            except TimeoutError as error:
                last = error
                continue
            try:
                admin = clients.admin(self.settings(), timeout=5)
                try:
                    admin.list_topics()
                    return
                finally:
                    admin.close()
            except (KafkaError, OSError) as error:
                last = error
                time.sleep(0.2)
        raise TimeoutError(f"Apache Kafka did not answer on {self.bootstrap}: {last}")
