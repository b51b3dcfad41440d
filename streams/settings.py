"""The worker part of the hub's settings (``PARTNERHUB_WORKER__<FIELD>``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WorkerSettings(BaseModel):
    #: A sink batch is written when it holds this many events, or is this old, or no event
    #: came for ``batch_quiet_seconds``, whichever first (``streams/window.py``); the next one
    #: is taken while it is written (``streams/ingest.py``).
    batch_size: int = Field(5000, ge=1)
    batch_seconds: float = Field(0.5, gt=0)
    batch_quiet_seconds: float = Field(0.05, gt=0)
    #: Port of the worker's status API (``/status``, ``/metrics``).
    web_port: int = Field(6066, ge=0, le=65535)
    #: Address the status API binds to (``0.0.0.0`` inside a container).
    web_host: str = "127.0.0.1"
    #: Host names the status API answers to (the ``Host`` header, port left out); any other
    #: is refused, so a web page elsewhere cannot read it through DNS rebinding. Add the
    #: name others reach it by (e.g. ``worker`` in the compose network).
    web_allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    #: How often the status API's lag and warehouse figures are measured, in seconds (each
    #: lag measurement opens two Kafka clients: not every second).
    status_refresh_seconds: float = Field(5.0, gt=0)
    #: A partner with no report for this many days raises a silent-partner alert.
    silent_days: int = Field(45, ge=1)
    #: How often the leader checks for silent partners, in seconds.
    silent_check_seconds: float = Field(300.0, gt=0)
    #: The month's roll-up is run this many days after the month ends.
    rollup_after_days: int = Field(5, ge=0)
    #: How often the leader looks for roll-ups due (new months, late corrections), in seconds.
    rollup_check_seconds: float = Field(3600.0, gt=0)
