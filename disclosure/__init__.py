"""SGBV statistical disclosure control: the one engine that decides every SGBV figure that
leaves the hub (roll-ups, CLI, status, metrics, Grafana). It depends on ``schemas`` only, so
every layer above can import it; see ``docs/sgbv.md``."""
