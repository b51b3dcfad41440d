"""Error classification: the one question the writer asks of a failure."""

from __future__ import annotations

import pytest

from streams.errors import ErrorKind, classify
from warehouse.client import StatementFailed, WarehouseUnavailable


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (WarehouseUnavailable("server down"), ErrorKind.TRANSIENT),
        (StatementFailed("Code: 53. type mismatch"), ErrorKind.DATA),
        (ValueError("insert into facts, column region: bad value"), ErrorKind.DATA),
        # Only what the warehouse says is about the data: a bare TypeError or a refused
        # statement that is not about values is a bug, retried, never dead-lettered.
        (TypeError("cannot convert"), ErrorKind.TRANSIENT),
        (StatementFailed("Code: 62. Syntax error"), ErrorKind.TRANSIENT),
        (StatementFailed("Code: 321. value out of range of data type"), ErrorKind.DATA),
        (ConnectionError("broker went away"), ErrorKind.TRANSIENT),
        (RuntimeError("anything else"), ErrorKind.TRANSIENT),
    ],
)
def test_errors_are_classified_as_transient_or_about_the_data(
    error: BaseException, kind: ErrorKind
) -> None:
    assert classify(error) is kind
