"""Running the gateway on uvicorn: in the foreground (``partnerhub gateway``) or in a thread.

uvicorn (h11) gives the slow-client and connection limits: ``timeout_keep_alive`` closes idle
keep-alive connections, ``limit_concurrency`` answers 503 past that many connections, and the
gateway's own body timeout (:mod:`.body`) ends a client that sends its body too slowly.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from producers.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def config(app: FastAPI, settings: GatewaySettings, *, port: int | None = None) -> uvicorn.Config:
    """uvicorn's configuration for the gateway (access log off: the gateway logs by token id)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        timeout_keep_alive=int(settings.keep_alive_seconds),
        limit_concurrency=settings.max_connections,
        access_log=False,
        log_level="warning",
        lifespan="off",
        server_header=False,
    )


class ServerThread:
    """uvicorn in a daemon thread; ``url`` once started. A context manager."""

    def __init__(self, app: FastAPI, settings: GatewaySettings, *, port: int | None = None) -> None:
        self.server = uvicorn.Server(config(app, settings, port=port))
        self._thread = threading.Thread(target=self.server.run, name="gateway", daemon=True)
        self.settings = settings

    @property
    def url(self) -> str:
        cfg = self.server.config
        return f"http://{cfg.host}:{cfg.port}"

    def start(self, timeout: float = 30.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the gateway stopped while starting (port in use?)")
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
