"""What an operator relies on: placeholders refused at start, roll-ups outliving the worker."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from partnerhub.secrets import weak_secrets
from partnerhub.settings import HubSettings
from tests.support import PARTNERHUB

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
GOOD = "Zq7" * 8  # 24 characters, no placeholder


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def preflight(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.endswith(("_PASSWORD", "_PASSWORDS"))}
    return subprocess.run(
        [*PARTNERHUB, "preflight"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_example_env_is_refused_naming_every_placeholder() -> None:
    result = preflight(ENV_EXAMPLE)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    secrets = [name for name in ENV_EXAMPLE if name.endswith("_PASSWORD")]
    assert len(secrets) >= 6
    for name in secrets:
        assert f"{name} is still the .env.example placeholder" in result.stderr
    assert "PARTNER_PASSWORDS[kzlegal] is still the .env.example placeholder" in result.stderr
    assert "change-me" not in result.stderr.replace(".env.example placeholder", "")


def test_real_secrets_pass_and_short_ones_do_not() -> None:
    env = {name: GOOD for name in ENV_EXAMPLE if name.endswith("_PASSWORD")}
    env["PARTNER_PASSWORDS"] = f'{{"kzlegal": "{GOOD}"}}'
    result = preflight(env)
    assert result.returncode == 0, result.stderr
    assert weak_secrets({**env, "GRAFANA_ADMIN_PASSWORD": "x" * 15}) == [
        "GRAFANA_ADMIN_PASSWORD is shorter than 16 characters"
    ]
    assert weak_secrets({"PARTNER_PASSWORDS": "[1]"}) == ["PARTNER_PASSWORDS is not a JSON object"]


def test_every_service_waits_for_the_preflight_and_it_sees_every_secret(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name == "preflight":
            continue
        waits = service.get("depends_on", {})
        assert waits.get("preflight") == {"condition": "service_completed_successfully"}, name
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z_]+_PASSWORDS?)\b", text))
    assert referenced <= set(services["preflight"]["environment"])


def test_rollups_outlive_the_worker_container(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    data_dir = Path(worker.get("environment", {}).get("PARTNERHUB_DATA_DIR", "/var/lib/partnerhub"))
    target = HubSettings(data_dir=data_dir).rollups().folder
    # a named volume by default, or a host folder
    assert f"${{ROLLUPS_DIR:-rollups}}:{target}" in worker["volumes"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "rollups" in compose["volumes"]
    assert ENV_EXAMPLE["ROLLUPS_DIR"] == "rollups"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENV PARTNERHUB_DATA_DIR=/var/lib/partnerhub" in dockerfile
    assert "/var/lib/partnerhub/rollups" in dockerfile  # the volume starts owned by the hub user
    # the office's templates reach the worker where the roll-ups look for them
    templates = HubSettings(data_dir=data_dir).rollups().template_dirs()
    assert [f"${{ROLLUP_TEMPLATES:-./deploy/rollup-templates}}:{templates[0]}:ro"] == [
        v for v in worker["volumes"] if "ROLLUP_TEMPLATES" in v
    ]
    assert (ROOT / ENV_EXAMPLE["ROLLUP_TEMPLATES"]).is_dir()
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert "## Getting the roll-ups" in deploy
