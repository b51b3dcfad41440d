"""The Kafka seam is the one place kafka-python clients are built (docs/architecture.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Everything that ships or measures the hub; the tests of the seam itself may build clients.
CODE = ["schemas", "broker", "warehouse", "producers", "streams", "rollups", "dashboards",
        "partnerhub", "benchmarks"]  # fmt: skip
CONSTRUCTOR = re.compile(r"\b(KafkaProducer|KafkaConsumer|KafkaAdminClient)\(")


def test_kafka_python_clients_are_built_only_in_the_seam() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT).parts[0] != "broker" or path.name != "clients.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CONSTRUCTOR.search(line)
    ]
    assert outside == []


def test_no_layer_imports_the_composition_root() -> None:
    importing = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in CODE
        if folder not in ("partnerhub", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(from|import) partnerhub\b", line)
    ]
    assert importing == []
