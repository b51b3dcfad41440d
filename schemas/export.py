"""JSON Schema (draft 2020-12) of contract v1, for partners who do not use Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from schemas.bulk import BULK_HEADER, MAX_BYTES, MAX_EVENTS
from schemas.contract import MODELS, SCHEMA_VERSION, AnyEvent

DRAFT = "https://json-schema.org/draft/2020-12/schema"
JSON_DIR = Path(__file__).parent / "json"


def _standard(node: Any) -> Any:
    """``node`` without pydantic's ``discriminator`` objects: an OpenAPI keyword, not JSON
    Schema, which strict validators (ajv) refuse. The ``oneOf`` beside each still decides, and
    every branch pins its ``kind`` (or ``activity``) with a ``const``."""
    if isinstance(node, dict):
        return {
            key: _standard(value)
            for key, value in node.items()
            if not (key == "discriminator" and isinstance(value, dict) and "propertyName" in value)
        }
    if isinstance(node, list):
        return [_standard(item) for item in node]
    return node


def _document(schema: dict[str, Any], name: str, title: str) -> str:
    schema = {
        "$schema": DRAFT,
        "$id": f"urn:partnerhub:schema:v{SCHEMA_VERSION}:{name}",
        **_standard(schema),
        "title": title,
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _bulk_schema() -> dict[str, Any]:
    """A bulk message's value: 1 to 500 events, each the envelope's (``schemas.bulk``); the
    envelope is inlined, so the file stands alone as every other one does."""
    event = TypeAdapter(AnyEvent).json_schema()
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_EVENTS,
        "$defs": event.pop("$defs"),
        "items": event,
        "description": (
            f"The value of a Kafka message with the header {BULK_HEADER}: 1, at most "
            f"{MAX_BYTES} bytes (a bound JSON Schema cannot state). Each element is checked "
            "on its own; see docs/contract.md."
        ),
    }


def generate() -> dict[str, str]:
    """File name -> JSON text, for the envelope (any kind), a bulk message and each kind."""
    files = {
        "envelope.schema.json": _document(
            TypeAdapter(AnyEvent).json_schema(),
            "envelope",
            f"Partner Hub event v{SCHEMA_VERSION}: the envelope, any kind (dispatches on kind)",
        ),
        "bulk.schema.json": _document(
            _bulk_schema(),
            "bulk",
            f"Partner Hub bulk message v{SCHEMA_VERSION}: an array of 1 to {MAX_EVENTS} events",
        ),
    }
    for kind, model in MODELS.items():
        files[f"{kind.value}.schema.json"] = _document(
            model.model_json_schema(),
            kind.value,
            f"Partner Hub {kind.value} event v{SCHEMA_VERSION}",
        )
    return files


def stale_files(directory: Path = JSON_DIR) -> list[str]:
    """Names of files in ``directory`` that are missing or differ from :func:`generate`."""
    return sorted(
        name
        for name, text in generate().items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    )


def write(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema file into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in generate().items():
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths
