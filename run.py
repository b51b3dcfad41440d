#!/usr/bin/env python3
"""One entry point for a fresh machine: make the virtual environment, then run the hub or its tests.

    python3 run.py demo            # the hub's main job on the embedded default
    python3 run.py test [ARGS]     # the whole test suite (ARGS go to pytest)
    python3 run.py check           # ruff, mypy, the layers contract, committed-artifact checks
    python3 run.py partnerhub ...  # any partnerhub command inside the environment

Only the standard library is used here, so Python 3.11 is all a machine needs. The environment
lives in `.venv/` and is reinstalled only when `pyproject.toml` or the requested extras change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_env(extras: str) -> None:
    """Create `.venv` and install the project with `extras` unless the same install is recorded."""
    if sys.version_info < (3, 11):
        sys.exit(f"Partner Hub needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".partnerhub-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(
        f"Installing partnerhub[{extras}] into .venv (first run takes a few minutes) ...",
        flush=True,
    )
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(digest)


def run(argv: list[str]) -> int:
    """Run a program from the environment in the project folder; return its exit code."""
    return subprocess.run(argv, cwd=ROOT).returncode


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "demo":
        ensure_env("embedded,dev")
        return run([str(BIN / "partnerhub"), "demo", *rest])
    if command == "test":
        ensure_env("embedded,dev")
        return run([str(BIN / "python"), "-m", "pytest", *rest])
    if command == "check":
        ensure_env("embedded,dev")
        for argv in (
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
            [str(BIN / "lint-imports")],
            [str(BIN / "partnerhub"), "schemas", "export", "--check"],
        ):
            code = run(argv)
            if code:
                return code
        return 0
    if command == "partnerhub":
        ensure_env("embedded,dev")
        return run([str(BIN / "partnerhub"), *rest])
    print(__doc__)
    return 0 if command in ("help", "--help", "-h") else 2


if __name__ == "__main__":
    sys.exit(main())
