"""Child processes and ports on loopback: what every local service runner needs.

Shared by the Tansu runner, the Apache Kafka runner and the embedded stack: a free port, waiting
for a port to accept connections, stopping a child (SIGTERM, then SIGKILL), the pre-exec hook
that puts a child in its own process group with a parent-death signal so that it never outlives
the process that started it, and :class:`BrokerProcess`, the life cycle both broker runners share.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """In a child before exec: own process group, and SIGTERM when the parent dies."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM ``process``, SIGKILL it if it is still there after ``timeout`` s; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(10)


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Return once ``host:port`` accepts TCP connections; TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing accepted connections on {host}:{port} within {timeout:.0f} s"
                ) from None
            time.sleep(0.05)


class BrokerProcess:
    """A broker run as a child process listening on ``127.0.0.1:<port>``.

    The life cycle both runners share: :meth:`start` spawns :meth:`prepare`'s command line
    (output appended to ``log_file``, or dropped), waits for :meth:`wait_ready` and stops the
    child if it never gets ready; :meth:`stop` sends SIGTERM and, after ``stop_seconds``,
    SIGKILL. Use as a context manager or start()/stop(). Subclasses say how to prepare and
    when the broker is ready.
    """

    #: What the log calls it.
    name = "broker"
    #: How long a start may take to be ready, by default.
    start_seconds = 20.0
    #: The grace period between SIGTERM and SIGKILL.
    stop_seconds = 10.0

    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def prepare(self) -> list[str]:
        """Do whatever must come before a start; the command line that runs the broker."""
        raise NotImplementedError

    def wait_ready(self, timeout: float) -> None:
        """Return once the broker serves clients; by default, once its port accepts them."""
        wait_for_port("127.0.0.1", self.port, timeout)

    def start(self, timeout: float | None = None) -> Self:
        """Start the broker and return once it is ready, within ``timeout`` (by default
        ``start_seconds``); stopped again if it never is."""
        command = self.prepare()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        try:
            self.wait_ready(self.start_seconds if timeout is None else timeout)
        except BaseException:
            self.stop()
            raise
        log.info("%s pid %s on %s", self.name, self._process.pid, self.bootstrap)
        return self

    def exited(self) -> int | None:
        """The child's exit code once it has exited on its own, else None."""
        return self._process.poll() if self._process is not None else None

    def stop(self, timeout: float | None = None) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``, by default
        ``stop_seconds``); a no-op when it is not running."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, self.stop_seconds if timeout is None else timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
