"""A roll-up's HTML as headless Chromium renders it: a PNG screenshot and the rendered DOM.

    python -m rollups.screenshot rollup-2006-03-v1.html rollup-2006-03-v1.png

Uses Debian's ``chromium`` (``apt-get install -y chromium``), with a fresh profile and every
background service off, so a run fetches nothing and leaves nothing behind. The report has
no script, so the DOM Chromium prints is the page as a reader sees it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Flags for a quiet, self-contained headless run (no network, no profile reuse).
FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str | None:
    """The Chromium binary on ``PATH``, if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(html: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="partnerhub-chromium-") as profile:
        result = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args, html.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result


def screenshot(
    html: Path, png: Path, *, width: int = 1280, height: int = 7000, timeout: float = 120.0
) -> Path:
    """Render ``html`` at ``width`` x ``height`` CSS pixels into ``png``; return ``png``."""
    png.unlink(missing_ok=True)
    _run(html, f"--screenshot={png.resolve()}", f"--window-size={width},{height}", timeout=timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png


def rendered_dom(html: Path, timeout: float = 120.0) -> str:
    """The document as Chromium parsed and laid it out (``--dump-dom``)."""
    return _run(html, "--dump-dom", timeout=timeout).stdout


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    print(screenshot(Path(argv[0]), Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
