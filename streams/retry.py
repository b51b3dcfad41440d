"""How the sink waits between attempts at a batch: exponential backoff, forever.

tenacity (a well-kept library) replaces the hand-written backoff loop: it gives the wait
schedule, the stop rule and the retry rule as named, tested pieces, and runs the callback the
sink needs between attempts. Giving up is never right here: an un-written batch must stay
un-acked, so the only stop is success (or the worker being cancelled, which is not an
``Exception`` and is never retried).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_never,
    wait_exponential,
)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Waits ``first`` seconds after the first failure, doubling up to ``longest``."""

    first: float = 0.2
    longest: float = 10.0
    #: How to wait (tests pass one that records the waits and returns at once).
    sleep: Sleep = field(default=asyncio.sleep)

    def retrying(self, between: Callable[[RetryCallState], Awaitable[None]]) -> AsyncRetrying:
        """A tenacity controller that retries any ``Exception`` and awaits ``between`` after
        each failed attempt (``state.outcome`` holds the error, ``state.upcoming_sleep`` the
        wait to come)."""
        return AsyncRetrying(
            sleep=self.sleep,
            stop=stop_never,
            wait=wait_exponential(multiplier=self.first, max=self.longest),
            retry=retry_if_exception_type(Exception),
            before_sleep=between,
            reraise=True,
        )
