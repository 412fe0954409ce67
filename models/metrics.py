"""Every Prometheus metric of SMATI, in one place: the connectors', the worker's, the API's.

One registry of names (prometheus_client's default one, with its `process_*` metrics:
memory, CPU, open files), served at `/metrics` by each process; each process fills the
metrics of its own part. Names follow Prometheus's conventions: `smati_` prefix, base
units, `_total` for counters, `_seconds` for durations. The README's metrics table lists
them with what they mean.
"""

from prometheus_client import Counter, Gauge, Histogram

# The edge: MQTT and webhooks connectors.
UPLINKS_RECEIVED = Counter(
    "smati_uplinks_received_total", "Messages a connector received, by source", ["source"]
)
UPLINKS_PUBLISHED = Counter(
    "smati_uplinks_published_total",
    "Raw uplinks Kafka confirmed to a connector, by source",
    ["source"],
)
UPLINKS_REFUSED = Counter(
    "smati_uplinks_refused_total",
    "Messages a connector refused, by source and reason (a dead-letter code, or "
    "`unauthorized` for a webhook without its tenant's secret)",
    ["source", "reason"],
)
KAFKA_PRODUCE_ERRORS = Counter(
    "smati_kafka_produce_errors_total",
    "Records Kafka did not confirm after the client's retries, by topic",
    ["topic"],
)


def watch_produce_errors(*topics: str) -> None:
    """Show each topic's produce errors at 0 before the first: a series that exists only
    once something failed cannot be told from a process that does not count them."""
    for topic in topics:
        KAFKA_PRODUCE_ERRORS.labels(topic=topic)


MQTT_CONNECTED = Gauge("smati_mqtt_connected", "1 while connected to the MQTT broker, else 0")
WEBHOOK_REQUESTS = Counter(
    "smati_webhook_requests_total", "Webhook requests answered", ["source", "status"]
)

# The worker.
UPLINKS_CHECKED = Counter("smati_uplinks_checked_total", "Raw uplinks taken by the uplinks agent")
READINGS_DECODED = Counter(
    "smati_readings_decoded_total", "Readings decoded and validated from the raw uplinks"
)
READINGS_STORED = Counter("smati_readings_stored_total", "Readings newly written to the database")
TENANT_LAST_HEARD = Gauge(
    "smati_tenant_last_heard_timestamp_seconds",
    "When a raw uplink of the tenant's devices was last published to Kafka (Unix time)",
    ["tenant"],
)
DEAD_LETTERS = Counter(
    "smati_dead_letters_total", "Messages sent to the dead-letter topic", ["stage", "code"]
)
DETECTIONS = Counter("smati_detections_total", "Detection events emitted", ["kind"])
USAGES_BY_STATUS = Gauge(
    "smati_usages", "Usages of the partitions this worker owns, by transmission status", ["status"]
)
OPEN_GAPS = Gauge("smati_open_gaps", "Usages of the partitions this worker owns with a gap open")
HORIZON_LAG = Gauge(
    "smati_processing_horizon_lag_seconds",
    "Wall clock minus the time before which every published uplink has been checked",
)
CONSUMER_LAG = Gauge(
    "smati_consumer_lag_messages",
    "End offset minus the group's committed offset, per partition this worker owns",
    ["topic", "partition"],
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
END_TO_END_SECONDS = Histogram(
    "smati_end_to_end_latency_seconds",
    "From a raw uplink's Kafka timestamp to its readings stored in the database",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
DATABASE_WRITE_SECONDS = Histogram(
    "smati_database_write_seconds",
    "Time of one write to the database (a batch's rows or states), by table",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DATABASE_WRITE_ERRORS = Counter(
    "smati_database_write_errors_total",
    "Writes the database failed (unreachable, or refusing the rows), by table",
    ["table"],
)

# The HTTP API.
API_REQUESTS = Counter(
    "smati_api_requests_total",
    "Requests the API answered, by method, route template and status",
    ["method", "route", "status"],
)

# The alarms' notifier (`smati alerting run --metrics-port`).
NOTIFIED_ALERTS = Counter(
    "smati_notifications_alerts_total", "alerts posted to Alertmanager", ["state"]
)
NOTIFIED_SILENCES = Counter(
    "smati_notifications_silences_total", "silences of acknowledged alarms", ["action"]
)
NOTIFIED_ESCALATIONS = Counter("smati_notifications_escalations_total", "escalation levels reached")
NOTIFICATION_PASSES = Counter(
    "smati_notifications_passes_total", "passes over every alarm still open or pending"
)
OPEN_ALARMS = Gauge(
    "smati_alarms_open",
    "Alarms open (not cleared), by status (active_unack, active_ack) and severity, counted "
    "in the database at each notifier pass",
    ["status", "severity"],
)
NOTIFICATION_FAILURES = Counter(
    "smati_notifications_failures_total", "passes that failed (Alertmanager, database)"
)
