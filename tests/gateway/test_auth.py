"""Who may report what: every refusal has its status and reason, and publishes nothing."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest

from producers.gateway.tokens import Scope
from schemas.topics import topic_for
from schemas.vocabulary import Kind
from tests.gateway.rig import Rig, example, records

pytestmark = pytest.mark.kafka

EVENT = example(Kind.ASSISTANCE)  # a kzlegal event
TOPIC = topic_for("kzlegal", Kind.ASSISTANCE)


def refused(rig: Rig, headers: dict[str, str], status: int, code: str) -> None:
    response = rig.client().post("/v1/events", json=EVENT, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_malformed_and_wrong_credentials_get_401(rig: Rig) -> None:
    good = rig.token("kzlegal")
    refused(rig, {}, 401, "missing_credentials")
    refused(rig, {"Authorization": good}, 401, "malformed_header")
    refused(rig, {"Authorization": "Bearer"}, 401, "malformed_header")
    refused(rig, {"Authorization": "Bearer not-a-token"}, 401, "malformed_token")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    refused(rig, {"Authorization": f"Bearer {forged}"}, 401, "unknown_token")
    unknown_id = "ph_000000000000_" + good[len("ph_000000000000_") :]  # a real secret
    refused(rig, {"Authorization": f"Bearer {unknown_id}"}, 401, "unknown_token")
    assert records(rig.kafka, TOPIC) == []


def test_revoked_and_expired_tokens_get_401(rig: Rig) -> None:
    revoked = rig.token("kzlegal")
    headers = {"Authorization": f"Bearer {revoked}"}
    assert rig.client().get("/v1/me", headers=headers).status_code == 200
    rig.gateway.tokens.revoke(revoked[3:15], now=rig.clock())
    refused(rig, headers, 401, "revoked_token")

    expiring = rig.token("kzlegal", expires_at=rig.clock() + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {expiring}"}
    assert rig.client().get("/v1/me", headers=headers).status_code == 200
    rig.clock.now += timedelta(hours=1)
    refused(rig, headers, 401, "expired_token")
    assert records(rig.kafka, TOPIC) == []


def test_a_token_outside_its_scope_gets_403(rig: Rig) -> None:
    kobo_only = rig.token("kzlegal", scopes=(Scope.KOBO,))
    refused(rig, {"Authorization": f"Bearer {kobo_only}"}, 403, "scope_not_granted")
    assert records(rig.kafka, TOPIC) == []


def test_the_partner_is_the_tokens_never_the_payloads(rig: Rig) -> None:
    """redcres's token cannot report kzlegal's event, nor a kind or region outside its mandate."""
    redcres = rig.auth("redcres")
    spoofed = rig.client().post("/v1/events", json=EVENT, headers=redcres)
    unmandated_kind = example(Kind.DURABLE_SOLUTIONS) | {"partner_id": "redcres"}
    kind = rig.client().post("/v1/events", json=unmandated_kind, headers=redcres)
    outside = EVENT | {"partner_id": "redcres", "region": "KZ-11"}
    region = rig.client().post("/v1/events", json=outside, headers=redcres)

    for response, field, code in (
        (spoofed, "partner_id", "partner_mismatch"),
        (kind, "kind", "kind_not_mandated"),
        (region, "region", "region_not_mandated"),
    ):
        assert response.status_code == 422, response.text
        (result,) = response.json()["results"]
        assert result["status"] == "rejected"
        assert [(r["field"], r["code"]) for r in result["reasons"]] == [(field, code)]
    topics = [topic_for(p, Kind.ASSISTANCE) for p in ("kzlegal", "redcres")]
    assert records(rig.kafka, *topics, topic_for("kzlegal", Kind.DURABLE_SOLUTIONS)) == []


def test_basic_auth_needs_the_tokens_own_partner_code(rig: Rig) -> None:
    token = rig.token("kzlegal")

    def basic(user: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}

    assert rig.client().get("/v1/me", headers=basic("kzlegal")).json()["partner_id"] == "kzlegal"
    other = rig.client().get("/v1/me", headers=basic("redcres"))
    assert (other.status_code, other.json()["code"]) == (401, "user_mismatch")


def test_me_tells_the_tokens_partner_and_mandate(rig: Rig) -> None:
    me = rig.client().get("/v1/me", headers=rig.auth("wcc_almaty")).json()
    assert me["partner_id"] == "wcc_almaty"
    assert me["kinds"] == ["sgbv"]
    assert me["regions"] == ["KZ-75", "KZ-19"]
    assert set(me["scopes"]) == {"events", "kobo"}


def test_tokens_never_reach_the_logs(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = rig.token("kzlegal")
    client = rig.client()
    client.post("/v1/events", json=EVENT, headers={"Authorization": f"Bearer {token}"})
    client.post("/v1/events", json=EVENT, headers={"Authorization": f"Bearer {token}x"})
    secret = token[len("ph_000000000000_") :]

    assert f"token {token[3:15]}" in caplog.text  # requests are logged by the token's id
    assert secret not in caplog.text
    assert secret not in (rig.gateway.tokens.path.read_bytes().decode("latin-1"))
