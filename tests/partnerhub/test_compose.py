"""The production stack (docker-compose.yml and deploy/), checked without Docker.

The compose file is rendered with the values of ``.env.example`` (as ``docker compose`` would
with a ``.env`` copied from it) and validated against the Compose Specification's JSON Schema,
read from the ``docker-compose`` 1.29.2 wheel on PyPI (downloaded once, hash-checked, cached
under pytest's cache folder; never installed). The rest checks what the schema cannot: files it
mounts exist, images are pinned, long-running services have healthchecks, every variable is in
``.env.example``, every hub command exists, and the parts agree with each other and with the
hub's settings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

with warnings.catch_warnings():
    # kafka-python 3.0 calls a deprecated importlib API when imported; until pyproject's
    # filterwarnings ignores DeprecationWarning from kafka.*, keep it from failing collection.
    warnings.simplefilter("ignore", DeprecationWarning)
    from broker.provision import check_hub_user
from dashboards.settings import GrafanaSettings
from warehouse.settings import ClickHouseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
KAFKA_START = ROOT / "deploy" / "kafka" / "start-kafka.sh"
KAFKA_PROPERTIES = ROOT / "deploy" / "kafka" / "server.properties"
CLICKHOUSE_USERS = ROOT / "deploy" / "clickhouse" / "users.d" / "partnerhub.xml"
DATASOURCE = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "clickhouse.yaml"
DASHBOARD_PROVIDER = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "partnerhub.yaml"

#: The Compose Specification schema ships inside this wheel (compose/config/compose_spec.json).
SCHEMA_WHEEL = "docker-compose==1.29.2"
SCHEMA_WHEEL_SHA256 = "8d5589373b35c8d3b1c8c1182c6e4a4ff14bffa3dd0b605fcd08f73c94cef809"
SCHEMA_MEMBER = "compose/config/compose_spec.json"

#: ``$$``, ``${NAME}``, ``${NAME:-default}`` (and ``-``, ``:?``, ``?``, ``:+``, ``+``), ``$NAME``.
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
#: Go durations, as compose reads them: 1m30s, 500ms, 10s.
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")


# --- reading the stack ---------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a compose ``.env`` file; quotes removed, comments skipped."""
    env: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: not KEY=value: {line!r}"
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"{path.name}:{number}: {key!r}"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def interpolate(value: str, env: dict[str, str], where: str) -> str:
    """``value`` with compose variables replaced from ``env`` (compose's own rules)."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"] or "", match["arg"] or ""
        is_set, current = name in env, env.get(name, "")
        usable = bool(current) if op.startswith(":") else is_set
        if op.endswith("-"):
            return current if usable else arg
        if op.endswith("?"):
            if not usable:
                raise AssertionError(f"{where}: ${{{name}}} is required: {arg}")
            return current
        if op.endswith("+"):
            return arg if usable else ""
        return current

    return VARIABLE.sub(one, value)


def strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string value in a YAML document, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def render(node: Any, env: dict[str, str], where: str = "") -> Any:
    """The document with every string interpolated."""
    if isinstance(node, dict):
        return {key: render(value, env, f"{where}.{key}") for key, value in node.items()}
    if isinstance(node, list):
        return [render(value, env, f"{where}[{i}]") for i, value in enumerate(node)]
    if isinstance(node, str):
        return interpolate(node, env, where)
    return node


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any], env_example: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose would run it with a .env copied from .env.example."""
    rendered: dict[str, Any] = render(raw, env_example)
    return rendered


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def hub_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run the hub's own image (built from the Dockerfile)."""
    return {name: s for name, s in services.items() if "build" in s}


