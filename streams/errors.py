"""What kind of failure stopped a write: the one place the writer asks."""

from __future__ import annotations

from enum import Enum

from warehouse.client import StatementFailed, WarehouseUnavailable


class ErrorKind(Enum):
    #: The warehouse or the broker cannot take work now; the same batch will succeed later.
    TRANSIENT = "transient"
    #: The warehouse rejected the batch's content (a type it cannot store, a value out of
    #: range): writing it again as it is fails again.
    DATA = "data"


def classify(error: BaseException) -> ErrorKind:
    """Whether ``error`` is about the moment (transient) or about the batch's content (data).

    A ``ValueError``/``TypeError`` is raised while a batch is turned into columns, and
    ``StatementFailed`` when the warehouse refuses a statement; both travel with the batch.
    Everything else (an unreachable warehouse, a broker that does not acknowledge a dead
    letter) passes.
    """
    if isinstance(error, WarehouseUnavailable):
        return ErrorKind.TRANSIENT
    if isinstance(error, StatementFailed | ValueError | TypeError):
        return ErrorKind.DATA
    return ErrorKind.TRANSIENT
