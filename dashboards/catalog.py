"""Every dashboard the hub ships, in the order Grafana lists them."""

from __future__ import annotations

from dashboards.common import Context
from dashboards.coordination import assistance, hiv_training, income_generation, overview
from dashboards.model import Dashboard
from dashboards.protection import protection
from dashboards.quality import data_quality, pipeline_health
from dashboards.sgbv import sgbv
from dashboards.solutions import durable_solutions


def dashboards(ctx: Context) -> list[Dashboard]:
    """All dashboards for ``ctx``; uids are stable and unique."""
    built = [
        overview(ctx),
        assistance(ctx),
        income_generation(ctx),
        sgbv(ctx),
        hiv_training(ctx),
        durable_solutions(ctx),
        protection(ctx),
        data_quality(ctx),
        pipeline_health(ctx),
    ]
    uids = [d.uid for d in built]
    if len(set(uids)) != len(uids):
        raise ValueError(f"dashboard uids repeat: {uids}")
    return built
