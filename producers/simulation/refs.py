"""Seeded pools of fake registration ids, hashed the way partners hash them, and who used which.

Each (group, region) has a pool of case registration ids (one per household), hashed with
HMAC-SHA256 under a demo key, as ``producers.refs.beneficiary_ref`` does with a partner's key.
Within one month and assistance category a case is normally served by one partner only; a
small share of events deliberately adds cases another partner already served (the duplication
of assistance the hub must flag).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random

#: The key the simulator's partners share. Real partners hold the operation's secret key.
DEMO_KEY = b"partnerhub-simulator-demo-key-2006"
#: Share of assistance events with refs that also include 1-3 cases another partner served.
OVERLAP_SHARE = 0.05
MIN_POOL = 8


@functools.cache
def pool(group: str, region: str, size: int) -> tuple[str, ...]:
    """The refs of ``size`` fake cases of ``group`` living in ``region``."""
    prefix = f"KZ06-{group.upper()}-{region[-2:]}"
    return tuple(
        hmac.new(DEMO_KEY, f"{prefix}-{i:05d}".encode(), hashlib.sha256).hexdigest()
        for i in range(size)
    )


def pool_size(group_size: int, share: float, case_size: float) -> int:
    """Cases of a group in one region: people there over persons per case."""
    return max(MIN_POOL, round(group_size * share / case_size))


class RefLedger:
    """Which partner served which case, per month and assistance category."""

    def __init__(self) -> None:
        self._served: dict[tuple[int, str, str, str], dict[str, str]] = {}
        #: Refs deliberately added to an event although another partner served them.
        self.deliberate = 0

    def draw(
        self,
        rng: random.Random,
        refs: tuple[str, ...],
        wanted: int,
        where: tuple[int, str, str, str],
        partner: str,
    ) -> list[str]:
        """Up to ``wanted`` refs nobody served yet at ``where`` (month, category, group,
        region), now served by ``partner``; sometimes plus a few served by another partner.
        """
        served = self._served.setdefault(where, {})
        take = min(wanted, len(refs))
        candidates = rng.sample(refs, min(len(refs), 2 * take + 8))
        chosen = [ref for ref in candidates if ref not in served][:take]
        for ref in chosen:
            served[ref] = partner
        if rng.random() < OVERLAP_SHARE:
            others = [ref for ref, by in served.items() if by != partner and ref not in chosen]
            if others:
                extra = rng.sample(others, min(len(others), rng.randint(1, 3)))
                chosen.extend(extra)
                self.deliberate += len(extra)
        return sorted(chosen)
