"""KoboToolbox REST Service submissions: mapped, published, edited, and dead-lettered."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from producers.gateway.kobo import load_mapping
from schemas.topics import DEADLETTER_TOPIC, topic_for
from schemas.vocabulary import Kind
from tests.gateway.rig import KOBO_FORMS, KOBO_SAMPLES, Rig, records

URL = "/v1/kobo/kzlegal_distribution"
TOPIC = topic_for("kzlegal", Kind.ASSISTANCE)


def sample(name: str) -> bytes:
    return (KOBO_SAMPLES / f"{name}.json").read_bytes()


def basic(user: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def post(rig: Rig, body: bytes, partner: str = "kzlegal", url: str = URL) -> Any:
    token = rig.tokens.get(partner) or rig.token(partner)
    rig.tokens[partner] = token
    return rig.client().post(
        url, content=body, headers=basic(partner, token) | {"Content-Type": "application/json"}
    )


@pytest.mark.kafka
def test_a_submission_its_resend_and_its_edit_are_one_event_in_revisions(rig: Rig) -> None:
    first, resent, edited = (
        post(rig, sample(n)) for n in ("submission", "submission", "submission-edited")
    )

    assert [r.status_code for r in (first, resent, edited)] == [200, 200, 200]
    ids = {r.json()["event_id"] for r in (first, resent, edited)}
    assert len(ids) == 1
    assert [r.json()["revision"] for r in (first, resent, edited)] == [1, 1, 2]
    stored = [json.loads(r.value) for r in records(rig.kafka, TOPIC)]
    assert sorted((e["revision"], e["beneficiaries"]["female"]["18-59"]) for e in stored) == [
        (1, 7),
        (1, 7),
        (2, 9),
    ]
    assert {e["event_id"] for e in stored} == ids


@pytest.mark.kafka
def test_an_unmappable_submission_is_refused_and_kept_as_a_dead_letter(rig: Rig) -> None:
    response = post(rig, sample("submission-unmappable"))

    assert response.status_code == 422
    data = response.json()
    assert [(r["field"], r["code"]) for r in data["reasons"]] == [
        ("distribution/oblast", "invalid_value"),
        ("distribution/quantity", "wrong_type"),
    ]
    (letter,) = records(rig.kafka, DEADLETTER_TOPIC)
    assert letter.offset == data["deadletter_offset"]
    assert letter.value == sample("submission-unmappable")  # the original bytes, untouched
    headers = dict(letter.headers)
    assert json.loads(headers["x-hub-reasons"]) == data["reasons"]
    assert headers["x-hub-source"] == b"kobo:kzlegal_distribution"
    assert records(rig.kafka, TOPIC) == []


@pytest.mark.kafka
def test_a_mapped_event_that_breaks_the_contract_is_a_dead_letter_too(rig: Rig) -> None:
    submission = json.loads(sample("submission")) | {"distribution/date": "2099-01-01"}
    response = post(rig, json.dumps(submission).encode())

    assert response.status_code == 422
    assert [r["code"] for r in response.json()["reasons"]] == ["future_date"]
    assert len(records(rig.kafka, DEADLETTER_TOPIC)) == 1


@pytest.mark.kafka
def test_kobo_refusals_have_their_status(rig: Rig) -> None:
    other = post(rig, sample("submission"), partner="redcres")
    unknown = post(rig, sample("submission"), url="/v1/kobo/nope")
    bearer = rig.client().post(URL, content=sample("submission"), headers=rig.auth("kzlegal"))
    wrong_user = rig.client().post(
        URL, content=sample("submission"), headers=basic("redcres", rig.tokens["kzlegal"])
    )
    missing = rig.client().post(URL, content=sample("submission"))

    assert (other.status_code, other.json()["code"]) == (403, "form_not_yours")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_form")
    assert bearer.status_code == 200  # a token works as a bearer token too
    assert (wrong_user.status_code, wrong_user.json()["code"]) == (401, "user_mismatch")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    assert len(records(rig.kafka, TOPIC)) == 1


def test_a_mapping_with_an_error_names_its_file_and_field(tmp_path: Path) -> None:
    text = (KOBO_FORMS / "kzlegal_distribution.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("female.0-4:", "female.0-3:"))
    with pytest.raises(ValueError, match=r"bad.yaml: beneficiaries: .*female.0-3"):
        load_mapping(bad)
    bad.write_text(
        text.replace("    question: distribution/date\n", "    value: 1\n    question: x\n")
    )
    with pytest.raises(ValueError, match=r"bad.yaml: fields.occurred_on: .*exactly one"):
        load_mapping(bad)
