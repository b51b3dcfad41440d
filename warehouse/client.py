"""One small interface to the warehouse, with two adapters that run the same SQL.

- :class:`EmbeddedWarehouse`: the ClickHouse engine in this process (chdb), data in a folder.
  chdb allows one process per folder and one folder per process; sessions of one process on
  the same folder share the engine.
- :class:`ServerWarehouse`: a ClickHouse server over HTTP (clickhouse-connect). A ``chdb://``
  URL gives clickhouse-connect's in-process chdb backend, which runs this adapter's code
  without a server (the tests use it).

Query parameters use ClickHouse's server-side ``{name:Type}`` placeholders on both adapters,
rendered by clickhouse-connect's own binder, so a value means the same thing everywhere.

Errors say whether to retry: :class:`WarehouseUnavailable` (cannot connect, server down,
folder locked by another process, server overloaded) is worth retrying after a pause;
:class:`StatementFailed` (bad SQL, type mismatch, unknown table) is a bug and is not.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import clickhouse_connect
from clickhouse_connect.driver.binding import bind_query
from clickhouse_connect.driver.exceptions import (
    DatabaseError,
    OperationalError,
    ProgrammingError,
)

from warehouse.limits import DEFAULT_LIMITS, EngineLimits
from warehouse.settings import ClickHouseSettings

log = logging.getLogger(__name__)

Parameters = Mapping[str, Any]
Row = dict[str, Any]

#: ClickHouse error codes that describe a passing condition of the warehouse, not of the
#: statement: worth retrying after a pause.
RETRYABLE_CODES: frozenset[int] = frozenset(
    {
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        243,  # NOT_ENOUGH_SPACE
        252,  # TOO_MANY_PARTS
        285,  # TOO_FEW_LIVE_REPLICAS
        319,  # UNKNOWN_STATUS_OF_INSERT
        425,  # SYSTEM_ERROR
        439,  # CANNOT_SCHEDULE_TASK
        999,  # KEEPER_EXCEPTION
        1000,  # POCO_EXCEPTION
    }
)
_UNKNOWN_DATABASE = 81
_CODE = re.compile(r"\bCode:\s*(\d+)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class WarehouseError(RuntimeError):
    """Anything the warehouse layer raises."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached or cannot take work now; retry after a pause."""


class StatementFailed(WarehouseError):
    """The warehouse rejected a statement (bad SQL, types, missing table): a bug, not retried."""


class Warehouse(Protocol):
    """What the hub needs of a warehouse. Implementations are safe to use from one thread."""

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        """Run a statement that returns nothing (DDL, ``INSERT ... SELECT``)."""
        ...

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        """Insert a columnar batch: column name -> values, all of equal length."""
        ...

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        """Rows as dicts of Python values (str, int, float, date, aware UTC datetime, list)."""
        ...

    def close(self) -> None:
        """Release the connection (idempotent)."""
        ...


def open_warehouse(ch: ClickHouseSettings, data_dir: Path) -> Warehouse:
    """The warehouse the settings name: a server at ``ch.url``, else chdb in
    ``<data_dir>/warehouse``."""
    if ch.url is None:
        return EmbeddedWarehouse(data_dir / "warehouse", database=ch.database, limits=ch.limits())
    return ServerWarehouse(
        ch.url,
        database=ch.database,
        username=ch.username,
        password=ch.password.get_secret_value() if ch.password else None,
        limits=ch.limits(),
    )


# --- shared helpers ------------------------------------------------------------------------


def error_code(error: BaseException) -> int | None:
    """The ClickHouse error code an exception carries, if any."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    match = _CODE.search(str(error))
    return int(match.group(1)) if match else None


def _classify(error: BaseException, what: str) -> WarehouseError:
    """The warehouse error to raise for a driver or engine error."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    message = f"{what}: {first_line}"
    if error_code(error) in RETRYABLE_CODES:
        return WarehouseUnavailable(message)
    return StatementFailed(message)


