"""Secrets the production stack must not start with: ``.env.example``'s placeholders, or too short.

``docker compose up`` runs ``partnerhub preflight`` before every other service; it reads the
secrets compose hands it and refuses placeholders (``change-me...``, which even meet a length
rule) and secrets shorter than :data:`MIN_LENGTH`, naming each variable and never its value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

#: Every placeholder of ``.env.example`` contains this.
PLACEHOLDER = "change-me"
#: Shortest secret accepted (``openssl rand -hex 24`` gives 48 characters).
MIN_LENGTH = 16
#: Variables holding one secret each, by suffix; ``PARTNER_PASSWORDS`` holds a JSON object.
SECRET_SUFFIXES = ("_PASSWORD", "_TOKEN")
PARTNER_PASSWORDS = "PARTNER_PASSWORDS"


def weak_secrets(env: Mapping[str, str]) -> list[str]:
    """One line per weak secret in ``env``: the variable (and partner) and what is wrong."""
    found: list[tuple[str, str]] = [
        (name, value) for name, value in sorted(env.items()) if name.endswith(SECRET_SUFFIXES)
    ]
    problems: list[str] = []
    if env.get(PARTNER_PASSWORDS, "").strip():
        try:
            partners = json.loads(env[PARTNER_PASSWORDS])
        except json.JSONDecodeError as error:
            problems.append(f"{PARTNER_PASSWORDS} is not a JSON object ({error.msg})")
            partners = {}
        if not isinstance(partners, dict):
            problems.append(f"{PARTNER_PASSWORDS} is not a JSON object")
            partners = {}
        found += [
            (f"{PARTNER_PASSWORDS}[{code}]", str(pw)) for code, pw in sorted(partners.items())
        ]
    for name, value in found:
        if PLACEHOLDER in value.lower():
            problems.append(f"{name} is still the .env.example placeholder")
        elif len(value) < MIN_LENGTH:
            problems.append(f"{name} is shorter than {MIN_LENGTH} characters")
    return problems
