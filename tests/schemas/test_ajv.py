"""ajv, the JavaScript validator integrators use, reads the published JSON Schema as the hub does.

Every file in ``schemas/json/`` must compile in ajv's strict mode (draft 2020-12, formats
checked by ajv-formats), and ajv must give pydantic's verdict on every example in
``schemas/examples/``, except where JSON Schema has no words for the rule (a clock, two fields
compared, an integer written ``3.0``: the examples' ``accept`` tags), which is pinned instead.
Skipped only where Node.js or npm is missing, and never under CI (``CI=true``): there a skip
would hide a broken contract. The runner is :mod:`schemas.ajv_runner` (pinned ajv, installed
outside git on first use).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schemas.ajv_runner import Instance, Report, check, ensure_installed, missing_tools
from schemas.contract import parse_event
from schemas.reasons import InvalidEvent
from schemas.vocabulary import Kind

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "schemas" / "json"
EXAMPLES = ROOT / "schemas" / "examples"
#: The clock every example is judged on (schemas/examples/README.md).
TODAY = date(2006, 12, 31)
#: ``accept`` tags that describe the Python package, not JSON Schema: ajv must refuse these.
PYTHON_ONLY = "Python's re"

VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def node_modules() -> Path:
    missing = missing_tools()
    if missing:
        why = f"ajv needs {' and '.join(missing)}"
        if in_ci():
            pytest.fail(f"{why}, and CI must run the ajv check")
        pytest.skip(why)
    return ensure_installed()


def schemas() -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(JSON_DIR.glob("*"))}


def schema_names(message: Any) -> list[str]:
    """The envelope, and the message's kind schema when its kind is known."""
    names = ["envelope.schema.json"]
    if isinstance(message, Mapping) and message.get("kind") in set(Kind):
        names.append(f"{message['kind']}.schema.json")
    return names


def pydantic_accepts(message: Any) -> bool:
    try:
        parse_event(json.dumps(message), today=TODAY)
    except InvalidEvent:
        return False
    return True


def ajv_should_accept(doc: Mapping[str, Any]) -> bool:
    """ajv's verdict on an invalid example: refuse it, unless JSON Schema has no words for the
    rule (tagged ``accept``: a date after today, an integer written ``3.0``); an ``accept``
    about Python's ``re`` is that package's quirk, and ajv (ECMA-262 patterns) refuses it."""
    verdict = doc["jsonschema"]
    return verdict != "reject" and PYTHON_ONLY not in verdict["accept"]


def examples() -> list[tuple[str, Any, bool]]:
    """(name, message, whether ajv should accept it) for every JSON example."""
    found = [(p.name, json.loads(p.read_text(encoding="utf-8")), True) for p in VALID]
    for path in INVALID:
        doc = json.loads(path.read_text(encoding="utf-8"))
        found.append((path.name, doc["event"], ajv_should_accept(doc)))
    return found


def run(node_modules: Path, cases: list[tuple[str, Any, bool]]) -> Report:
    instances = [
        Instance(name, schema, message)
        for name, message, _ in cases
        for schema in schema_names(message)
    ]
    return check(schemas(), instances, node_modules=node_modules)


def test_every_schema_compiles_in_strict_mode(node_modules: Path) -> None:
    report = check(schemas(), node_modules=node_modules)
    assert report.versions["ajv"].startswith("8.")
    assert report.compile_errors == {}
    assert len(schemas()) == len(Kind) + 2  # envelope, bulk and one per kind, none skipped


def test_no_discriminator_keyword_is_published() -> None:
    for name, text in ((p.name, p.read_text()) for p in JSON_DIR.glob("*.json")):
        assert '"discriminator"' not in text, name


def test_ajv_agrees_with_pydantic_on_every_example(node_modules: Path) -> None:
    cases = examples()
    assert len(cases) == len(VALID) + len(INVALID) >= 40
    report = run(node_modules, cases)
    assert report.compile_errors == {}
    verdicts: dict[str, list[bool]] = {}
    for verdict in report.verdicts:
        verdicts.setdefault(verdict.id, []).append(verdict.valid)
    valid = {p.name for p in VALID}
    disagreements = []
    for name, message, ajv_should_accept in cases:
        hub = pydantic_accepts(message)
        assert hub is (name in valid), f"pydantic's verdict on {name} is not the example's"
        ajv = all(verdicts[name])
        if ajv is not ajv_should_accept:
            gap = "" if hub is ajv_should_accept else " (a rule JSON Schema cannot state)"
            disagreements.append(f"{name}: ajv {'accepts' if ajv else 'rejects'}{gap}")
    assert disagreements == []
    kinds = {m.get("kind") for _, m, _ in cases if isinstance(m, dict)}
    assert {kind.value for kind in Kind} <= kinds  # every kind has examples, new ones included


def test_a_kind_schema_refuses_another_kind(node_modules: Path) -> None:
    message = json.loads((EXAMPLES / "valid" / "rsd_casework_1.json").read_text(encoding="utf-8"))
    report = check(
        schemas(),
        [
            Instance("own", "rsd_casework.schema.json", message),
            Instance("other", "protection_training.schema.json", message),
        ],
        node_modules=node_modules,
    )
    assert [v.valid for v in report.verdicts] == [True, False]


def test_a_space_for_t_in_reported_at_is_refused_by_both(node_modules: Path) -> None:
    event = json.loads((EXAMPLES / "valid" / "assistance_1.json").read_text(encoding="utf-8"))
    spaced = {**event, "reported_at": event["reported_at"].replace("T", " ")}
    assert " " in spaced["reported_at"]
    report = run(node_modules, [("as_sent", event, True), ("spaced", spaced, False)])
    by_id = {(v.id, v.schema): v.valid for v in report.verdicts}
    assert by_id[("as_sent", "envelope.schema.json")] is True
    assert by_id[("spaced", "envelope.schema.json")] is False
    assert by_id[("spaced", "assistance.schema.json")] is False
    assert pydantic_accepts(event)
    assert not pydantic_accepts(spaced)


def test_the_bulk_schema_takes_1_to_500_valid_events(node_modules: Path) -> None:
    events = [json.loads(p.read_text(encoding="utf-8")) for p in VALID]
    bad = {**events[0], "region": "XX-00"}
    report = check(
        schemas(),
        [
            Instance("every example", "bulk.schema.json", events),
            Instance("one bad element", "bulk.schema.json", [*events[:2], bad]),
            Instance("empty", "bulk.schema.json", []),
            Instance("501", "bulk.schema.json", [events[0]] * 501),
            Instance("an event alone", "bulk.schema.json", events[0]),
        ],
        node_modules=node_modules,
    )
    assert [v.valid for v in report.verdicts] == [True, False, False, False, False]
