"""Monthly roll-ups: computed from the facts, reconciled with the aggregates, stored as
versions, and published (HTML, CSV, XLSX, HXL) with SGBV small numbers suppressed.

See ``docs/rollups.md``. Entry points: :func:`rollups.produce.run_rollup` (one month, on
demand) and :func:`rollups.schedule.run_due_rollups` (what the worker schedules).
"""
