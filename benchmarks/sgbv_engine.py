"""What the SGBV disclosure engine costs: one month's publication (primary and complementary
suppression, audited by linear programming) against primary suppression alone.

    python benchmarks/sgbv_engine.py [--quick] [--seed N]

For months of growing size (SGBV events in the month, spread over four regions like the
simulated operation's), prints the seconds the engine takes, the seconds primary suppression
alone takes (the baseline: the same grain, no audit), their ratio, the figures withheld by
each, and how many linear programmes the engine solved.
"""

from __future__ import annotations

import argparse
import logging
import random
import time

from disclosure.engine import publish_sgbv
from disclosure.grain import Domain, Record, exact_value, figure_keys
from schemas.vocabulary import CELLS

REGIONS = ("KZ-75", "KZ-19", "KZ-71", "KZ-79", "KZ-55", "KZ-63")
INDICATORS = (
    "case_response.rape",
    "case_response.physical_assault",
    "case_response.psychological_abuse",
    "case_response.denial_of_resources",
    "referral",
    "prevention_session",
    "training",
)


def month(rng: random.Random, events: int) -> list[Record]:
    sums: dict[tuple[str, str, str], tuple[int, list[int]]] = {}
    for _ in range(events):
        indicator = rng.choice(INDICATORS)
        key = (rng.choice(REGIONS), indicator, rng.choice(("refugee", "asylum_seeker", "returnee")))
        people = rng.randint(5, 20) if indicator in ("prevention_session", "training") else 1
        count, cells = sums.get(key, (0, [0] * len(CELLS)))
        for _ in range(people):
            cells[rng.choice((3, 3, 3, 2, 8, 4))] += 1
        sums[key] = (count + 1, cells)
    return [Record(r, i, p, n, tuple(c)) for (r, i, p), (n, c) in sorted(sums.items())]


class _Solves(logging.Handler):
    audits = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.args and isinstance(record.args, tuple) and len(record.args) > 5:
            self.audits = int(record.args[5])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small months only")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = (20, 60) if args.quick else (20, 60, 150, 400)
    handler = _Solves()
    engine_log = logging.getLogger("disclosure.engine")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    domain = Domain.reference()
    print(f"{'SGBV events':>12} {'engine s':>9} {'primary s':>10} {'ratio':>7}"
          f" {'withheld':>9} {'primary':>8} {'audits':>7}")  # fmt: skip
    for size in sizes:
        records = month(random.Random(args.seed + size), size)
        started = time.perf_counter()
        publication = publish_sgbv(records, 5, domain=domain)
        engine = time.perf_counter() - started
        started = time.perf_counter()
        primary = sum(0 < exact_value(k, records) < 5 for k in figure_keys(domain))
        baseline = time.perf_counter() - started
        print(f"{size:>12} {engine:>9.2f} {baseline:>10.3f} {engine / baseline:>7.0f}"
              f" {publication.withheld:>9} {primary:>8} {handler.audits:>7}")  # fmt: skip


if __name__ == "__main__":
    main()
