"""The baseline of the pipeline benchmark: a Faust agent that only deserialises uplinks.

Run as its own process, like a worker: `python -m benchmarks.pipeline.bare_agent
BOOTSTRAP TOPIC GROUP COUNT`. It reads TOPIC from the start, parses every raw uplink
envelope, and prints `consumed COUNT in SECONDS` once COUNT were read (timed from the
first one); the benchmark then stops it.
"""

from __future__ import annotations

import sys
import time

import faust

from models.uplink import RawUplink


def main(bootstrap: str, topic_name: str, group: str, count: int) -> None:
    app = faust.App(
        group,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        broker_session_timeout=10,
        broker_rebalance_timeout=10,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
    )
    topic = app.topic(topic_name, internal=False)

    @app.agent(topic)
    async def deserialise(stream: faust.StreamT[bytes]) -> None:
        seen, started = 0, 0.0
        async for value in stream:
            if not seen:
                started = time.perf_counter()
            RawUplink.from_json(value)
            seen += 1
            if seen == count:
                print(f"consumed {count} in {time.perf_counter() - started:.3f}", flush=True)

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
