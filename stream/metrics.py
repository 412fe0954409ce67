"""Prometheus metrics of the worker, served at /metrics by its web server."""

from prometheus_client import Counter, Gauge, Histogram

UPLINKS_TAKEN = Counter("smati_uplinks_total", "Raw uplinks taken by the uplinks agent")
READINGS_DECODED = Counter(
    "smati_readings_decoded_total", "Readings decoded and validated from the raw uplinks"
)
READINGS_STORED = Counter("smati_readings_stored_total", "Readings newly written to the database")
DEAD_LETTERS = Counter(
    "smati_dead_letters_total", "Messages sent to the dead-letter topic", ["stage", "code"]
)
DETECTIONS = Counter("smati_detections_total", "Detection events emitted", ["kind"])
USAGES_BY_STATUS = Gauge(
    "smati_usages", "Usages of the partitions this worker owns, by transmission status", ["status"]
)
HORIZON_LAG = Gauge(
    "smati_processing_horizon_lag_seconds",
    "Wall clock minus the time before which every published uplink has been checked",
)
RADIO_FRAMES_REPEATED = Counter(
    "smati_radio_frames_repeated_total",
    "Radio frames dropped as already received (several gateways, integrations or retries)",
    ["source"],
)
BATCH_SECONDS = Histogram(
    "smati_batch_seconds",
    "Time a batch spends in each step: check (decode and rules, the event loop busy), "
    "commit (database and Kafka writes, overlapping the next check), wait (the next check "
    "held until the previous commit is done)",
    ["step"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
