"""Run ajv, the JavaScript JSON Schema validator most integrators use, on the contract's schemas.

ajv is the reference a Node.js partner validates with, and it reads a schema differently from
Python's ``jsonschema`` (strict mode refuses unknown keywords such as OpenAPI's
``discriminator``; its ``date-time`` format takes a space for ``T``), so the tests run the real
thing rather than trust one Python validator. The pinned ``ajv`` and ``ajv-formats``
(``schemas/ajv/package.json`` and its lock file) are installed with ``npm ci`` on first use into
a cache folder outside git (``$PARTNERHUB_AJV_CACHE``, else ``$XDG_CACHE_HOME/partnerhub`` or
``~/.cache/partnerhub``), one folder per lock file, so a new pin installs afresh.

    report = check({"envelope.schema.json": schema}, [Instance("a", "envelope.schema.json", {})])
    report.compile_errors  # {} when every schema compiled in strict mode
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).parent / "ajv"
SCRIPT = PACKAGE / "validate.cjs"
CACHE_ENV = "PARTNERHUB_AJV_CACHE"


class AjvUnavailable(RuntimeError):
    """Node.js or npm is missing, or the pinned packages could not be installed."""


@dataclass(frozen=True)
class Instance:
    """One JSON value to validate against the schema named ``schema``."""

    id: str
    schema: str
    data: Any


@dataclass(frozen=True)
class Verdict:
    id: str
    schema: str
    valid: bool
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    versions: dict[str, str]
    #: Schema name -> ajv's compile error, for the schemas that did not compile.
    compile_errors: dict[str, str]
    verdicts: tuple[Verdict, ...]


def missing_tools() -> list[str]:
    """The programs ajv needs that are not on ``PATH`` (``node``, ``npm``)."""
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "partnerhub"


def ensure_installed(root: Path | None = None, timeout: float = 300.0) -> Path:
    """The ``node_modules`` folder holding the pinned ajv, installing it on first use.

    The install goes into a temporary sibling that is renamed into place, so two test runs
    starting together never see a half-installed folder.
    """
    missing = missing_tools()
    if missing:
        raise AjvUnavailable(f"{' and '.join(missing)} not found on PATH")
    lock = (PACKAGE / "package-lock.json").read_bytes()
    digest = hashlib.sha256((PACKAGE / "package.json").read_bytes() + lock).hexdigest()[:16]
    target = (root or cache_root()) / f"ajv-{digest}"
    if (target / "node_modules" / "ajv" / "package.json").is_file():
        return target / "node_modules"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="ajv-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PACKAGE / name, staging / name)
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AjvUnavailable(f"npm ci failed in {staging}: {result.stderr.strip()[-500:]}")
        try:
            staging.rename(target)
        except OSError:  # another run finished first: use its folder
            if not (target / "node_modules" / "ajv").is_dir():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target / "node_modules"


def check(
    schemas: Mapping[str, Any],
    instances: Iterable[Instance] = (),
    *,
    node_modules: Path | None = None,
    timeout: float = 120.0,
) -> Report:
    """Compile every schema with ajv (strict, draft 2020-12, formats checked) and validate
    each instance against the schema it names."""
    modules = node_modules or ensure_installed()
    request = {
        "schemas": dict(schemas),
        "instances": [{"id": i.id, "schema": i.schema, "data": i.data} for i in instances],
    }
    result = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request),
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ajv runner failed: {result.stderr.strip()[-1000:]}")
    out = json.loads(result.stdout)
    return Report(
        versions=out["versions"],
        compile_errors={name: error for name, error in out["compile"].items() if error},
        verdicts=tuple(
            Verdict(r["id"], r["schema"], bool(r["valid"]), tuple(r["errors"]))
            for r in out["results"]
        ),
    )
