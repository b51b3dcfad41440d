"""Who is calling: the gateway's parts, the Authorization header, tokens, scopes and the rate
limit. Every refusal is a :class:`Refusal` (HTTP status, stable code, headers)."""

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from fastapi.security import HTTPBasic, HTTPBearer

from producers.gateway.kobo import FormMapping, Lineage
from producers.gateway.publishing import Sender
from producers.gateway.ratelimit import RateLimiter
from producers.gateway.settings import GatewayLimits
from producers.gateway.tokens import Refused, Scope, TokenInfo, TokenStore
from schemas import refdata

#: Documented in the OpenAPI document; the gateway reads the header itself, so that a missing
#: or malformed one gets the gateway's own 401 answer.
BEARER = HTTPBearer(auto_error=False, description="A partner token: `Bearer ph_<id>_<secret>`.")
BASIC = HTTPBasic(
    auto_error=False, description="For KoboToolbox: the partner code, and a token as password."
)


class Refusal(Exception):
    """A request refused as a whole: HTTP ``status``, ``code``, ``message``, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.headers = dict(headers or {})
        super().__init__(message)


@dataclass
class Gateway:
    """What the application needs: who may report, how events go out, and its limits."""

    registry: Mapping[str, refdata.Partner]
    tokens: TokenStore
    sender: Sender
    limits: GatewayLimits
    clock: Callable[[], datetime]
    #: KoboToolbox form mappings by form name, and the edit lineage of their submissions.
    forms: Mapping[str, FormMapping] = field(default_factory=dict)
    lineage: Lineage | None = None
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.limits.rate_per_second, self.limits.rate_burst)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the token and its partner."""

    token: TokenInfo
    partner: refdata.Partner


def token_of(request: Request, scheme: str) -> tuple[str, str | None]:
    """``(token, basic-auth user or None)`` from the Authorization header; 401 if unusable."""
    header = request.headers.get("authorization")
    challenge = {"WWW-Authenticate": f'{scheme} realm="partnerhub"'}
    if not header:
        raise Refusal(401, "missing_credentials", "send Authorization: Bearer <token>", challenge)
    kind, _, value = header.partition(" ")
    value = value.strip()
    if kind.lower() == "bearer" and value:
        return value, None
    if kind.lower() == "basic" and value:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        if sep:
            return password, user
    raise Refusal(
        401, "malformed_header", "the Authorization header is not 'Bearer <token>'", challenge
    )


def caller_of(gateway: Gateway, request: Request, scope: Scope | None, scheme: str) -> Caller:
    token, user = token_of(request, scheme)
    try:
        info = gateway.tokens.verify(token, now=gateway.clock())
    except Refused as refused:
        challenge = {"WWW-Authenticate": f'{scheme} realm="partnerhub", error="invalid_token"'}
        raise Refusal(401, refused.code, str(refused), challenge) from None
    if user is not None and user != info.partner_id:
        raise Refusal(401, "user_mismatch", "the user name is not the token's partner code")
    partner = gateway.registry.get(info.partner_id)
    if partner is None:
        raise Refusal(403, "unknown_partner", f"partner {info.partner_id!r} is not registered")
    if scope is not None and scope not in info.scopes:
        raise Refusal(
            403, "scope_not_granted", f"token {info.token_id} may not be used for {scope.value}"
        )
    wait = gateway.limiter.take(info.token_id)
    if wait:
        raise Refusal(
            429, "rate_limited", f"too many requests; retry in {wait} s", {"Retry-After": str(wait)}
        )
    return Caller(info, partner)
