"""Memory of a process as the kernel reports it, shared by the benchmark scripts."""

from __future__ import annotations

from pathlib import Path


def memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """Resident and peak resident memory (VmRSS, VmHWM) of a live process, in MiB.

    VmHWM, not ``ru_maxrss``: the latter keeps the parent's peak across fork and exec.
    """
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss, hwm = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    return rss, hwm
