"""The worker's web server: Faust's aiohttp driver with a listen backlog sized for bursts.

aiohttp's ``TCPSite`` listens with a backlog of 128. When 200 clients connect at once while
the event loop is busy with a batch, the kernel's accept queue overflows and drops their SYNs;
each dropped client retries after TCP's 1 s initial timeout, so a cheap ``/status`` answer took
just over a second (``benchmarks/status_load.py`` showed the 1.04 s cluster). A backlog of
:data:`BACKLOG` holds such a burst (the kernel caps it at ``net.core.somaxconn``, 4096 on
current Linux). Selected with Faust's ``web`` setting (``hub-aiohttp://``), registered under
the ``faust.web.drivers`` entry point group in ``pyproject.toml``: Faust's own plug-in point
for web drivers.
"""

from __future__ import annotations

from aiohttp.web import BaseSite, TCPSite
from faust.web.drivers.aiohttp import Web as AiohttpWeb

#: Pending connections the listening socket holds.
BACKLOG = 1024
#: Faust's ``web`` setting that selects this driver.
WEB_DRIVER_URL = "hub-aiohttp://"


class Web(AiohttpWeb):
    """Faust's aiohttp web driver, listening with ``backlog=BACKLOG``."""

    def _new_transport_tcp(self) -> BaseSite:
        conf = self.app.conf
        return TCPSite(
            self._runner,
            conf.web_bind,
            conf.web_port,
            ssl_context=conf.web_ssl_context,
            backlog=BACKLOG,
        )
