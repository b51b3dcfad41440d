"""chdb's folder lock, as the embedded warehouse meets it (see docs/warehouse.md).

chdb keeps an exclusive ``flock`` on ``<folder>/status`` while its engine runs: one process per
folder, and one folder per process. These tests hold a folder from a real child process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.client import (
    EmbeddedWarehouse,
    ServerWarehouse,
    StatementFailed,
    WarehouseUnavailable,
    lock_holder,
)

pytestmark = pytest.mark.clickhouse

HOLDER = """
import sys
from pathlib import Path
from warehouse.client import EmbeddedWarehouse

wh = EmbeddedWarehouse(Path(sys.argv[1]))
wh.command("CREATE TABLE IF NOT EXISTS marks (n UInt8) ENGINE = MergeTree ORDER BY n")
wh.insert("marks", {"n": [42]})
print("ready", flush=True)
sys.stdin.read()  # hold the folder until killed or stdin closes
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A warehouse folder held by a child process that has written one row."""
    folder = tmp_path / "chdb"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", "the holder did not start"
            yield folder, child
        finally:
            child.kill()
            child.wait(timeout=30)


def test_a_folder_held_by_another_process_is_unavailable(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    folder, child = held
    assert lock_holder(folder) == child.pid
    with pytest.raises(WarehouseUnavailable, match=f"in use by process {child.pid}"):
        EmbeddedWarehouse(folder)
    with pytest.raises(WarehouseUnavailable, match=f"in use by process {child.pid}"):
        ServerWarehouse(f"chdb://{folder}")


def test_the_lock_is_released_when_the_holder_is_killed(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    folder, child = held
    child.kill()  # SIGKILL: no chance to close anything
    child.wait(timeout=30)
    assert lock_holder(folder) is None
    with EmbeddedWarehouse(folder) as wh:
        assert wh.query("SELECT n FROM marks") == [{"n": 42}]


def test_sessions_of_one_process_share_a_folder(tmp_path: Path) -> None:
    first = EmbeddedWarehouse(tmp_path / "chdb")
    second = EmbeddedWarehouse(tmp_path / "chdb")
    try:
        first.command("CREATE TABLE t (n UInt8) ENGINE = MergeTree ORDER BY n")
        first.insert("t", {"n": [1]})
        assert second.query("SELECT n FROM t") == [{"n": 1}]
        first.close()
        second.insert("t", {"n": [2]})
        assert second.query("SELECT n FROM t ORDER BY n") == [{"n": 1}, {"n": 2}]
    finally:
        first.close()
        second.close()


def test_a_second_folder_in_one_process_is_refused_as_a_bug(tmp_path: Path) -> None:
    with (
        EmbeddedWarehouse(tmp_path / "one"),
        pytest.raises(StatementFailed, match="one folder per process"),
    ):
        EmbeddedWarehouse(tmp_path / "two")
    with EmbeddedWarehouse(tmp_path / "two") as wh:  # free again once the first is closed
        assert wh.query("SELECT 1 AS one") == [{"one": 1}]