def one_shot(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services others wait on to complete: jobs, not daemons."""
    return {
        name
        for s in services.values()
        if isinstance(s.get("depends_on"), dict)
        for name, cond in s["depends_on"].items()
        if cond.get("condition") == "service_completed_successfully"
    }


def bind_sources(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(host path, container path) of each bind mount of a service."""
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield volume["source"], volume["target"]
            continue
        source, _, rest = volume.partition(":")
        if source.startswith((".", "/", "~")):
            yield source, rest.split(":")[0]


# --- the Compose Specification -------------------------------------------------------------


@pytest.fixture(scope="session")
def compose_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The Compose Specification's JSON Schema, from the docker-compose wheel on PyPI.

    Kept in pytest's cache (a temporary folder when the cache is off). Fails (never skips) when
    the registry cannot be reached: the check is part of the suite.
    """
    store = getattr(request.config, "cache", None)
    cache = store.mkdir("compose-spec") if store else tmp_path_factory.mktemp("compose-spec")
    cached = cache / "compose_spec.json"
    if not cached.exists():
        requirement = cache / "requirements.txt"
        requirement.write_text(f"{SCHEMA_WHEEL} --hash=sha256:{SCHEMA_WHEEL_SHA256}\n")
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--only-binary=:all:", "--require-hashes", "-r", str(requirement)),
                *("--dest", str(cache)),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        wheels = sorted(cache.glob("docker_compose-1.29.2-*.whl"))
        if result.returncode or not wheels:
            pytest.fail(f"cannot download {SCHEMA_WHEEL} from PyPI:\n{result.stderr}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            cached.write_bytes(wheel.read(SCHEMA_MEMBER))
    schema: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
    return schema


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    # The schema declares draft 2019-09 with a trailing "#", which validator_for misses.
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_compose_specification(
    compose_schema: dict[str, Any], compose: dict[str, Any]
) -> None:
    assert schema_errors(compose_schema, compose) == []


def test_the_schema_check_catches_what_compose_would_refuse(
    compose_schema: dict[str, Any],
) -> None:
    typo = {"services": {"worker": {"image": "partnerhub:0.1.0", "healtcheck": {}}}}
    unquoted_no = {"services": {"worker": {"image": "partnerhub:0.1.0", "restart": False}}}
    assert schema_errors(compose_schema, typo)
    assert schema_errors(compose_schema, unquoted_no)


# --- variables and secrets -----------------------------------------------------------------


def referenced_variables(raw: dict[str, Any]) -> dict[str, list[str]]:
    """Each variable the compose file reads, with the operators it is read with."""
    found: dict[str, list[str]] = {}
    for _, value in strings(raw):
        for match in VARIABLE.finditer(value):
            name = match["braced"] or match["named"]
            if name:
                found.setdefault(name, []).append(match["op"] or "")
    return found


def test_every_variable_is_in_env_example_and_every_entry_is_used(
    raw: dict[str, Any], env_example: dict[str, str]
) -> None:
    used = set(referenced_variables(raw))
    assert sorted(used - set(env_example)) == [], "used by compose, missing from .env.example"
    assert sorted(set(env_example) - used) == [], "in .env.example, used by nothing"


def test_passwords_have_no_default_so_compose_refuses_to_start_without_them(
    raw: dict[str, Any],
) -> None:
    for name, ops in referenced_variables(raw).items():
        if name.endswith("_PASSWORD"):
            assert set(ops) == {":?"}, f"{name} is read with {ops}, not ':?'"


def test_the_example_values_are_placeholders_and_the_real_env_is_never_committed(
    env_example: dict[str, str],
) -> None:
    for name, value in env_example.items():
        if name.endswith("_PASSWORD"):
            assert "change-me" in value, f"{name} in .env.example looks like a real secret"
    for pw in json.loads(env_example["PARTNER_PASSWORDS"]).values():
        assert pw.startswith("change-me")
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


# --- files, images, healthchecks, commands -------------------------------------------------


def test_every_mounted_file_and_build_source_exists(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for source, _ in bind_sources(service):
            assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/", "~")):
                assert volume.split(":")[0] in declared, f"{name}: undeclared volume {volume}"
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            assert context.is_dir(), f"{name} builds from {context}, which does not exist"
            assert (context / (dockerfile or "Dockerfile")).is_file()


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = [rest.split()[:-1] for word, rest in dockerfile_instructions() if word == "COPY"]
    assert copies, "the Dockerfile copies nothing"
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert source.strip("/").split("/")[0] not in ignored, f"COPY {source} is ignored"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {source.strip("/") for sources in copies for source in sources}
    assert {p.rstrip("*") for p in packages} <= copied, "a package of pyproject is not copied"


def pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


def test_every_image_is_pinned(services: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    for name, service in services.items():
        assert "image" in service, f"{name} has no image"
        assert pinned(service["image"]), f"{name}: image {service['image']} is not pinned"
        if "build" in service:
            assert service["image"] == f"partnerhub:{version}", f"{name}: tag is not {version}"
    bases = [rest.split()[0] for word, rest in dockerfile_instructions() if word == "FROM"]
    assert bases
    assert all(pinned(base) for base in bases), bases


def test_long_running_services_have_healthchecks_and_jobs_run_once(
    services: dict[str, dict[str, Any]],
) -> None:
    jobs = one_shot(services)
    assert jobs == {"preflight", "kafka-init", "migrate"}
    for name, service in services.items():
        if name in jobs:
            assert service.get("restart") == "no", f"{name} is a job; it must not restart"
            assert "healthcheck" not in service
            continue
        assert service.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert check.get("test"), f"{name}: healthcheck without a test"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        for key in ("interval", "timeout", "start_period"):
            assert DURATION.fullmatch(str(check.get(key, ""))), f"{name}: healthcheck {key}"


def partnerhub_commands(services: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The ``partnerhub`` sub-command each hub service runs (options left out)."""
    default = json.loads(next(rest for word, rest in dockerfile_instructions() if word == "CMD"))
    out = {}
    for name, service in hub_services(services).items():
        command = service.get("command", default)
        command = command.split() if isinstance(command, str) else list(command)
        words = []
        for word in command:
            if word.startswith("-"):
                break
            words.append(word)
        out[name] = words
    return out


def test_every_service_command_is_a_real_partnerhub_command(
    services: dict[str, dict[str, Any]],
) -> None:
    entrypoint = next(rest for word, rest in dockerfile_instructions() if word == "ENTRYPOINT")
    assert json.loads(entrypoint) == ["partnerhub"]
    commands = partnerhub_commands(services)
    assert commands == {
        "preflight": ["preflight"],
        "kafka-init": ["provision"],
        "migrate": ["warehouse", "migrate"],
        "worker": ["worker"],
        "gateway": ["gateway"],
    }
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    for name, words in commands.items():
        result = subprocess.run(
            [sys.executable, "-m", "partnerhub", *words, "--help"],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{name}: partnerhub {' '.join(words)}: {result.stderr}"


def test_the_worker_starts_after_the_jobs_and_every_dependency_exists(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    waits = services["worker"]["depends_on"]
    assert waits["kafka-init"]["condition"] == "service_completed_successfully"
    assert waits["migrate"]["condition"] == "service_completed_successfully"
    assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"


# --- the parts agree -----------------------------------------------------------------------


def test_kafka_users_agree_between_broker_init_job_and_worker(
    services: dict[str, dict[str, Any]],
) -> None:
    broker, init, worker = (environment(services[n]) for n in ("kafka", "kafka-init", "worker"))
    assert init["PARTNERHUB_KAFKA__USERNAME"] == broker["KAFKA_ADMIN_USER"]
    assert init["PARTNERHUB_KAFKA__PASSWORD"] == broker["KAFKA_ADMIN_PASSWORD"]
    assert worker["PARTNERHUB_KAFKA__USERNAME"] == init["PARTNERHUB_PROVISION_WORKER_USER"]
    assert worker["PARTNERHUB_KAFKA__PASSWORD"] == init["PARTNERHUB_PROVISION_WORKER_PASSWORD"]
    for user in (broker["KAFKA_ADMIN_USER"], worker["PARTNERHUB_KAFKA__USERNAME"]):
        check_hub_user(user, "compose user")  # could never collide with a partner code
    for name, env in (("kafka-init", init), ("worker", worker)):
        assert env["PARTNERHUB_KAFKA__BOOTSTRAP"] == "kafka:9092"
        assert env["PARTNERHUB_KAFKA__SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["PARTNERHUB_KAFKA__SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["PARTNERHUB_KAFKA__PROFILE"] == "production"
        mounted = {target for _, target in bind_sources(services[name])}
        assert env["PARTNERHUB_REGISTRY_PATH"] in mounted, f"{name} reads a registry not mounted"
    assert worker["PARTNERHUB_WORKER__WEB_HOST"] == "0.0.0.0"


def test_the_gateway_logs_in_as_the_user_kafka_init_provisions(
    services: dict[str, dict[str, Any]],
) -> None:
    init, gateway = (environment(services[n]) for n in ("kafka-init", "gateway"))
    assert gateway["PARTNERHUB_KAFKA__USERNAME"] == init["PARTNERHUB_PROVISION_GATEWAY_USER"]
    assert gateway["PARTNERHUB_KAFKA__PASSWORD"] == init["PARTNERHUB_PROVISION_GATEWAY_PASSWORD"]
    check_hub_user(gateway["PARTNERHUB_KAFKA__USERNAME"], "compose user")
    assert gateway["PARTNERHUB_KAFKA__BOOTSTRAP"] == "kafka:9092"
    assert gateway["PARTNERHUB_GATEWAY__HOST"] == "0.0.0.0"
    mounted = {target for _, target in bind_sources(services["gateway"])}
    assert gateway["PARTNERHUB_REGISTRY_PATH"] in mounted
    assert "/etc/partnerhub/kobo" in mounted  # kobo/ beside the registry
    assert services["gateway"]["depends_on"]["kafka-init"]["condition"] == (
        "service_completed_successfully"
    )


def properties(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_kafka_authorises_every_request_and_creates_no_topic_by_itself() -> None:
    props = properties(KAFKA_PROPERTIES.read_text(encoding="utf-8"))
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["auto.create.topics.enable"] == "false"
    listeners = dict(item.split("://") for item in props["listeners"].split(","))
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    assert set(listeners) == set(protocols)
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, "no listener without authentication"
    assert listeners["CONTROLLER"].startswith("localhost:")


def clickhouse_users() -> ET.Element:
    return ET.parse(CLICKHOUSE_USERS).getroot()


def test_clickhouse_users_match_the_hub_and_grafana(services: dict[str, dict[str, Any]]) -> None:
    root = clickhouse_users()
    database = ClickHouseSettings().database
    env = environment(services["clickhouse"])
    for element in root.iter():
        if "from_env" in element.attrib:
            assert element.attrib["from_env"] in env, element.attrib["from_env"]
    assert root.find("users/default[@remove]") is not None, "the password-less default user"

    writer_name = environment(services["worker"])["PARTNERHUB_CLICKHOUSE__USERNAME"]
    assert environment(services["migrate"])["PARTNERHUB_CLICKHOUSE__USERNAME"] == writer_name
    assert environment(services["worker"])["PARTNERHUB_CLICKHOUSE__DATABASE"] == database
    writer = root.find(f"users/{writer_name}")
    assert writer is not None
    assert [q.text for q in writer.iterfind("grants/query")] == [f"GRANT ALL ON {database}.*"]


def test_grafana_has_one_data_source_per_clickhouse_reader(
    services: dict[str, dict[str, Any]], env_example: dict[str, str]
) -> None:
    """The main data source logs in as the user without SGBV rows, the SGBV one as the user
    with SGBV aggregates only; each password comes from .env through the environment of both
    the clickhouse and grafana services."""
    root = clickhouse_users()
    database = ClickHouseSettings().database
    grafana = GrafanaSettings()
    sources = yaml.safe_load(DATASOURCE.read_text(encoding="utf-8"))["datasources"]
    by_uid = {source["uid"]: source for source in sources}
    assert sorted(by_uid) == sorted([grafana.datasource_uid, grafana.sgbv_datasource_uid])
    assert by_uid[grafana.datasource_uid]["isDefault"] is True
    assert by_uid[grafana.sgbv_datasource_uid]["isDefault"] is False
    expected_users = {
        grafana.datasource_uid: "partnerhub_dashboard",
        grafana.sgbv_datasource_uid: "partnerhub_sgbv",
    }
    for uid, source in by_uid.items():
        assert source["type"] == "grafana-clickhouse-datasource"
        assert source["editable"] is False
        assert source["jsonData"]["defaultDatabase"] == database
        username = source["jsonData"]["username"]
        assert username == expected_users[uid]
        reader = root.find(f"users/{username}")
        assert reader is not None, username
        password = reader.find("password")
        assert password is not None
        variable = password.attrib["from_env"]
        assert source["secureJsonData"]["password"] == f"${variable}"
        assert variable in environment(services["grafana"])
        assert variable in environment(services["clickhouse"])
        assert variable in env_example
        profile = root.find(f"profiles/{reader.findtext('profile')}")
        assert profile is not None
        assert profile.findtext("readonly") == "2"  # Grafana sets max_execution_time per query
    main = root.find("users/partnerhub_dashboard")
    assert main is not None
    grants = [q.text or "" for q in main.iterfind("grants/query")]
    assert grants[0] == f"GRANT SELECT ON {database}.*"
    # Besides SELECT, only what table functions (VALUES) need; the rest takes away.
    for grant in grants[1:]:
        assert grant.startswith("REVOKE") or grant == "GRANT CREATE TEMPORARY TABLE ON *.*"


def test_grafana_reads_dashboards_from_the_repository(
    services: dict[str, dict[str, Any]],
) -> None:
    provider = yaml.safe_load(DASHBOARD_PROVIDER.read_text(encoding="utf-8"))["providers"][0]
    mounts = dict(bind_sources(services["grafana"]))
    assert mounts["./dashboards/json"] == provider["options"]["path"]
    assert provider["folder"] == GrafanaSettings().folder
    assert (ROOT / "dashboards" / "json").is_dir()
    plugins = environment(services["grafana"])["GF_PLUGINS_PREINSTALL_SYNC"]
    assert re.fullmatch(r"grafana-clickhouse-datasource@\d+\.\d+\.\d+", plugins), plugins


# --- the Kafka start script ----------------------------------------------------------------


@pytest.fixture
def kafka_home(tmp_path: Path) -> Path:
    """A stand-in for /opt/kafka whose tools record how they were called."""
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    for tool in ("kafka-storage.sh", "kafka-server-start.sh"):
        script = home / "bin" / tool
        script.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/{tool}.calls"\n')
        script.chmod(0o755)
    return home


def start_kafka(tmp_path: Path, kafka_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    template = tmp_path / "server.properties"
    template.write_text(
        re.sub(
            r"(?m)^log\.dirs=.*$",
            f"log.dirs={data}",
            KAFKA_PROPERTIES.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    environ = {
        "PATH": os.environ["PATH"],
        "KAFKA_HOME": str(kafka_home),
        "PARTNERHUB_KAFKA_TEMPLATE": str(template),
        "PARTNERHUB_KAFKA_RUNTIME": str(tmp_path / "runtime"),
        "KAFKA_CLUSTER_ID": "JkRn_JpBRBKMGz8ko5-SiQ",
        "KAFKA_ADMIN_USER": "hub-admin",
        "KAFKA_ADMIN_PASSWORD": "a-long-admin-password-0123",
        "KAFKA_EXTERNAL_HOST": "kafka.example.org",
        **env,
    }
    return subprocess.run(
        ["sh", str(KAFKA_START)], env=environ, capture_output=True, text=True, timeout=60
    )


def test_the_kafka_start_script_configures_and_formats_once(
    tmp_path: Path, kafka_home: Path
) -> None:
    first = start_kafka(tmp_path, kafka_home)
    assert first.returncode == 0, first.stderr
    config = tmp_path / "runtime" / "server.properties"
    props = properties(config.read_text(encoding="utf-8"))
    assert props["advertised.listeners"] == (
        "INTERNAL://kafka:9092,EXTERNAL://kafka.example.org:9094"
    )
    assert props["super.users"] == "User:hub-admin"
    for listener in ("internal.scram-sha-512", "external.scram-sha-512", "controller.plain"):
        assert props[f"listener.name.{listener}.sasl.jaas.config"].endswith(";")
    assert config.stat().st_mode & 0o077 == 0, "the runtime config holds the admin password"
    admin = properties((tmp_path / "runtime" / "admin.properties").read_text(encoding="utf-8"))
    assert 'password="a-long-admin-password-0123"' in admin["sasl.jaas.config"]
    formats = (tmp_path / "kafka-storage.sh.calls").read_text().splitlines()
    assert len(formats) == 1
    assert (
        "--add-scram SCRAM-SHA-512=[name=hub-admin,password=a-long-admin-password-0123]"
        in (formats[0])
    )
    assert (tmp_path / "kafka-server-start.sh.calls").read_text().split() == [str(config)]

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("formatted\n")
    again = start_kafka(tmp_path, kafka_home)
    assert again.returncode == 0, again.stderr
    assert len((tmp_path / "kafka-storage.sh.calls").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_ADMIN_PASSWORD": 'has"quote-and-is-long'}, "may hold only letters"),
        ({"KAFKA_ADMIN_PASSWORD": "short-0123"}, "16 characters or more"),
        ({"KAFKA_ADMIN_PASSWORD": ""}, "KAFKA_ADMIN_PASSWORD is not set"),
        ({"KAFKA_CLUSTER_ID": "not-a-cluster-id"}, "22 base64url characters"),
        ({"KAFKA_ADMIN_USER": "Admin"}, "KAFKA_ADMIN_USER may hold only"),
        ({"KAFKA_EXTERNAL_HOST": "evil;host"}, "KAFKA_EXTERNAL_HOST must be"),
    ],
)
def test_the_kafka_start_script_refuses_unsafe_settings(
    tmp_path: Path, kafka_home: Path, env: dict[str, str], message: str
) -> None:
    result = start_kafka(tmp_path, kafka_home, **env)
    assert result.returncode == 64
    assert message in result.stderr
    assert not (tmp_path / "kafka-storage.sh.calls").exists()
    assert not (tmp_path / "runtime" / "server.properties").exists()


def test_the_compose_broker_is_the_apache_kafka_the_tests_run() -> None:
    """One Apache Kafka version: the image of the compose stack and deploy/kafka/pom.xml's."""
    from broker.apache_kafka import POM, kafka_version

    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version(POM)}"
    assert kafka_version(POM).split(".")[0] >= "4"  # KRaft only, the 4.x storage tool
