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


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a live process has used so far (all its threads), in seconds."""
    import os

    # /proc/<pid>/stat: the command may hold spaces, so split after its closing parenthesis.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
