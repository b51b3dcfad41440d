"""Beneficiary references: keyed hashes of registration ids, computed on the partner's machine.

The operation gives each partner a secret key. A reference is the HMAC-SHA256 (hex) of the
registration id after normalisation (surrounding whitespace stripped, letters upper-cased), so
``" kz-2006-0042 "`` and ``"KZ-2006-0042"`` give the same reference. The hub can then spot the
same person assisted by two partners without ever seeing a raw id: raw ids never leave the
partner's machine, and without the key a reference cannot be reversed by trying ids.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

#: Environment variable holding the key as hex.
KEY_ENV = "PARTNERHUB_REFS_KEY"
#: Shortest key accepted, in bytes (the operation issues 32).
MIN_KEY_BYTES = 16


class RefsKeyError(ValueError):
    """The refs key is absent, unreadable or malformed; the message says where and how."""


def normalise_registration_id(registration_id: str) -> str:
    """The id as it is hashed: stripped and upper-cased. ``ValueError`` when it is blank."""
    normal = registration_id.strip().upper()
    if not normal:
        raise ValueError("a registration id is blank")
    return normal


def beneficiary_ref(registration_id: str, key: bytes) -> str:
    """The reference (64 lower-case hex digits) of one registration id under ``key``."""
    message = normalise_registration_id(registration_id).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def parse_key(text: str, source: str) -> bytes:
    """Decode a hex key; ``RefsKeyError`` naming ``source`` when it is not hex or too short."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise RefsKeyError(f"{source}: the refs key is not hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise RefsKeyError(
            f"{source}: the refs key has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed"
        )
    return key


def load_key(path: Path | None = None, environ: Mapping[str, str] | None = None) -> bytes:
    """The refs key from the key file at ``path`` (hex text) or else ``PARTNERHUB_REFS_KEY``.

    Raises :class:`RefsKeyError` when neither is given or the key is malformed.
    """
    if path is not None:
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise RefsKeyError(f"{path}: cannot read the refs key file: {error}") from None
        return parse_key(text, str(path))
    environ = os.environ if environ is None else environ
    value = environ.get(KEY_ENV)
    if value:
        return parse_key(value, KEY_ENV)
    raise RefsKeyError(f"no refs key: set {KEY_ENV} (hex) or give a key file")


def find_key(path: Path | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """Like :func:`load_key`, but ``None`` when no key is configured at all."""
    environ = os.environ if environ is None else environ
    if path is None and not environ.get(KEY_ENV):
        return None
    return load_key(path, environ)
