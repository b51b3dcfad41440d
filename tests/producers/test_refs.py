"""Beneficiary refs: keyed hashes of registration ids, and loading the operation's key."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from producers.refs import (
    KEY_ENV,
    RefsKeyError,
    beneficiary_ref,
    find_key,
    load_key,
    normalise_registration_id,
)

KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KEY = bytes.fromhex(KEY_HEX)


def test_a_ref_is_the_hmac_sha256_of_the_normalised_id() -> None:
    # A fixed vector: partners computing refs in their own systems must get this value.
    expected = "3adb148568cee9de7f65f4bc7424200c4e38af35a88169b34f06603ea0999be9"
    assert beneficiary_ref("KZ-2006-0042", KEY) == expected
    assert expected == hmac.new(KEY, b"KZ-2006-0042", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("written", ["kz-2006-0042", "  KZ-2006-0042\t", "Kz-2006-0042\n"])
def test_normalisation_strips_and_upper_cases(written: str) -> None:
    assert normalise_registration_id(written) == "KZ-2006-0042"
    assert beneficiary_ref(written, KEY) == beneficiary_ref("KZ-2006-0042", KEY)


def test_refs_depend_on_the_key_and_the_id() -> None:
    other_key = bytes(reversed(KEY))
    assert beneficiary_ref("KZ-1", KEY) != beneficiary_ref("KZ-1", other_key)
    assert beneficiary_ref("KZ-1", KEY) != beneficiary_ref("KZ-2", KEY)


def test_a_blank_id_is_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        beneficiary_ref("   ", KEY)


def test_key_from_the_environment() -> None:
    assert load_key(environ={KEY_ENV: KEY_HEX}) == KEY
    assert find_key(environ={KEY_ENV: f" {KEY_HEX.upper()}\n"}) == KEY


def test_key_file_wins_over_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "refs.key"
    path.write_text(KEY_HEX + "\n")
    other = "ff" * 32
    assert load_key(path, environ={KEY_ENV: other}) == KEY


def test_no_key_configured() -> None:
    assert find_key(environ={}) is None
    with pytest.raises(RefsKeyError, match=KEY_ENV):
        load_key(environ={})


@pytest.mark.parametrize(
    ("text", "match"),
    [("not hex at all", "not hexadecimal"), ("00ff", "2 bytes; at least 16")],
)
def test_malformed_keys_are_refused_naming_their_source(
    tmp_path: Path, text: str, match: str
) -> None:
    with pytest.raises(RefsKeyError, match=match) as raised:
        load_key(environ={KEY_ENV: text})
    assert str(raised.value).startswith(KEY_ENV)
    path = tmp_path / "refs.key"
    path.write_text(text)
    with pytest.raises(RefsKeyError, match=match) as raised:
        load_key(path)
    assert str(raised.value).startswith(str(path))


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.key"
    with pytest.raises(RefsKeyError, match="cannot read"):
        find_key(missing, environ={})
