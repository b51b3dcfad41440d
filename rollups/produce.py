"""Make a month's roll-up: compute it, store it as a version, and write its outputs.

This is the one path both the CLI (``partnerhub rollup``) and the worker's schedule take.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from disclosure.keys import published_hash
from rollups.compute import TIMELY_DAYS, Rollup, compute_rollup
from rollups.published import store_publication
from rollups.render_csv import csv_file_text
from rollups.render_html import render_html
from rollups.render_hxl import render_hxl
from rollups.render_xlsx import render_xlsx
from rollups.report import Report, build_report
from rollups.settings import RollupSettings
from rollups.store import Version, save
from schemas.labels import Language
from schemas.refdata import targets
from streams.clock import Clock
from warehouse.client import Warehouse

log = logging.getLogger(__name__)

#: Called with the name of each step as it starts (for a progress bar).
Progress = Callable[[str], None]

#: The steps :func:`run_rollup` reports, in order (the last four only with an output folder).
STEPS: tuple[str, ...] = ("compute", "store", "csv", "hxl", "xlsx", "html")


@dataclass(frozen=True)
class RollupRun:
    """What one run did: the roll-up, the version in force, whether this run wrote it, the
    report and the files written (by format)."""

    rollup: Rollup
    version: Version
    created: bool
    report: Report
    files: dict[str, Path] = field(default_factory=dict)


def file_names(month: str, version: int) -> dict[str, str]:
    """The output file names of a version, by format."""
    stem = f"rollup-{month}-v{version}"
    return {
        "csv": f"{stem}.csv",
        "hxl": f"{stem}-hxl.csv",
        "xlsx": f"{stem}.xlsx",
        "html": f"{stem}.html",
        "sha256": f"{stem}.sha256",
    }


def write_outputs(
    report: Report,
    folder: Path,
    progress: Progress | None = None,
    *,
    language: Language = "en",
    template_dirs: Sequence[Path] = (),
) -> dict[str, Path]:
    """Write the CSV, HXL CSV, XLSX and HTML of ``report`` into ``folder``; return their paths.

    The CSV starts with a UTF-8 byte-order mark, so that Excel reads Cyrillic names right
    (the version's checksum is of the exact CSV, without it); the HTML is in ``language``,
    from the first of ``template_dirs`` holding the office's template, else the packaged one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / name for fmt, name in file_names(report.month, report.version).items()}
    html = functools.partial(render_html, language=language, template_dirs=template_dirs)
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda path: _write_text(path, csv_file_text(report.publication)),
        "hxl": lambda path: _write_text(path, render_hxl(report)),
        "xlsx": lambda path: render_xlsx(report, path),
        "html": lambda path: _write_text(path, html(report)),
    }
    for fmt, write in writers.items():
        if progress:
            progress(fmt)
        write(paths[fmt])
    # The published files' checksums, in sha256sum's format: what a reader verifies.
    manifest = "".join(
        f"{published_hash(paths[fmt].read_bytes())}  {paths[fmt].name}\n" for fmt in writers
    )
    _write_text(paths["sha256"], manifest)
    log.info("wrote roll-up %s version %d to %s", report.month, report.version, folder)
    return paths


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))  # bytes: no newline translation, ever


def run_rollup(
    wh: Warehouse,
    settings: RollupSettings,
    month: str,
    *,
    clock: Clock,
    created_by: str,
    out_dir: Path | None = None,
    timely_days: int = TIMELY_DAYS,
    progress: Progress | None = None,
    language: Language = "en",
) -> RollupRun:
    """Compute ``month`` (which must have ended), store it as its next version unless nothing
    changed, and write its outputs into ``out_dir`` when given. Raises
    :class:`rollups.compute.RollupError` for a month not yet ended.

    Only computing and storing use ``wh``; a caller that shares the warehouse with others (the
    worker) passes no ``out_dir`` and renders with :func:`write_outputs` after releasing it."""
    now = clock()
    if progress:
        progress("compute")
    registry = settings.registry
    rollup = compute_rollup(
        wh, month, registry=registry, targets=targets(), now=now, timely_days=timely_days
    )
    if progress:
        progress("store")
    version, created = save(wh, rollup, created_at=now, created_by=created_by, key=settings.hub_key)
    names = {code: partner.name for code, partner in registry.items()}
    report = build_report(rollup, version, settings.sgbv_threshold, partner_names=names)
    store_publication(wh, report.publication, version.version)
    files = (
        write_outputs(
            report,
            out_dir,
            progress,
            language=language,
            template_dirs=settings.template_dirs(),
        )
        if out_dir is not None
        else {}
    )
    return RollupRun(rollup, version, created, report, files)
