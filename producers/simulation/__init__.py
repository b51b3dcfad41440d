"""The simulator's parts; the public entry points are in :mod:`producers.simulator`.

- ``spec``: what to simulate (period, events, seed, fault fractions, registry, clock).
- ``calendar``: months, working days and the partners' monthly reporting rhythm.
- ``operation``: the 2006 Kazakhstan operation as data (population groups, activity streams).
- ``payloads``: each kind's payload, with 2006 prices and typical quantities.
- ``refs``: seeded pools of fake registration ids and their keyed hashes.
- ``records``: messages, drafts of event versions, the canonical JSON encoding.
- ``generate``: valid base events (pure: a seeded ``random.Random`` in, dicts out).
- ``faults``: duplicates, corrections, retractions and late reports.
- ``invalid``: messages that each break the contract in exactly one known way.
- ``truth``: the expected totals, dead letters and overlaps, from the simulator's bookkeeping.
- ``publish``: sending prepared bytes with a plain kafka-python producer.
"""
