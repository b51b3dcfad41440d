"""The adaptive batch window as a pure policy: quiet streams write at once, busy ones batch."""

from __future__ import annotations

import pytest

from streams.window import BatchWindow

WINDOW = BatchWindow(max_size=1000, max_seconds=0.5, quiet_seconds=0.05)


def test_nothing_buffered_means_waiting_for_an_event() -> None:
    assert WINDOW.wait(0, oldest_age=0.0, idle=9.0) is None


def test_a_lone_event_on_a_quiet_stream_is_written_once_the_quiet_gap_passed() -> None:
    assert WINDOW.wait(1, oldest_age=0.0, idle=0.0) == pytest.approx(0.05)
    assert WINDOW.wait(1, oldest_age=0.03, idle=0.03) == pytest.approx(0.02)
    assert WINDOW.wait(1, oldest_age=0.05, idle=0.05) == 0.0


def test_while_events_keep_coming_the_batch_waits_up_to_its_age_limit() -> None:
    # an event 10 ms ago: not quiet, so wait for the quiet gap (40 ms more) ...
    assert WINDOW.wait(400, oldest_age=0.3, idle=0.01) == pytest.approx(0.04)
    # ... but never past max_seconds after the first event
    assert WINDOW.wait(400, oldest_age=0.48, idle=0.01) == pytest.approx(0.02)
    assert WINDOW.wait(400, oldest_age=0.5, idle=0.0) == 0.0
    assert WINDOW.wait(400, oldest_age=0.7, idle=0.0) == 0.0


def test_a_full_batch_is_written_at_once_however_young() -> None:
    assert WINDOW.wait(1000, oldest_age=0.0, idle=0.0) == 0.0
    assert WINDOW.wait(1001, oldest_age=0.0, idle=0.0) == 0.0


@pytest.mark.parametrize(
    ("size", "seconds", "quiet"), [(0, 0.5, 0.05), (10, 0.0, 0.05), (10, 0.5, 0.0)]
)
def test_bounds_must_be_positive(size: int, seconds: float, quiet: float) -> None:
    with pytest.raises(ValueError, match="positive bounds"):
        BatchWindow(size, seconds, quiet)