def quote_identifier(name: str) -> str:
    """``name`` back-quoted, after checking it is a plain identifier."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f"`{name}`"


def _checked_columns(table: str, columns: Mapping[str, Sequence[Any]]) -> int:
    """Number of rows in a columnar batch; raises ValueError when lengths differ."""
    lengths = {name: len(values) for name, values in columns.items()}
    if not lengths:
        raise ValueError(f"insert into {table}: no columns")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"insert into {table}: columns of unequal length {lengths}")
    return next(iter(lengths.values()))


def _as_utc(value: Any) -> Any:
    """Naive datetimes (every DateTime column here is UTC) as aware UTC; others unchanged."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def lock_holder(folder: Path) -> int | None:
    """PID of the process holding a chdb data folder, 0 if held but unknown, None if free.

    chdb (like clickhouse-server) keeps an exclusive ``flock`` on ``<folder>/status`` while
    its engine runs. Call this only after opening failed: within one process the lock is held
    by the process's own engine, which would read as busy here.
    """
    status = folder / "status"
    try:
        fd = os.open(status, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            match = re.search(r"^PID:\s*(\d+)", status.read_text(errors="replace"), re.M)
            return int(match.group(1)) if match else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _open_failure(folder: Path, error: BaseException) -> WarehouseError:
    """The warehouse error for a chdb engine that would not open on ``folder``."""
    holder = lock_holder(folder)
    if holder is not None and holder != os.getpid():
        who = f"process {holder}" if holder else "another process"
        return WarehouseUnavailable(
            f"warehouse folder {folder} is in use by {who} (chdb allows one process per folder)"
        )
    if "already initialized with path" in str(error):
        return StatementFailed(
            f"cannot open {folder}: this process already runs chdb on another folder "
            "(chdb allows one folder per process; close the other warehouse first)"
        )
    return WarehouseUnavailable(f"cannot open warehouse folder {folder}: {error}")


# --- embedded: chdb ------------------------------------------------------------------------


class EmbeddedWarehouse:
    """The ClickHouse engine in this process (chdb), data kept in ``data_dir``.

    Inserts go in as one Arrow stream per batch (``INSERT ... FORMAT ArrowStream``), the
    fastest path measured from Python values (docs/warehouse.md).
    """

    def __init__(
        self,
        data_dir: Path,
        database: str = "partnerhub",
        limits: EngineLimits = DEFAULT_LIMITS,
    ) -> None:
        from chdb.session import Session  # the embedded extra; the server path needs none

        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self._lock = threading.Lock()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The engine starts with the limits (docs/warehouse.md); a second session of this
        # process on the same folder shares the engine and gets the same query settings.
        connection = limits.connection_string(str(self.data_dir))
        try:
            self._session: Any = Session(connection)  # type: ignore[no-untyped-call]
        except RuntimeError as error:
            raise _open_failure(self.data_dir, error) from error
        try:
            db = quote_identifier(database)
            self._run(f"CREATE DATABASE IF NOT EXISTS {db}", None, "CSV")
            self._run(f"USE {db}", None, "CSV")
        except BaseException:
            self.close()
            raise
        log.info("opened embedded warehouse %s (database %s)", self.data_dir, database)

    def _run(self, sql: str, parameters: Parameters | None, fmt: str) -> Any:
        params: dict[str, Any] = {}
        if parameters:
            try:
                sql_bound, bound = bind_query(sql, dict(parameters), UTC)
            except (DatabaseError, TypeError, ValueError) as error:
                raise StatementFailed(f"cannot bind parameters: {error}") from error
            sql = sql_bound if isinstance(sql_bound, str) else sql_bound.decode()
            params = {k.removeprefix("param_"): v for k, v in bound.items()}
        with self._lock:
            if self._session is None:
                raise WarehouseError(f"warehouse {self.data_dir} is closed")
            try:
                return self._session.query(sql, fmt, params=params)
            except RuntimeError as error:
                raise _classify(error, "warehouse statement failed") from error

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        self._run(sql, parameters, "CSV")

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        table = self._run(sql, parameters, "ArrowTable")
        rows: list[Row] = table.to_pylist()
        return rows

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        if _checked_columns(table, columns) == 0:
            return
        stream = _arrow_stream(table, columns)
        names = ", ".join(quote_identifier(c) for c in columns)
        statement = f"INSERT INTO {quote_identifier(table)} ({names})"
        with self._lock:
            if self._session is None:
                raise WarehouseError(f"warehouse {self.data_dir} is closed")
            try:
                with self._session.send_insert(statement, "ArrowStream") as inserter:
                    inserter.append(stream)
                    inserter.finish()
            except RuntimeError as error:
                raise _classify(error, f"insert into {table} failed") from error

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
            log.info("closed embedded warehouse %s", self.data_dir)

    def __enter__(self) -> EmbeddedWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _arrow_stream(table: str, columns: Mapping[str, Sequence[Any]]) -> bytes:
    """A columnar batch as Arrow IPC stream bytes; ClickHouse converts each column to its type."""
    import pyarrow as pa  # comes with chdb (the embedded extra)

    def array(name: str, values: Sequence[Any]) -> Any:
        try:
            try:
                return pa.array(values)
            except OverflowError:  # integers past int64: only UInt64 holds them
                return pa.array(values, pa.uint64())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise ValueError(f"insert into {table}, column {name}: {error}") from error

    batch = pa.table({name: array(name, values) for name, values in columns.items()})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_table(batch)
    return sink.getvalue()


# --- server: clickhouse-connect ------------------------------------------------------------


class ServerWarehouse:
    """A ClickHouse server reached with clickhouse-connect (HTTP), or its ``chdb://`` backend.

    The database is created when it does not exist yet (the user needs the right to, once).
    """

    def __init__(
        self,
        url: str,
        database: str = "partnerhub",
        username: str | None = None,
        password: str | None = None,
        *,
        connect_timeout: int = 5,
        send_receive_timeout: int = 300,
        limits: EngineLimits = DEFAULT_LIMITS,
    ) -> None:
        self.database = database
        self._where = _redacted(url)
        quote_identifier(database)
        options: dict[str, Any] = {"dsn": url, "username": username, "password": password or ""}
        if not url.startswith("chdb:"):
            options.update(
                connect_timeout=connect_timeout,
                send_receive_timeout=send_receive_timeout,
                # Per-query limits as session settings; caches are the server's config.
                settings=limits.query_settings(),
            )
        try:
            self._client: Any = _connect(options, database)
        except ProgrammingError as error:
            if url.startswith("chdb:"):
                raise _open_failure(Path(url.removeprefix("chdb://")), error) from error
            raise StatementFailed(f"cannot use {self._where}: {error}") from error
        except (DatabaseError, OSError) as error:
            raise self._failure(error, "cannot connect") from error
        log.info("connected to warehouse %s (database %s)", self._where, database)

    def _failure(self, error: BaseException, what: str) -> WarehouseError:
        if isinstance(error, OperationalError | OSError):
            return WarehouseUnavailable(f"{what} ({self._where}): {error}")
        return _classify(error, f"{what} ({self._where})")

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._client is None:
            raise WarehouseError(f"warehouse {self._where} is closed")
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except (DatabaseError, OSError) as error:
            raise self._failure(error, "warehouse statement failed") from error

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        self._call("command", sql, parameters=dict(parameters) if parameters else None)

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        result = self._call("query", sql, parameters=dict(parameters) if parameters else None)
        return [{k: _as_utc(v) for k, v in row.items()} for row in result.named_results()]

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        if _checked_columns(table, columns) == 0:
            return
        quote_identifier(table)
        self._call(
            "insert",
            table,
            [list(values) for values in columns.values()],
            column_names=list(columns),
            column_oriented=True,
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> ServerWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(options: dict[str, Any], database: str) -> Any:
    """A clickhouse-connect client on ``database``, creating the database when it is missing."""
    client = None
    try:
        client = clickhouse_connect.get_client(database=database, **options)
        client.command("SELECT 1")
        return client
    except DatabaseError as error:
        if client is not None:
            client.close()
        if error_code(error) != _UNKNOWN_DATABASE:
            raise
    log.info("creating database %s", database)
    admin = clickhouse_connect.get_client(database="default", **options)
    try:
        admin.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    finally:
        admin.close()
    return clickhouse_connect.get_client(database=database, **options)


def _redacted(url: str) -> str:
    """``url`` without a password, for messages and logs."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)
