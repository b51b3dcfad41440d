"""Child processes and ports on loopback: what every local service runner needs.

Shared by the Tansu runner, the Apache Kafka runner and the embedded stack: a free port, waiting
for a port to accept connections, stopping a child (SIGTERM, then SIGKILL), and the pre-exec hook
that puts a child in its own process group with a parent-death signal so that it never outlives
the process that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time

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
