"""What kind of failure stopped a write: the one place the writer asks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aiokafka.errors import KafkaError

from warehouse.client import StatementFailed, WarehouseUnavailable, error_code


class ErrorKind(Enum):
    #: The warehouse or the broker cannot take work now; the same batch will succeed later.
    TRANSIENT = "transient"
    #: The warehouse rejected the batch's content (a type it cannot store, a value out of
    #: range): writing it again as it is fails again.
    DATA = "data"


#: ClickHouse error codes that say "this data cannot be stored", not "this statement is wrong"
#: or "the warehouse is unwell": refused for the content of the batch.
DATA_ERROR_CODES: frozenset[int] = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        407,  # DECIMAL_OVERFLOW
    }
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the warehouse refused an item: its error code (``"conversion"`` when the value
    could not even be converted to the column's type) and its first line."""

    code: str
    message: str


def data_refusal(error: BaseException) -> Refusal | None:
    """The refusal an error stands for when it is about the data; None when it is not (an
    outage, a bug: retry the whole batch, never dead-letter for it)."""
    if isinstance(error, StatementFailed):
        code = error_code(error)
        if code in DATA_ERROR_CODES:
            return Refusal(str(code), _first_line(error))
        return None
    # The warehouse client raises ValueError when a value does not convert to its column
    # (e.g. an integer above 2^64 for Arrow); nothing was sent.
    if isinstance(error, ValueError) and ", column " in str(error):
        return Refusal("conversion", _first_line(error))
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def classify(error: BaseException) -> ErrorKind:
    """Whether ``error`` is about the moment (transient) or about the batch's content (data).

    Data only when the warehouse says so (:func:`data_refusal`): a refused statement that is
    not about the data (bad SQL, a missing table) is a bug, retried with the batch un-acked,
    never a reason to dead-letter every message. Everything else (an unreachable warehouse, a
    broker that does not acknowledge a dead letter) passes.
    """
    return ErrorKind.DATA if data_refusal(error) is not None else ErrorKind.TRANSIENT


def failure_kind(error: BaseException) -> str:
    """What a failed attempt says, for status and metrics: ``warehouse_unavailable``,
    ``broker_unavailable`` (both pass: back off, keep offsets, retry), or ``error`` (anything
    else: a bug, retried too, and reported as such)."""
    if isinstance(error, WarehouseUnavailable):
        return "warehouse_unavailable"
    if isinstance(error, KafkaError | ConnectionError | TimeoutError):
        return "broker_unavailable"
    return "error"
