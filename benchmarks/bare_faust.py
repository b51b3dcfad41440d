"""Reference: a bare Faust agent that only json-decodes and counts (Faust's per-message ceiling).

    python benchmarks/bare_faust.py GROUP EXPECTED RESULT_FILE [--take N]

Settings come from the environment like the hub worker's (``partnerhub.stack.child_env``), and
the app gets exactly the worker's Faust options (``streams.app.faust_options``) under its own
app id, so its consumer group is fresh. The agent iterates message by message (auto-ack), or
with ``--take N`` in batches of ``N`` through ``Stream.take_events`` as the hub's agent does.
Once ``EXPECTED`` messages are counted it writes ``{"events", "first_batch", "seconds",
"peak_rss_mb"}`` as JSON to ``RESULT_FILE`` and exits at once. The seconds run from the first
message (or batch) counted to the last.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import faust
from procstat import memory_mb  # a sibling module: scripts run from benchmarks/

from partnerhub.settings import HubSettings
from streams.app import faust_options, partner_topics


def build_app(group: str, expected: int, result_file: Path, take: int | None) -> faust.App:
    """The bare app: one agent over the hub's partner topics that decodes and counts."""
    settings = HubSettings()
    options = {
        **faust_options(settings.kafka, settings.worker, settings.data_dir),
        "web_enabled": False,
    }
    app = faust.App(group, **options)
    topic = app.topic(*partner_topics(settings.registry()), value_serializer="raw")
    state: dict[str, Any] = {"n": 0, "first": None, "first_batch": 0}

    def counted(n: int) -> None:
        if state["first"] is None:
            state["first"], state["first_batch"] = time.perf_counter(), n
        state["n"] += n
        if state["n"] >= expected:
            finish()

    def finish() -> None:
        seconds = time.perf_counter() - state["first"]
        peak = memory_mb()[1]
        result = {
            "events": state["n"],
            "first_batch": state["first_batch"],
            "seconds": seconds,
            "peak_rss_mb": peak,
        }
        result_file.write_text(json.dumps(result))
        # Done: nothing of this reference needs a clean shutdown (its group is never reused).
        os._exit(0)

    @app.agent(topic, name="bare")
    async def bare(stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)
        if take is None:
            async for value in stream:
                json.loads(value)
                counted(1)
        else:
            async for events in stream.take_events(take, within=0.5):
                for event in events:
                    json.loads(event.message.value or b"")
                counted(len(events))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group", help="Faust app id = consumer group (use a fresh one)")
    parser.add_argument("expected", type=int, help="messages to count before stopping")
    parser.add_argument("result_file", type=Path)
    parser.add_argument("--take", type=int, default=None, help="take_events batches of N")
    args = parser.parse_args()
    app = build_app(args.group, args.expected, args.result_file, args.take)
    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
