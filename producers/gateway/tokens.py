"""Per-partner tokens: shown once, stored only as a salted hash, compared in constant time.

A token reads ``ph_<id>_<secret>``. The id (12 hex digits) is public: it names the token in
``partnerhub tokens list`` and in logs. The secret (32 random bytes) is never stored; the store
keeps ``HMAC-SHA256(salt, secret)`` with a random salt per token. A slow password hash (scrypt)
would protect guessable passwords; a 256-bit random secret cannot be guessed, and a slow hash
would cost tens of milliseconds on every request, so a keyed fast hash is the right tool here.

The store is one SQLite file in the hub's data folder (``gateway/tokens.sqlite``): the standard
library, safe across processes (the CLI writes while the gateway reads), and revocation takes
effect on the next request because every request reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

__all__ = ["Refused", "Scope", "TokenInfo", "TokenStore", "token_id_of"]

_TOKEN = re.compile(r"^ph_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id   TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    salt       BLOB NOT NULL,
    digest     BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
)
"""


class Scope(StrEnum):
    """What a token may be used for."""

    EVENTS = "events"  # POST /v1/events (and the read-only /v1 pages)
    KOBO = "kobo"  # POST /v1/kobo/{form}


class Refused(Exception):
    """A token that does not authenticate: ``code`` says why (for the 401 body)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the store knows of a token (never its secret)."""

    token_id: str
    partner_id: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def token_id_of(token: str) -> str | None:
    """The public id of a well-formed token, None otherwise (safe to log)."""
    match = _TOKEN.fullmatch(token)
    return match["id"] if match else None


def _digest(salt: bytes, secret: str) -> bytes:
    return hmac.new(salt, secret.encode(), hashlib.sha256).digest()


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class TokenStore:
    """The token table in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute(_SCHEMA)
            yield db

    def create(
        self,
        partner_id: str,
        *,
        now: datetime,
        expires_at: datetime | None = None,
        scopes: tuple[Scope, ...] = (Scope.EVENTS, Scope.KOBO),
    ) -> tuple[str, TokenInfo]:
        """A new token for ``partner_id``: ``(token, info)``. The token is not kept anywhere."""
        if not scopes:
            raise ValueError("a token needs at least one scope")
        if expires_at is not None and expires_at <= now:
            raise ValueError(f"expiry {expires_at.isoformat()} is not in the future")
        token_id, secret, salt = (
            secrets.token_hex(6),
            secrets.token_urlsafe(32),
            secrets.token_bytes(16),
        )
        info = TokenInfo(token_id, partner_id, tuple(scopes), now, expires_at, None)
        with self._db() as db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    token_id,
                    partner_id,
                    " ".join(scopes),
                    salt,
                    _digest(salt, secret),
                    now.isoformat(),
                    expires_at.isoformat() if expires_at else None,
                ),
            )
        return f"ph_{token_id}_{secret}", info

    def tokens(self, partner_id: str | None = None) -> list[TokenInfo]:
        """Every token (of one partner), oldest first."""
        query = (
            "SELECT token_id, partner_id, scopes, created_at, expires_at, revoked_at FROM tokens"
        )
        args: tuple[str, ...] = ()
        if partner_id is not None:
            query, args = query + " WHERE partner_id = ?", (partner_id,)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY created_at, token_id", args).fetchall()
        return [self._info(row) for row in rows]

    def revoke(self, token_id: str, *, now: datetime) -> TokenInfo:
        """Revoke a token by its id (at once: the next request is refused)."""
        with self._db() as db:
            db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (now.isoformat(), token_id),
            )
        found = [t for t in self.tokens() if t.token_id == token_id]
        if not found:
            raise ValueError(f"no token with id {token_id!r} (partnerhub tokens list)")
        return found[0]

    def verify(self, token: str, *, now: datetime) -> TokenInfo:
        """The token's info; :class:`Refused` when it is malformed, unknown, expired or revoked."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise Refused("malformed_token", "the token is not of the form ph_<id>_<secret>")
        with self._db() as db:
            row = db.execute(
                "SELECT token_id, partner_id, scopes, created_at, expires_at, revoked_at, "
                "salt, digest FROM tokens WHERE token_id = ?",
                (match["id"],),
            ).fetchone()
        # Hash even for an unknown id, so that timing does not tell known ids from unknown.
        salt, digest = (row[6], row[7]) if row else (b"\0" * 16, b"\0" * 32)
        if not hmac.compare_digest(_digest(salt, match["secret"]), digest) or row is None:
            raise Refused("unknown_token", "the token is not one the hub issued")
        info = self._info(row[:6])
        state = info.state(now)
        if state != "active":
            raise Refused(f"{state}_token", f"the token {info.token_id} is {state}")
        return info

    @staticmethod
    def _info(row: tuple[str, ...]) -> TokenInfo:
        token_id, partner_id, scopes, created, expires, revoked = row
        return TokenInfo(
            token_id,
            partner_id,
            tuple(Scope(s) for s in scopes.split()),
            datetime.fromisoformat(created),
            _time(expires),
            _time(revoked),
        )


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
