"""A second validator: ajv (JavaScript, draft 2020-12) agrees with the hub on every example.

``tests/test_contract.py`` checks the Python ``jsonschema`` package against pydantic; this
checks ajv, the validator ``docs/contract.md`` gives JavaScript partners, with the settings
it prescribes (``ajv/dist/2020``, ``ajv-formats``, ``strict: false``). ajv and ajv-formats
are installed with npm, at pinned versions, into a cache folder outside the repository
(``$XDG_CACHE_HOME/partnerhub/ajv``, once). The test skips only when Node.js or npm is
missing.

Agreement means: ajv accepts every valid example; it refuses every invalid example the hub
refuses, except the rules JSON Schema has no words for (tagged ``accept`` in the example, e.g.
a date after today, an integer written ``3.0``). An ``accept`` tag about Python's ``re`` is a
quirk of the Python package only: ajv uses ECMA-262 patterns, refuses those messages, and so
agrees with the hub there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"
JSON_DIR = ROOT / "schemas" / "json"
RUNNER = Path(__file__).with_name("ajv_runner.mjs")
#: Pinned, so that a new ajv release cannot change the verdicts silently.
PACKAGES = ("ajv@8.17.1", "ajv-formats@3.0.1")
#: ``accept`` tags that describe the Python package, not JSON Schema: ajv must refuse these.
PYTHON_ONLY = "Python's re"

NODE, NPM = shutil.which("node"), shutil.which("npm")
pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None, reason="Node.js and npm are needed to run ajv (not installed)"
)


def ajv_folder() -> Path:
    """The folder holding ``node_modules/ajv``, installed on first use."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "partnerhub" / ("ajv-" + "-".join(PACKAGES).replace("@", "_"))
    if not (folder / "node_modules" / "ajv-formats" / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true, "type": "module"}\n')
        assert NPM is not None
        subprocess.run(
            [NPM, "install", "--no-audit", "--no-fund", "--silent", *PACKAGES],
            cwd=folder,
            check=True,
            timeout=300,
        )
    return folder


def run_ajv(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    folder = ajv_folder()
    script = folder / RUNNER.name  # next to node_modules, so that imports resolve there
    shutil.copyfile(RUNNER, script)
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in JSON_DIR.glob("*.json")}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(script)],
        input=json.dumps({"schemas": schemas, "cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    verdicts: list[dict[str, Any]] = json.loads(done.stdout)
    return verdicts


def schema_names(message: Any) -> list[str]:
    names = ["envelope.schema.json"]
    kind = message.get("kind") if isinstance(message, dict) else None
    if isinstance(kind, str) and (JSON_DIR / f"{kind}.schema.json").exists():
        names.append(f"{kind}.schema.json")
    return names


def expected_valid(doc: dict[str, Any]) -> bool:
    """What ajv must say of an invalid example: refuse it, unless JSON Schema cannot."""
    verdict = doc["jsonschema"]
    return verdict != "reject" and PYTHON_ONLY not in verdict["accept"]


def test_ajv_agrees_with_the_hub_on_every_example() -> None:
    cases: list[dict[str, Any]] = []
    expected: list[tuple[str, str, bool]] = []
    for path in sorted((EXAMPLES / "valid").glob("*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))
        for name in schema_names(message):
            cases.append({"schema": name, "message": message})
            expected.append((path.name, name, True))
    for path in sorted((EXAMPLES / "invalid").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for name in schema_names(doc["event"]):
            cases.append({"schema": name, "message": doc["event"]})
            expected.append((path.name, name, expected_valid(doc)))
    verdicts = run_ajv(cases)
    disagreements = [
        (example, schema, want, verdict["errors"])
        for (example, schema, want), verdict in zip(expected, verdicts, strict=True)
        if verdict["valid"] is not want
    ]
    assert disagreements == []
    kinds = {c["message"].get("kind") for c in cases if isinstance(c["message"], dict)}
    assert {"protection_training", "rsd_casework"} <= kinds


def test_ajv_refuses_a_message_of_another_kind() -> None:
    """A kind's schema accepts only that kind (ajv reads the kind's const)."""
    message = json.loads((EXAMPLES / "valid" / "rsd_casework_1.json").read_text(encoding="utf-8"))
    verdicts = run_ajv(
        [
            {"schema": "rsd_casework.schema.json", "message": message},
            {"schema": "protection_training.schema.json", "message": message},
        ]
    )
    assert [v["valid"] for v in verdicts] == [True, False]
