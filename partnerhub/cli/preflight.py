"""``partnerhub preflight``: refuse to start the production stack with placeholder secrets."""

from __future__ import annotations

import os
from pathlib import Path

from partnerhub.cli.common import DATA_DIR, CliError, console
from partnerhub.secrets import MIN_LENGTH, SECRET_SUFFIXES, weak_secrets


def preflight(data_dir: Path | None = DATA_DIR) -> None:
    """Check the secrets in the environment (docker compose runs this before every service):
    no ``.env.example`` placeholder, none shorter than 16 characters."""
    problems = weak_secrets(os.environ)
    if problems:
        raise CliError(
            f"{'; '.join(problems)}: set real secrets in .env (e.g. `openssl rand -hex 24`) "
            "and run `docker compose up` again"
        )
    checked = sum(name.endswith(SECRET_SUFFIXES) for name in os.environ)
    console.print(f"ok: {checked} secrets set, none a placeholder or under {MIN_LENGTH} characters")
