"""Keyed hashes with the hub's secret: nothing published or stored outside the hub's own
process can be tested against guesses without it.

- :func:`rekey_ref`: a beneficiary ref as the warehouse stores it. Partners share one HMAC key
  so their refs of the same person match; the hub re-keys every ref at intake with a secret
  only it holds, so a copy of the warehouse plus a partner's key still cannot test a
  registration id.
- :func:`integrity_hash`: identifies a roll-up version's exact data (is this run's data equal
  to the stored version's?) without being a hash anyone can enumerate candidates against.
"""

from __future__ import annotations

import hashlib
import hmac


def _mac(key: bytes, domain: str, data: bytes) -> str:
    if not key:
        raise ValueError("the hub secret is empty")
    return hmac.new(key, domain.encode("ascii") + b"\x00" + data, hashlib.sha256).hexdigest()


def rekey_ref(key: bytes, ref: str) -> str:
    """The warehouse's form of a partner-side beneficiary ref (64 hex)."""
    return _mac(key, "beneficiary-ref", ref.lower().encode("ascii"))


def integrity_hash(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 of exact, unsuppressed data: kept in the warehouse, never shown."""
    return _mac(key, "rollup-exact", data)


def published_hash(data: bytes) -> str:
    """SHA-256 of a *published* file: anyone may recompute it from the file."""
    return hashlib.sha256(data).hexdigest()
